"""Test configuration: a deterministic hypothesis profile without deadlines."""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("copos", deadline=None, max_examples=25, derandomize=True)
settings.load_profile("copos")
