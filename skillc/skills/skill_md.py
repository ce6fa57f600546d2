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
    return "\n".join(lines)
