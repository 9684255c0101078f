"""Convex programs of the training problem, one module per program; each reports bounds on p*."""
