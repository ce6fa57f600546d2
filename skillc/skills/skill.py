"""`Skill`: a compiled skill in memory, its folder on disk, and running it.

A skill folder is data only: loading parses JSON and YAML and checks sha256 hashes; nothing in it
is executed, and nothing is unpickled.

Example:
    >>> import tempfile
    >>> from skillc.core.spec import SkillSpec
    >>> spec = SkillSpec.model_validate({"name": "mul", "task": "Multiply two numbers.", "entry": "total",
    ...     "input_schema": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}},
    ...     "output_schema": {"type": "object", "properties": {"total": {"type": "number"}}},
    ...     "steps": [{"id": "total", "primitive": "compute", "instruction": "a times b", "reads": ["a", "b"],
    ...                "writes": ["total"], "expression": "a * b", "next": "END",
    ...                "contract": {"type": "object", "properties": {"total": {"type": "number"}}}}]})
    >>> folder = Skill(spec).save(tempfile.mkdtemp() + "/mul")
    >>> Skill.load(folder).run({"a": 6, "b": 7}).output
    {'total': 42}
"""

from __future__ import annotations

import re
import threading
import uuid
from pathlib import Path
from typing import Any

from langgraph.graph import StateGraph
from pydantic import ValidationError

from skillc.adapters.calls import estimate_messages_tokens
from skillc.core.errors import SkillFolderError
from skillc.core.files import atomic_write_text, read_json
from skillc.core.manifest import (
    MANIFEST,
    is_local_state,
    manifest_digest,
    read_manifest,
    verify_manifest,
    write_manifest,
)
from skillc.core.report import EvalReport, read_report
from skillc.core.spec import SkillSpec
from skillc.core.task import check_inputs, validate_against
from skillc.core.trace import RunResult, StepRecord, summarize, trace_records
from skillc.graphs.builder import build_graph, drawable
from skillc.graphs.config import RunConfig
from skillc.graphs.prompts import task_messages
from skillc.graphs.state import ERROR, TRACE
from skillc.graphs.step_cache import run_marking_cached
from skillc.skills.bank import INDEX, INDEX_META, LOCK, ExampleBank, folder_lock
from skillc.skills.display import skill_html, skill_markdown
from skillc.skills.dropin import as_node, as_subgraph, as_tool
from skillc.skills.skill_md import read_front_matter, render_skill_md

