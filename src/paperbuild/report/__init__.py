"""Reports on a project: the status line and its tables, the HTML check report."""
