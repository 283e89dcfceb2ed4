"""Grouping friction signals into issues and ranking them by impact."""