SKILL_MD, SKILL_JSON, EXAMPLES, EVAL = "SKILL.md", "skill.json", "examples.jsonl", "eval.json"
ORIGIN = "origin.json"  # written by `skillc pull`: registry, name, version, digest, signer
EVAL_PNG = "eval.png"  # the cost–quality curve `skillc eval` draws beside eval.json
BANK_FILES = (INDEX, INDEX_META, LOCK)
_LAZY_INIT = threading.RLock()  # guards the lazy bank of every skill (held only while a bank is first opened)
_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class Skill:
    """A compiled skill: its spec, the teacher's worked examples and its last evaluation.

    Args:
        spec: the SkillSpec.
        examples: example-bank records (the teacher's worked steps).
        evaluation: the last eval report, if any.
        path: the folder it was loaded from or saved to.
    """

    def __init__(
        self,
        spec: SkillSpec,
        examples: list[dict[str, Any]] | None = None,
        evaluation: EvalReport | dict[str, Any] | None = None,
        path: Path | None = None,
        license: str = "Apache-2.0",
    ) -> None:
        self.spec = spec
        self.examples = examples or []
        self.evaluation = EvalReport.model_validate(evaluation) if isinstance(evaluation, dict) else evaluation
        self.path = path
        self.license = license
        self._compiled: dict[tuple[Any, ...], Any] = {}
        self._bank: ExampleBank | None = None
        self.origin: dict[str, Any] | None = None  # where a pulled skill came from (registry, version, digest)
        self.digest: str | None = None  # sha256 of the canonical manifest, once saved or loaded

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def bank(self) -> ExampleBank:
        """The example bank: the folder's (JSONL + FAISS index) once saved or loaded, else in memory."""
        if self._bank is not None:
            return self._bank
        with _LAZY_INIT:  # a batch run's threads share one skill: one bank, not one per thread
            if self._bank is None:
                growth = self.spec.growth
                if self.path is not None and (self.path / EXAMPLES).exists():
                    bank = ExampleBank(self.path, grow=growth.enabled, max_records=growth.max_records)
                else:
                    bank = ExampleBank(grow=growth.enabled, max_records=growth.max_records)
                    bank.add(self.examples, check=False)
                self._bank, self.examples = bank, bank.records
            return self._bank

    def replace(self, **changes: Any) -> Skill:
        """A copy with `changes` applied (`spec`, `examples`, `evaluation`, `path`, `license`).

        The copy shares nothing mutable with this skill; with `path` kept, its bank is the folder's.

        >>> from skillc.core.spec import SkillSpec
        >>> s = Skill(SkillSpec.model_validate({"name": "a", "task": "t", "entry": "x",
        ...     "input_schema": {"type": "object", "properties": {"a": {}}},
        ...     "output_schema": {"type": "object", "properties": {"b": {}}},
        ...     "steps": [{"id": "x", "primitive": "compute", "instruction": "i", "reads": ["a"], "writes": ["b"],
        ...                "expression": "a", "next": "END", "contract": {"type": "object"}}]}))
        >>> s.replace(license="MIT").license, s.license
        ('MIT', 'Apache-2.0')
        """
        fields = {"spec": self.spec, "examples": None if self.path else list(self.examples),
                  "evaluation": self.evaluation, "path": self.path, "license": self.license, **changes}
        copy = Skill(**fields)
        if fields["path"] is None and "examples" not in changes and self._bank is not None and not self._bank.growth_enabled:
            copy._bank = self._bank  # an in-memory bank that cannot grow: the same records, embedded once
            copy.examples = self._bank.records
        return copy

    def graph(self, student: Any = None, teacher: Any = None, *, config: RunConfig | None = None,
              **options: Any) -> StateGraph:
        """The skill as a langgraph `StateGraph` builder; compile it with your own checkpointer.

        Models and `escalation=` / `prices=` may be given here or as one `config=RunConfig(...)`.
        """
        return build_graph(self.spec, RunConfig.of(config, student=student, teacher=teacher, **options), bank=self.bank,
                           cache_salt=self.digest)

    def as_subgraph(self, student: Any = None, teacher: Any = None, *, config: RunConfig | None = None,
                    **options: Any) -> Any:
        """The skill compiled as a subgraph for a parent that shares its keys (see `skillc.skills.dropin`)."""
        return as_subgraph(self, RunConfig.of(config, student=student, teacher=teacher, **options))

    def as_node(self, student: Any = None, teacher: Any = None, *, config: RunConfig | None = None,
                input_map: dict[str, str] | None = None, output_map: dict[str, str] | None = None, **options: Any) -> Any:
        """A node function with `input_map` / `output_map` for a parent that names things differently."""
        return as_node(self, RunConfig.of(config, student=student, teacher=teacher, **options),
                       input_map=input_map, output_map=output_map)

    def as_tool(self, student: Any = None, teacher: Any = None, *, config: RunConfig | None = None,
                name: str | None = None, **options: Any) -> Any:
        """A LangChain `StructuredTool` for `create_agent` or a `ToolNode`."""
        return as_tool(self, RunConfig.of(config, student=student, teacher=teacher, **options), name=name)

    def mermaid(self) -> str:
        """Mermaid text of the graph (offline)."""
        return drawable(self.graph().compile()).draw_mermaid()

    def ascii(self) -> str:
        """ASCII drawing of the graph (offline, via grandalf); retry/escalate self-loops are left out."""
        return drawable(self.graph().compile(), self_loops=False).draw_ascii()

    def _repr_html_(self) -> str:
        """Jupyter display: name, description, steps, graph (offline ASCII + mermaid text), last eval."""
        return skill_html(self)

    def _repr_markdown_(self) -> str:
        """Jupyter display as Markdown (same content as `_repr_html_`)."""
        return skill_markdown(self)

    def run(self, inputs: dict[str, Any], student: Any = None, teacher: Any = None, *,
            config: RunConfig | None = None, **options: Any) -> RunResult:
        """Run the skill once on `inputs` and return the output (or typed error) with its trace and cost.

        Models and `escalation=` / `prices=` may be given here or as one `config=RunConfig(...)`.
        """
        config = RunConfig.of(config, student=student, teacher=teacher, **options)
        check_inputs(inputs, config.limits(self.spec.limits).max_input_bytes)
        validate_against(inputs, self.spec.input_schema, "input")
        graph = self._compiled_graph(config)
        limit = 10 + sum((s.max_visits * (s.max_retries + 4)) for s in self.spec.steps) * 2
        run_config = {"recursion_limit": limit, "run_id": uuid.uuid4(),
                      "configurable": config.invoke_config(self.spec.limits, self.spec.budget, self.name)}
        final = (run_marking_cached(graph, dict(inputs), run_config) if config.cache is not None
                 else graph.invoke(dict(inputs), run_config))
        trace = trace_records(final.get(TRACE) or [])
        error = final.get(ERROR)
        if "__interrupt__" in final and error is None:
            question = final["__interrupt__"][0].value
            error = {"kind": "needs_input", "step": question.get("step"), "message": str(question.get("question"))}
        output = {k: final.get(k) for k in self.spec.output_fields}
        baseline = self.teacher_baseline_usd(inputs, trace, config)
        return summarize(trace, output=output, error=error, baseline_usd=baseline, skill=self.ref())

    def ref(self) -> dict[str, Any]:
        """Which skill this is, for traces: name, version, manifest digest and (when pulled) registry."""
        ref: dict[str, Any] = {"name": self.name, "version": self.spec.version}
        if self.digest:
            ref["digest"] = self.digest
        if self.origin:
            ref["registry"] = self.origin.get("registry")
        return ref

    def _compiled_graph(self, config: RunConfig) -> Any:
        """The compiled graph for this configuration, built once and reused across runs (batch hot path)."""
        models = tuple(m if isinstance(m, (str, type(None))) else id(m) for m in (config.student, config.teacher, config.peer))
        key = (*models, config.escalation, id(config.prices), id(self.spec), id(self._bank), self.digest,
               config.cache if isinstance(config.cache, (str, type(None))) else id(config.cache))
        if key not in self._compiled:
            self._compiled = {key: self.graph(config=config).compile(cache=config.step_cache())}
        return self._compiled[key]

    def teacher_baseline_usd(self, inputs: dict[str, Any], trace: list[StepRecord], config: RunConfig) -> float:
        """Estimated cost of the teacher doing this task alone, in one call, on these inputs."""
        handle = config.handle("teacher")
        if handle is None or handle.kind == "local":
            return 0.0
        from langchain_core.messages import convert_to_messages

        prompt = convert_to_messages(task_messages(self.spec.task, inputs, self.spec.output_schema))
        out_tokens = self.spec.baseline_output_tokens or sum(r.output_tokens for r in trace)
        return config.prices.cost(handle.name, estimate_messages_tokens(prompt), out_tokens)

    def save(self, folder: str | Path) -> Path:
        """Write the skill folder (SKILL.md, skill.json, examples.jsonl, eval.json, manifest.json)."""
        folder = Path(folder)
        name = folder.name
        if not _NAME.match(name) or len(name) > 64:
            raise SkillFolderError(
                f"{folder}: a skill folder name must be lowercase letters, digits and single hyphens (≤64)"
            )
        if name != self.spec.name:
            self.spec = self.spec.model_copy(update={"name": name})
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.iterdir():
            known = (SKILL_MD, SKILL_JSON, EXAMPLES, EVAL, EVAL_PNG, MANIFEST, *BANK_FILES)
            if stale.is_file() and stale.name not in known and not is_local_state(stale.name):
                raise SkillFolderError(f"{stale}: unexpected file in the skill folder; remove it first")
        atomic_write_text(folder / SKILL_JSON, self.spec.model_dump_json(indent=2, exclude_none=True) + "\n")
        in_place = self.path is not None and self.path.resolve() == folder.resolve() and (folder / EXAMPLES).exists()
        if not in_place:  # saved where it was loaded from, the bank is already there (it writes through)
            self._bank = self.bank.save(folder)
        self.examples = self.bank.records
        if self.evaluation is not None:
            atomic_write_text(folder / EVAL, self.evaluation.to_json())
        atomic_write_text(folder / SKILL_MD, render_skill_md(self.spec, self.mermaid(), self.license))
        self.digest = manifest_digest(write_manifest(folder))
        self.path = folder
        return folder

    @classmethod
    def load(cls, folder: str | Path, *, verify: bool = True) -> Skill:
        """Load a skill folder, verifying manifest.json first (a tampered folder is refused)."""
        folder = Path(folder)
        if not folder.is_dir():
            raise SkillFolderError(f"{folder}: no such skill folder")
        if verify:
            with folder_lock(folder):  # a bank growing in another process rewrites the manifest under this lock
                verify_manifest(folder)
        try:
            front = read_front_matter(_utf8(folder / SKILL_MD))
            spec = SkillSpec.model_validate_json((folder / SKILL_JSON).read_bytes())
        except FileNotFoundError as exc:
            raise SkillFolderError(f"{folder}: missing {Path(exc.filename).name}") from None
        except ValidationError as exc:
            raise SkillFolderError(f"{folder / SKILL_JSON}: not a valid SkillSpec: {exc.errors()[0]['msg']}") from None
        if front["name"] != folder.name or spec.name != folder.name:
            raise SkillFolderError(
                f"{folder}: SKILL.md names the skill {front['name']!r} and skill.json {spec.name!r}, "
                f"but the folder is {folder.name!r}; they must agree"
            )
        problems = spec.problems()
        if problems:
            raise SkillFolderError(f"{folder / SKILL_JSON}: invalid graph: {'; '.join(problems)}")
        evaluation = read_report(folder / EVAL) if (folder / EVAL).exists() else None
        skill = cls(spec, None, evaluation, folder, str(front.get("license", "Apache-2.0")))
        _ = skill.bank  # reads examples.jsonl now, so a corrupt bank is refused at load
        manifest = read_manifest(folder)
        skill.digest = manifest_digest(manifest) if manifest is not None else None
        skill.origin = _origin(folder, skill.digest)
        return skill


def _origin(folder: Path, digest: str | None) -> dict[str, Any] | None:
    """`origin.json` (written by `skillc pull`), trusted only when its digest is the folder's own."""
    path = folder / ORIGIN
    if not path.exists():
        return None
    try:
        origin = read_json(path.read_bytes(), path)
    except SkillFolderError:
        return None
    return origin if isinstance(origin, dict) and origin.get("digest") == digest else None


def _utf8(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SkillFolderError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from None


def load_skill(folder: str | Path) -> Skill:
    """Load and verify a skill folder (alias of `Skill.load`)."""
    return Skill.load(folder)
