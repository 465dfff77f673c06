"""Deterministic normalisers of the security_events task."""
