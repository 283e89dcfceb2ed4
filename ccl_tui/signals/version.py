"""The detectors' version, stored with every detection: bump it when detection changes what it finds, so
stored signals are computed again. Its own module, so reading it does not load the detectors."""

DETECTOR_VERSION = 3  # 3: Claude Code edit-tool failure classes
