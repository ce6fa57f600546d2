"""Scripted teacher and student for the eval tests, a saved invoice skill and a small labelled dataset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage

from skillc.core.spec import SkillSpec
from skillc.skills.skill import Skill
from tests.fakes import ScriptedChatModel, json_reply, step_of

# text -> (kind, quantity, unit_price, total)
DOCS: dict[str, tuple[str, float, float, float | None]] = {
    "INVOICE #7. 3 widgets at $4.50 each. Total due: $13.50": ("invoice", 3, 4.5, 13.5),
    "Dear Bob, see you at lunch.": ("other", 0, 0, None),
    "INVOICE #9. 2 lamps at $10 each. Total due: $20": ("invoice", 2, 10, 20),
    "INVOICE #11. 5 mugs at $3 each. Total due: $15": ("invoice", 5, 3, 15),
}
ITEMS: list[dict[str, Any]] = [
    {"input": {"text": t}, "expected": {"kind": k} | ({"total": total} if total is not None else {}),
     "category": "invoice" if k == "invoice" else "letter", "difficulty": "hard" if "lamps" in t else "easy"}
    for t, (k, _, _, total) in DOCS.items()
]


def _doc(messages: list[BaseMessage]) -> tuple[str, tuple[str, float, float, float | None]]:
    text = "\n".join(m.text for m in messages)  # the input comes after any few-shot demos: take the last
    found = max(DOCS, key=text.rfind)
    if text.rfind(found) < 0:
        raise AssertionError("prompt about an unknown document")
    return found, DOCS[found]


class Killer:
    """A backend that dies: raises a transport-like error from the call numbered `at` (1-based) on; `None` never."""

    def __init__(self, at: int | None = None) -> None:
        self.at, self.calls = at, 0

    def tick(self) -> None:
        self.calls += 1
        if self.at is not None and self.calls >= self.at:
            raise ConnectionError("killed")


def student_model(killer: Killer | None = None) -> ScriptedChatModel:
    """Right on every step except the lamps invoice's fields (its check fails); one-shot: wrong totals."""
    killer = killer or Killer()

    def reply(messages: list[BaseMessage]) -> str:
        killer.tick()
        doc, (kind, q, p, total) = _doc(messages)
        step = step_of(messages)
        if step == "kind":
            return json_reply(kind=kind)
        if step == "fields":
            return json_reply(quantity=q, unit_price=p, stated_total=(30 if "lamps" in doc else total))
        return json_reply(kind=kind) if kind == "other" else json_reply(kind=kind, total=0)

    return ScriptedChatModel(script=reply, model_label="gpt-4o-mini")


def teacher_model(killer: Killer | None = None, verdicts: list[str] | None = None) -> ScriptedChatModel:
    """Right on everything; as a judge it answers from `verdicts` in order (default: compares totals)."""
    killer = killer or Killer()
    queue = list(verdicts or [])

    def reply(messages: list[BaseMessage]) -> str:
        killer.tick()
        text = "\n".join(m.text for m in messages)
        if "Reference answer:" in text:
            if queue:
                return queue.pop(0)
            ref = json.loads(text.split("Reference answer: ", 1)[1].splitlines()[0])
            cand = json.loads(text.split("Candidate answer: ", 1)[1].splitlines()[0])
            same = cand.get("total") == ref.get("total") and cand.get("kind") == ref.get("kind")
            return json.dumps({"correct": same, "reason": "compared kind and total"})
        _, (kind, q, p, total) = _doc(messages)
        step = step_of(messages)
        if step == "kind":
            return json_reply(kind=kind)
        if step == "fields":
            return json_reply(quantity=q, unit_price=p, stated_total=total)
        return json_reply(kind=kind, total=total) if total is not None else json_reply(kind=kind)

    return ScriptedChatModel(script=reply, model_label="gpt-4o")


def save_skill(spec: SkillSpec, folder: Path) -> Skill:
    skill = Skill(spec)
    skill.save(folder)
    return Skill.load(folder)


def write_dataset(path: Path, items: list[dict[str, Any]] = ITEMS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    return path
