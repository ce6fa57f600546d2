"""Benchmarks on the public API: GSM8K against the recorded GPT-4 teacher (`gsm8k`)."""
