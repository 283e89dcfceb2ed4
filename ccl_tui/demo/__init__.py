"""Deterministic generator of the bundled demo corpus."""
