"""Loading a project: outline.yaml, the chapters (front matter, markers), the bibliography."""
