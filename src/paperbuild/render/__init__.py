"""Renderers: the assembled Document to DOCX and PDF."""
