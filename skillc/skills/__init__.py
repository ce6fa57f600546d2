"""The artifact: a compiled skill in memory and on disk, its example bank, and its LangGraph drop-ins.

`Skill` / `load_skill` (the folder: SKILL.md, skill.json, examples.jsonl, index.faiss, eval.json, manifest),
`ExampleBank` (JSONL + native FAISS index), the quality filter that guards the bank, and the exports.
"""

from skillc.skills.bank import ExampleBank
from skillc.skills.quality import QualityFilter, blocklist_from_jsonl
from skillc.skills.skill import Skill, load_skill

__all__ = ["ExampleBank", "QualityFilter", "Skill", "blocklist_from_jsonl", "load_skill"]
