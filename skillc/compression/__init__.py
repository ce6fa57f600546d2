"""Prompt compression under a token budget (LLMLingua-2)."""
