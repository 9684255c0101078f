"""Certificates of global optimality: the dual norm σ(Z), the certificate, certify and verify."""
