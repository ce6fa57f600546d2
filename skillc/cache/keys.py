"""The key of a cached step answer: everything the answer depends on, as the sha256 of canonical JSON.

A new skill version (its manifest digest), another step, another model or sampling setting, other input values
or other demos each make another key, so an old entry is never served to a changed skill.

Example:
    >>> a = step_cache_key("sha256:ab", "extract", {"model": "local:student", "temperature": 0.0}, {"text": "x"}, [])
    >>> b = step_cache_key("sha256:ab", "extract", {"model": "local:tiny", "temperature": 0.0}, {"text": "x"}, [])
    >>> len(a), a != b
    (64, True)
"""

from __future__ import annotations

from typing import Any

from skillc.core.files import json_digest

KEY_VERSION = 1  # bumped when the key's parts change


def step_cache_key(skill_digest: str, step: str, model: dict[str, Any], inputs: dict[str, Any],
                   demos: list[dict[str, Any]]) -> str:
    """sha256 (hex) over (skill manifest digest, step id, model and sampling settings, the values read, the demos)."""
    return json_digest({"v": KEY_VERSION, "skill": skill_digest, "step": step, "model": model, "inputs": inputs,
                        "demos": [[d.get("input"), d.get("output")] for d in demos]})
