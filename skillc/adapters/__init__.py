"""Model backends: one URI names a model anywhere; every call is accounted (tokens, cost, latency).

URI schemes resolve through a small registry (`models.register_scheme`); the embedded llama.cpp runtime
(`adapters.local`) registers `local:` as a plug-in through the `skillc.models` entry point. Also prices,
token counting, embeddings, JSON output parsing and the `replay:` model of recorded teacher outputs.
"""
