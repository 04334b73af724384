"""Fusion networks trained by fusionbench: models, fusion rules and inference."""
