"""Architectures: what the hidden layer sees of the data, and the network's forward map."""
