"""SkillSpec → LangGraph `StateGraph`: step nodes per primitive, prompts, checks, confidence signals,
failure edges (retry, simplify, ask, escalate, give up) and few-shot demos. `build_graph` is the entry.
"""
