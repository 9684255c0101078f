"""Adversarial test suite: attacks that must never yield a false verdict or a mislabelled bound."""
