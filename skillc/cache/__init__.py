"""Repeated work costs nothing: cache keys for skill steps and the guard a semantic (nearest-input) hit must pass.

Example:
    >>> from skillc.cache import guard_refuses
    >>> guard_refuses("Total of invoice INV-7 for $120?", "Total of invoice INV-7 for $125?")
    'numbers differ: 120 vs 125'
"""

from skillc.cache.guard import anchors, guard_refuses
from skillc.cache.keys import step_cache_key

__all__ = ["anchors", "guard_refuses", "step_cache_key"]
