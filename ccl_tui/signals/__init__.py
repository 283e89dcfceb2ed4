"""Friction and delight detectors over a session's ordered events."""
