"""Reusable widgets. Every string that may come from a transcript is rendered as plain text."""
