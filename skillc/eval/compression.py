"""Adopt prompt compression only when it pays: the skill evaluated with and without it, on the same items.

`evaluate_compression` runs the eval twice — the skill with no compression, then with `settings` on every LLM
step (the one-shot conditions come from the cache the second time, their keys do not depend on the spec) —
and keeps the compressed variant only when its accuracy, without and with escalation, stays within
`tolerance_points` of the uncompressed run. Both runs are recorded in the report's `compression` entry.
`adopt_compression` writes the adopted settings into the skill folder and stores every demo's compressed
text beside its original in the bank, once.

Example:
    >>> verdict_line({"adopted": False, "tolerance_points": 1.0, "uncompressed": {"skill_accuracy": 0.6,
    ...     "input_tokens_per_item": 4000}, "compressed": {"skill_accuracy": 0.5, "input_tokens_per_item": 2000}})
    'compression not adopted: skill accuracy 60% → 50%, input tokens 4,000 → 2,000 per item (tolerance 1.0 pts)'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from skillc.core.errors import InvalidInputError
from skillc.core.report import EvalReport
from skillc.core.spec import Compression
from skillc.eval.evaluate import evaluate_skill
from skillc.graphs.compress import TextCompressor, compress_records, with_compression
from skillc.graphs.config import step_compressor
from skillc.skills.skill import Skill


def _figures(report: EvalReport) -> dict[str, Any]:
    skill, escalated = report.row("skill"), report.row("skill_escalation")
    per = (skill.per_item.get("student") if skill else None)
    return {
        "skill_accuracy": skill.accuracy if skill else None,
        "skill_escalation_accuracy": escalated.accuracy if escalated else None,
        "input_tokens_per_item": per.input_tokens if per else None,
        "seconds_per_item": round(skill.seconds / max(skill.items, 1), 2) if skill and skill.seconds is not None else None,
        "cost_per_item_usd": escalated.cost_per_item_usd if escalated else None,
    }


def _within(before: float | None, after: float | None, points: float) -> bool:
    return before is None or after is None or 100 * (before - after) <= points + 1e-9


def evaluate_compression(skill: Skill, dataset: Any, settings: Compression, *, tolerance_points: float = 1.0,
                         **eval_options: Any) -> tuple[EvalReport, bool]:
    """Evaluate without and with `settings`; return the report of the variant kept (with the `compression`
    entry recording both) and whether compression was adopted. `eval_options` go to `evaluate_skill`."""
    plain = evaluate_skill(skill.replace(spec=with_compression(skill.spec, None)), dataset, **eval_options)
    squeezed = evaluate_skill(skill.replace(spec=with_compression(skill.spec, settings)), dataset, **eval_options)
    before, after = _figures(plain), _figures(squeezed)
    adopted = (_within(before["skill_accuracy"], after["skill_accuracy"], tolerance_points)
               and _within(before["skill_escalation_accuracy"], after["skill_escalation_accuracy"], tolerance_points))
    kept = squeezed if adopted else plain
    kept.compression = {"settings": settings.model_dump(mode="json", exclude_none=True), "tolerance_points": tolerance_points,
                        "adopted": adopted, "uncompressed": before, "compressed": after}
    return kept, adopted


def verdict_line(entry: dict[str, Any]) -> str:
    """One line on what the comparison found."""
    before, after = entry["uncompressed"], entry["compressed"]
    word = "adopted" if entry["adopted"] else "not adopted"
    acc = f"skill accuracy {_pct(before.get('skill_accuracy'))} → {_pct(after.get('skill_accuracy'))}"
    tokens = (f"input tokens {before.get('input_tokens_per_item') or 0:,.0f} → "
              f"{after.get('input_tokens_per_item') or 0:,.0f} per item")
    return f"compression {word}: {acc}, {tokens} (tolerance {entry['tolerance_points']:.1f} pts)"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def adopt_compression(skill: Skill, settings: Compression, compressor: TextCompressor | None = None) -> Skill:
    """The skill with `settings` on its LLM steps, saved in its folder, its demos' compressed text stored in the
    bank beside the originals (compressed once, here)."""
    if skill.path is None:
        raise InvalidInputError("adopting compression needs a saved skill (it rewrites the folder); save it first")
    spec = with_compression(skill.spec, settings)
    compressor = step_compressor(spec, compressor)
    bank = skill.bank
    bank.records[:] = compress_records(spec.steps, bank.records, compressor)
    folder = Path(skill.path)
    adopted = skill.replace(spec=spec)
    adopted._bank = bank.save(folder)
    adopted.save(folder)
    return adopted
