"""The training problem and the networks: data, architectures, arrangements, training."""
