"""Prompt compression under a token budget (LLMLingua). Sits between the model adapters and the graphs:
a step compresses its long inputs and demos before the student call. Empty until the compression issue lands.
"""
