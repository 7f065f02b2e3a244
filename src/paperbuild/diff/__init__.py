"""Redlines: what changed between two drafts, as tracked changes and a per-section summary."""
