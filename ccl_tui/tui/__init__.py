"""The Textual terminal UI. Only calls the core; never runs SQL or parses files."""
