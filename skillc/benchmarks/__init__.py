"""Benchmarks that ship with skillc (`skillc bench ...`)."""
