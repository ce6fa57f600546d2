"""SkillSpec → LangGraph: state, primitives, checks, failure edges."""
