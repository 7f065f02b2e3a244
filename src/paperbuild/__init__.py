"""paperbuild: hold a structured paper to its outline and build committee-ready drafts."""

__version__ = "0.1.0"
