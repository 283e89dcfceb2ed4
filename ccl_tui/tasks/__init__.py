"""Harbor task materialization: an issue's friction as a reproducible eval task."""
