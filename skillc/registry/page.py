"""The registry's browsable pages: the list of skills, and per skill its graph, steps, eval and pull command.

Rendered on the server from the stored files (SKILL.md, skill.json, eval.json, eval.png of each version),
with every value escaped; the graph is drawn as ASCII text offline (no script, no external asset).

Example:
    >>> import tempfile, pathlib
    >>> "No skill has been published" in index_page(RegistryStore(pathlib.Path(tempfile.mkdtemp())))
    True
"""

from __future__ import annotations

import html
import json
from typing import Any

from skillc.core.errors import SkillcError
from skillc.core.spec import SkillSpec
from skillc.registry.layout import RegistryStore
from skillc.skills.display import step_rows
from skillc.skills.skill import Skill

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;color:#1b1f24;padding:0 1rem}
h1{font-size:1.6rem}table{border-collapse:collapse;margin:1rem 0;width:100%}
th,td{border:1px solid #d0d7de;padding:.35rem .6rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#f6f8fa}pre{background:#f6f8fa;padding:.8rem;overflow:auto;font-size:.8rem}
code{background:#f6f8fa;padding:.1rem .3rem}.tag{background:#ddf4ff;border-radius:1rem;padding:.1rem .5rem;margin-right:.3rem}
img{max-width:100%;border:1px solid #d0d7de}
"""


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{body}</body></html>")


def index_page(store: RegistryStore) -> str:
    """Every skill: name (a link to its page), description, latest version, tags, and the pull command."""
    skills = store.index().get("skills", [])
    if not skills:
        return _page("skillc registry", "<h1>skillc registry</h1><p>No skill has been published yet.</p>")
    rows = []
    for s in skills:
        name = html.escape(s["name"])
        tags = "".join(f"<span class=tag>{html.escape(t)}</span>" for t in s.get("tags", {}))
        rows.append(f"<tr><td><a href='skill/{name}'>{name}</a></td><td>{html.escape(s.get('description', ''))}</td>"
                    f"<td>{html.escape(s.get('version', ''))}</td><td>{tags}</td>"
                    f"<td><code>skillc pull {name}@{html.escape(s.get('version', ''))}</code></td></tr>")
    table = ("<table id=skills><tr><th>skill</th><th>description</th><th>latest</th><th>tags</th><th>pull</th></tr>"
             + "".join(rows) + "</table>")
    return _page("skillc registry", f"<h1>skillc registry</h1><p>{len(skills)} skill(s).</p>{table}"
                 "<p>Agent Skills discovery index: <a href='.well-known/agent-skills/index.json'>"
                 ".well-known/agent-skills/index.json</a></p>")


def skill_page(store: RegistryStore, name: str) -> str:
    """One skill's latest version: description, versions and tags, graph, steps, eval table and curve, pull."""
    data = store.versions(name)
    info = store.resolve(name, None)
    base = f"skills/{info.name}/{info.version}"
    spec = SkillSpec.model_validate_json(store.read(f"{base}/skill.json"))
    skill = Skill(spec)
    try:
        drawing = skill.ascii()
    except (SkillcError, ValueError, ImportError) as exc:  # a graph the layout cannot draw still gets its page
        drawing = f"(graph not drawable: {exc})"
    steps = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row.values()) + "</tr>"
                    for row in step_rows(skill))
    step_head = "".join(f"<th>{html.escape(k)}</th>" for k in (step_rows(skill)[0] if spec.steps else {}))
    versions = "".join(
        f"<tr><td>{html.escape(v)}</td><td><code>{html.escape(i['digest'])}</code></td><td>{html.escape(i['published_at'])}</td>"
        f"<td>{html.escape(i.get('signed_by') or 'unsigned')}</td></tr>" for v, i in sorted(data["versions"].items()))
    tags = " ".join(f"<span class=tag>{html.escape(t)} → {html.escape(v)}</span>" for t, v in data.get("tags", {}).items())
    body = [f"<h1 id=name>{html.escape(info.name)} <small>{html.escape(info.version)}</small></h1>",
            f"<p id=description>{html.escape(data.get('description', ''))}</p><p>{tags}</p>",
            f"<p>Pull: <code id=pull>skillc pull {html.escape(info.name)}@{html.escape(info.version)} --registry URL --out skills/</code>"
            f" · by digest: <code>skillc pull {html.escape(info.name)}@{html.escape(info.digest)}</code></p>",
            "<h2>Graph</h2>", f"<pre id=graph>{html.escape(drawing)}</pre>",
            "<h2>Steps</h2>", f"<table id=steps><tr>{step_head}</tr>{steps}</table>",
            "<h2>Evaluation</h2>", _eval_section(store, base),
            "<h2>Versions</h2>", f"<table id=versions><tr><th>version</th><th>digest</th><th>published</th><th>signed by</th></tr>{versions}</table>",
            "<p><a href='../'>all skills</a></p>"]
    return _page(f"{info.name} · skillc registry", "".join(body))


def _eval_section(store: RegistryStore, base: str) -> str:
    try:
        report: dict[str, Any] = json.loads(store.read(f"{base}/eval.json"))
    except (SkillcError, ValueError):
        return "<p id=eval>No evaluation was published with this version.</p>"
    rows = "".join(
        f"<tr><td>{html.escape(str(r.get('condition')))}</td><td>{float(r.get('accuracy', 0)):.0%}</td>"
        f"<td>{float(r.get('escalation_rate', 0)):.0%}</td><td>{float(r.get('cost_per_item_usd', 0)):.6f}</td></tr>"
        for r in report.get("conditions", []))
    retention = (report.get("retention") or {}).get("points")
    summary = f"<p>{int(report.get('items', 0))} items, metric {html.escape(str(report.get('metric')))}" + (
        f", retention {float(retention):.1f} points" if retention is not None else "") + "</p>"
    image = ""
    try:
        store.read(f"{base}/eval.png")
        image = f"<p><img id=curve alt='cost–quality curve' src='../{base}/eval.png'></p>"
    except SkillcError:
        pass
    return (f"<div id=eval>{summary}<table><tr><th>condition</th><th>accuracy</th><th>escalated</th><th>$/item</th></tr>"
            f"{rows}</table>{image}</div>")
