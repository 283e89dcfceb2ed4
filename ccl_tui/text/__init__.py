"""Text utilities shared by the core: control-code stripping and secret redaction."""
