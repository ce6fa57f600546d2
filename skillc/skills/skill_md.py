"""SKILL.md: Agent Skills front matter plus a human summary of the graph.

Example:
    >>> text = render_front_matter("add-two", "Add two numbers.", "0.1.0", "Apache-2.0")
    >>> read_front_matter(text)["name"]
    'add-two'
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import yaml

from skillc.core.errors import SkillFolderError

if TYPE_CHECKING:
    from skillc.core.spec import SkillSpec

MAX_DESCRIPTION = 1024


def render_front_matter(name: str, description: str, version: str, license: str) -> str:
    meta = {
        "name": name,
        "description": description[:MAX_DESCRIPTION],
        "license": license,
        "metadata": {"version": version, "skillc-format": "1"},
    }
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n"


def read_front_matter(text: str) -> dict[str, Any]:
    """Parse the YAML front matter of a SKILL.md."""
    if not text.startswith("---\n"):
        raise SkillFolderError("SKILL.md has no front matter (it must start with ---)")
    end = text.find("\n---", 4)
    if end == -1:
        raise SkillFolderError("SKILL.md front matter is not closed with ---")
    try:
        data = yaml.safe_load(text[4:end])
    except yaml.YAMLError as exc:
        raise SkillFolderError(f"SKILL.md front matter is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not data.get("name") or not data.get("description"):
        raise SkillFolderError("SKILL.md front matter needs `name` and `description`")
    if len(str(data["description"])) > MAX_DESCRIPTION:
        raise SkillFolderError(f"SKILL.md description is longer than {MAX_DESCRIPTION} characters")
    return data


def render_skill_md(spec: SkillSpec, mermaid: str, license: str = "Apache-2.0") -> str:
    """The whole SKILL.md for a spec."""
    lines = [render_front_matter(spec.name, spec.task, spec.version, license), f"# {spec.name}", "", spec.task, ""]
    if spec.provenance:
        p = spec.provenance
        lines += [f"Compiled by skillc {p.skillc_version} from teacher `{p.teacher}` on {p.compiled_at[:10]}.", ""]
    lines += [
        "Run it with a cheap student; failed steps escalate to the teacher:",
        "",
        "```bash",
        f"skillc run skills/{spec.name} --input '{json.dumps(dict.fromkeys(spec.input_fields, '...'))}' "
        "--student URI --teacher URI",
        "```",
        "",
        "## Steps",
        "",
        "| # | step | primitive | reads | writes | check | on fail |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i, s in enumerate(spec.steps, 1):
        check = f"{s.check.kind}: {s.check.expr or s.check.by}" if s.check else "contract"
        lines.append(
            f"| {i} | `{s.id}` | {s.primitive} | {', '.join(s.reads)} | {', '.join(s.writes)} | "
            f"{check.replace('|', '/')} | {' → '.join(s.on_fail)} |"
        )
    lines += ["", "## Graph", "", "```mermaid", mermaid.strip(), "```", ""]
    if spec.failure_modes:
        lines += ["## Failure modes", ""]
        lines += [f"- **{f.name}**: when {f.when} → {f.action}. {f.description}".rstrip() for f in spec.failure_modes]
        lines.append("")
    if spec.provenance and spec.provenance.search:
        lines += search_table(spec.provenance.search, spec.provenance.student)
    return "\n".join(lines)


def search_table(search: dict[str, Any], student: str | None) -> list[str]:
    """The compile's search as Markdown: every candidate's dev score on the student, and the one kept.

    >>> search_table({"kept": "vote · k=8", "why": "best", "splits": {"train": 8, "dev": 4, "seed": 0},
    ...     "raw_student": {"dev_correct": 1, "dev_items": 4, "dev_accuracy": 0.25},
    ...     "candidates": [{"candidate": "vote · k=8", "status": "scored", "dev_correct": 3, "dev_items": 4,
    ...                     "dev_accuracy": 0.75, "student_calls": 0, "tokens_per_item": [0, 0], "seconds": 0.2}]},
    ...     "local:student")[-2]
    '| **vote · k=8** (kept) | 3/4 = 75% | 0 | 0/0 | 0 |'
    """
    splits = search.get("splits") or {}
    raw = search.get("raw_student") or {}
    out = ["## How it was chosen", "",
           f"Candidates scored on {splits.get('dev', '?')} held-out labelled items with the student `{student}` "
           f"(bank: {splits.get('train', '?')} labelled items, seed {splits.get('seed', 0)}). Kept: "
           f"**{search.get('kept')}**: {search.get('why', '')}.", "",
           "| candidate | dev right | student calls | tokens/item in/out | s |", "| --- | --- | --- | --- | --- |"]

    def cell(row: dict[str, Any]) -> str:
        if not row.get("dev_items"):
            return str(row.get("status", ""))
        note = "" if row.get("status", "scored") == "scored" else f" ({row['status']})"
        return f"{row['dev_correct']}/{row['dev_items']} = {row['dev_accuracy']:.0%}{note}"

    rows = ([{**raw, "candidate": "raw student (one call)"}] if raw else []) + list(search.get("candidates", []))
    for row in rows:
        name = f"**{row['candidate']}** (kept)" if row["candidate"] == search.get("kept") else row["candidate"]
        tin, tout = row.get("tokens_per_item") or [0, 0]
        out.append(f"| {name} | {cell(row)} | {row.get('student_calls', 0)} | {tin:.0f}/{tout:.0f} | {row.get('seconds', 0):.0f} |")
    out.append("")
    return out
