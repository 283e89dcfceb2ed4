"""User configuration: thresholds and impact weights, overridable from a TOML file in the config dir."""
