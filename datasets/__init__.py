"""Dataset descriptors (real benchmark sets and the synthetic generator)."""
