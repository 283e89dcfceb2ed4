"""Reading Codex rollout files: discovery, line reading, and normalization into events."""
