"""Bundled data: scenarios, presets and sample catalogues (see README.md here)."""
