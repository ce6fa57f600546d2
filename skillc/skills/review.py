"""Reviewing the quarantine: promote or reject escalated answers, by hand or with a second model's verdict.

Example (what `skillc bank review` shows and does):
    $ skillc bank review skills/invoice-total                      # list what waits, with its flags
    $ skillc bank review skills/invoice-total --promote 3f2a --reject 9c1e
    $ skillc bank review skills/invoice-total --verify-with openai:gpt-4o
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from skillc.adapters.calls import call_model
from skillc.adapters.json_output import parse_json_object
from skillc.adapters.models import resolve_model
from skillc.core.contracts import contract_errors
from skillc.core.errors import InvalidInputError, MalformedOutputError
from skillc.graphs.prompts import VERIFY_CONTRACT, verify_messages
from skillc.skills.quarantine import instruction_like
from skillc.skills.skill import Skill


@dataclass(frozen=True)
class Verdict:
    """What happened to one quarantined record."""

    id: str
    action: str  # promoted | rejected | kept
    reason: str


def review(skill: Skill, *, promote: list[str] = (), reject: list[str] = (), verify_with: Any = None) -> list[Verdict]:  # type: ignore[assignment]
    """Promote or reject quarantined records of a saved skill by id (a unique prefix will do); with
    `verify_with` (a model URI or chat model), records flagged only for want of a check are promoted when
    that model says the answer is correct. Instruction-like inputs are promoted only by id, by a person.
    """
    if skill.path is None:
        raise InvalidInputError("the skill has no folder; save it first")
    bank = skill.bank
    assert bank.quarantine is not None
    pending = bank.quarantine.pending()
    chosen_promote = {_resolve(i, pending) for i in promote}
    chosen_reject = {_resolve(i, pending) for i in reject}
    verdicts: list[Verdict] = []
    to_promote: list[dict[str, Any]] = []
    for record in pending:
        rid = str(record.get("id"))
        if rid in chosen_reject:
            verdicts.append(Verdict(rid, "rejected", "by the reviewer"))
        elif rid in chosen_promote:
            to_promote.append(record)
            verdicts.append(Verdict(rid, "promoted", "by the reviewer"))
        elif verify_with is not None and not instruction_like(record.get("input")):
            ok, why = _second_opinion(skill, record, verify_with)
            if ok:
                to_promote.append(record)
            verdicts.append(Verdict(rid, "promoted" if ok else "kept", why))
        else:
            verdicts.append(Verdict(rid, "kept", "; ".join(record.get("flags") or []) or "not reviewed"))
    if to_promote:
        bank.promote(to_promote)
    if chosen_reject:
        bank.quarantine.remove(chosen_reject)
    return verdicts


def _resolve(prefix: str, pending: list[dict[str, Any]]) -> str:
    found = [str(r.get("id")) for r in pending if str(r.get("id")).startswith(prefix)]
    if len(found) != 1:
        raise InvalidInputError(f"{prefix!r} matches {len(found)} quarantined records; give a longer id")
    return found[0]


def _second_opinion(skill: Skill, record: dict[str, Any], model: Any) -> tuple[bool, str]:
    """Ask a second model whether the record's answer is right for its step; (verdict, reason)."""
    try:
        step = skill.spec.step(str(record.get("step")))
    except (KeyError, ValueError):
        return False, f"no step {record.get('step')!r} in this skill"
    handle = resolve_model(model)
    call = call_model(handle, verify_messages(skill.spec.task, step, record.get("input") or {}, record.get("output") or {}),
                      json_schema=VERIFY_CONTRACT)
    try:
        verdict = parse_json_object(call.text)
    except MalformedOutputError as exc:
        return False, f"{handle.name}'s verdict was unusable: {exc}"
    if contract_errors(verdict, VERIFY_CONTRACT):
        return False, f"{handle.name}'s verdict broke its contract"
    return bool(verdict["ok"]), f"{handle.name}: {verdict.get('reason') or ('correct' if verdict['ok'] else 'wrong')}"
