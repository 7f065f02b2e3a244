"""Small shared utilities: the build clock, atomic file writes, git."""
