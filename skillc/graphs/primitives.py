"""Step nodes, one factory per kind of primitive.

LLM primitives (extract, classify, transform, verify, compare, search, simplify, ask, escalate) share one
executor: render the fixed prompt, call the model, parse JSON, validate the contract, run the check.
`compute` evaluates an expression with the whitelisting evaluator and no model. `retry` routes back to
an earlier step within its bound. A failed attempt raises `StepFailure`; the node's error handler
(`skillc.graphs.failure`) decides what happens next.

Example:
    >>> from skillc.core.spec import Step
    >>> step = Step(id="total", primitive="compute", instruction="Multiply.", reads=["p", "q"],
    ...             writes=["total"], expression="p * q", next="END",
    ...             contract={"type": "object", "properties": {"total": {"type": "number"}}})
    >>> node = compute_node(step, Executors(task="t"))
    >>> node({"p": 2, "q": 3})["total"]
    6
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from langgraph.graph import END
from langgraph.types import Command, interrupt

from skillc.adapters.calls import CallResult, call_model
from skillc.adapters.json_output import parse_json_object
from skillc.adapters.models import ModelHandle
from skillc.adapters.pricing import PriceTable
from skillc.adapters.tokens import token_counter
from skillc.core.contracts import contract_errors, contract_max_tokens, repeated_run
from skillc.core.errors import (
    BackendUnavailable,
    DeadlineExceeded,
    MalformedOutputError,
    UnsafeExpressionError,
)
from skillc.core.records import new_record
from skillc.core.safe_eval import normalize_math, safe_eval
from skillc.core.spec import END as SPEC_END
from skillc.core.spec import EscalationPolicy, RetrievalPolicy, Step
from skillc.graphs.checks import run_check
from skillc.graphs.compress import (
    TextCompressor,
    compress_inputs,
    compress_records,
    demo_shown,
)
from skillc.graphs.confidence import (
    answer_fields,
    below,
    consistency,
    gate_reasons,
    logprob_confidence,
    majority,
    verify_confidence,
)
from skillc.graphs.config import Escalation, call_limits
from skillc.graphs.demos import DemoBank, demo_messages, teacher_demo_records, teacher_policy
from skillc.graphs.passages import find_passages, query_text
from skillc.graphs.vote import agreement, neighbour_vote
from skillc.graphs.failure import ESCALATE_TASK, FINISH, StepFailure
from skillc.graphs.prompts import (
    simplified_contract,
    step_messages,
    task_messages,
    verify_messages,
)
from skillc.graphs.state import ATTEMPTS, FEEDBACK, MODE, TRACE, VISITS, values_of

log = logging.getLogger(__name__)
Node = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Executors:
    """What step nodes run with: the models, the price table, the escalation mode and the task text."""

    task: str
    student: ModelHandle | None = None
    teacher: ModelHandle | None = None
    prices: PriceTable = field(default_factory=PriceTable)
    escalation: Escalation = "step"
    bank: DemoBank | None = None
    retrieval: RetrievalPolicy = field(default_factory=RetrievalPolicy)
    confidence: EscalationPolicy = field(default_factory=EscalationPolicy)
    compressor: TextCompressor | None = None
    peer: ModelHandle | None = None
    semantic: Any = None  # the SemanticCache of steps with `cache.semantic` (None: no step opts in)
    cache_salt: str = ""  # the skill version, in semantic-cache namespaces
    _counters: dict[int, Callable[[str], int]] = field(default_factory=dict, repr=False, compare=False)

    def model(self, role: str) -> ModelHandle:
        handle = self.teacher if role == "teacher" else self.peer if role == "peer" else self.student
        if handle is None:
            raise BackendUnavailable(f"no {role} model was given to this skill graph")
        return handle

    def token_counter(self, role: str) -> Callable[[str], int]:
        """Tokens of a text as `role`'s model counts them (its own tokenizer where it can tell, else tiktoken)."""
        handle = self.model(role)
        if id(handle) not in self._counters:
            self._counters[id(handle)] = token_counter(handle)
        return self._counters[id(handle)]

    def call(self, role: str, messages: list[Any], schema: dict[str, Any] | None, *, step: str | None = None,
             **kwargs: Any) -> CallResult:
        """One accounted call, within the run's per-call timeout, its deadline and (for the teacher) its budget.

        A teacher call first reserves its cost bound (the prompt's tokens and the reply's cap at the teacher's
        price) with the run's `RunBudget`, which raises `BudgetExceeded` when a limit would break.
        """
        limits = call_limits()
        budget = limits.get("budget") if role == "teacher" else None
        if budget is None:
            return self._call(limits, role, messages, schema, **kwargs)
        reservation = budget.reserve(step, self.cost_bound(role, messages, kwargs.get("max_tokens")))
        spent = 0.0
        try:
            call = self._call(limits, role, messages, schema, **kwargs)
            spent = call.cost_usd
            return call
        finally:
            reservation.settle(spent)

    def cost_bound(self, role: str, messages: list[Any], max_tokens: int | None) -> float:
        """The most a call can cost: its prompt's tokens and `max_tokens` (else 4096) at the model's price."""
        handle = self.model(role)
        if handle.kind == "local":
            return 0.0  # priced by machine time only (local_hourly_usd), settled after the call
        from langchain_core.messages import convert_to_messages

        from skillc.adapters.tokens import estimate_messages_tokens

        return self.prices.cost(handle.name, estimate_messages_tokens(convert_to_messages(messages)), max_tokens or 4096)

    def _call(self, limits: dict[str, Any], role: str, messages: list[Any], schema: dict[str, Any] | None,
              **kwargs: Any) -> CallResult:
        timeout, deadline = limits.get("timeout_s"), limits.get("deadline")
        if deadline is not None:
            remaining = deadline - time.time()
            if remaining <= 0:
                budget = f" of {limits['deadline_s']:g} s" if limits.get("deadline_s") else ""
                raise DeadlineExceeded(f"the run's deadline{budget} passed before the {role} could be asked; "
                                       "raise --deadline (limits.deadline_s) or make the run shorter")
            timeout = remaining if timeout is None else min(timeout, remaining)
        return call_model(self.model(role), messages, prices=self.prices, json_schema=schema, timeout=timeout,
                          deadline=deadline, **kwargs)

    def retrieval_of(self, step: Step) -> RetrievalPolicy:
        """The step's own retrieval policy, else the skill's."""
        return step.retrieval or self.retrieval

    def embeddings(self) -> Any:
        """The embedding model for passages: the bank's, else the offline default."""
        found = getattr(self.bank, "embeddings", None)
        if found is None:
            from skillc.adapters.embeddings import default_embeddings

            found = default_embeddings()
        return found


def node_name(target: str) -> str:
    """Graph node for a spec target (`END` → the finish node)."""
    return FINISH if target == SPEC_END else target


def call_record(step_id: str, primitive: str, role: str, call: CallResult, **extra: Any) -> dict[str, Any]:
    """A trace record of one model call."""
    return {
        "step": step_id,
        "primitive": primitive,
        "role": role,
        "model": call.model,
        "ok": True,
        "input_tokens": call.input_tokens,
        "output_tokens": call.output_tokens,
        "tokens_estimated": call.estimated,
        "cost_usd": call.cost_usd,
        "latency_s": call.latency_s,
        "raw": call.text,
        **extra,
    }


def llm_node(step: Step, ex: Executors) -> Node:
    """Node for an LLM primitive, run by the student (or the teacher once escalated)."""

    def node(state: dict[str, Any]) -> dict[str, Any]:
        _enforce_visits(step, state)
        mode = (state.get(MODE) or {}).get(step.id, "student")
        role = "teacher" if mode == "teacher" or step.primitive == "escalate" else "student"
        values = values_of(state)
        inputs = {k: values.get(k) for k in step.reads}
        contract = simplified_contract(step.contract) if mode == "simplified" else step.contract
        feedback = (state.get(FEEDBACK) or {}).get(step.id)
        shown, squeezed = inputs, {}
        if role == "student" and step.compression is not None and ex.compressor is not None:
            shown, squeezed = compress_inputs(step, inputs, ex.compressor, count=ex.token_counter("student"))
        messages = step_messages(ex.task, step, shown, contract=contract, feedback=feedback)
        if role == "student":
            demos = demo_messages(ex.bank, step.bank_step, inputs, ex.retrieval_of(step),
                                  shown=lambda r: demo_shown(step, r, ex.compressor))
        else:  # an escalated step: the teacher sees the step's demos too (the originals), as on whole-task escalation
            demos = demo_messages(ex.bank, step.bank_step, inputs, teacher_policy(ex.retrieval_of(step)))
        messages = [messages[0], *demos, *messages[1:]]
        semantic = _semantic_namespace(step, ex, mode, feedback)
        if semantic is not None and role == "student":
            hit = ex.semantic.lookup(semantic, inputs, step.cache.semantic)  # type: ignore[union-attr]
            if hit is not None and hit.output is not None:
                record = {"step": step.id, "primitive": step.primitive, "role": "student", "model": ex.model("student").name,
                          "ok": True, "cached": True, "inputs": inputs, "attempt": _attempt(step, state),
                          "raw": json.dumps(hit.output, ensure_ascii=False),
                          "semantic": {"similarity": round(hit.similarity, 4), "input": hit.cached_input}}
                return _finish_step(step, ex, state, dict(hit.output), {w: hit.output.get(w) for w in step.writes},
                                    contract, record)
        signals = _signals(step, ex, role)
        wants_logprobs = "logprobs" in signals and ex.model(role).logprobs
        call = ex.call(role, messages, contract, step=step.id, max_tokens=contract_max_tokens(contract),
                       **({"logprobs": True, "top_logprobs": 1} if wants_logprobs else {}))
        record = call_record(step.id, step.primitive, role, call, inputs=inputs, attempt=_attempt(step, state))
        if demos:
            record["demos"] = len(demos) // 2
        if squeezed:
            record["compression"] = squeezed
        loop = repeated_run(call.text)
        if loop is not None:
            raise StepFailure("degenerate", f"the reply repeats {loop[0][:60]!r} {loop[1]}+ times back to back; answer once",
                              record=record, attempt=call.text[:500])
        output = _parse(call, record)
        if step.primitive == "ask":
            reply = interrupt({"step": step.id, "question": output.get("question"), "needs": step.writes})
            output = {**output, **{w: reply for w in step.writes}}
        writes = {w: output.get(w) for w in step.writes}
        update = _finish_step(step, ex, state, output, writes, contract, record)
        gated = role == "student" and step.primitive not in ("ask", "escalate")
        if gated and (signals or ex.confidence.gate is not None):
            _gate(step, ex, signals, messages, contract, call, output, update, {**values_of(state), **writes},
                  attempt=_attempt(step, state))
        if semantic is not None:  # a validated (and, for the student, gated) answer serves later near inputs
            ex.semantic.add(semantic, inputs, {w: output.get(w) for w in step.writes})  # type: ignore[union-attr]
        return update

    return node


def _semantic_namespace(step: Step, ex: Executors, mode: str, feedback: Any) -> str | None:
    """The semantic-cache namespace of a step's first try (skill version, step, student), or None when it has none."""
    if step.cache is None or step.cache.semantic is None or ex.semantic is None or feedback or mode == "simplified":
        return None
    from skillc.cache import step_cache_key

    return step_cache_key(ex.cache_salt, step.id, {"name": ex.model("student").name, "uri": ex.model("student").uri}, {}, [])


def _signals(step: Step, ex: Executors, role: str) -> list[str]:
    """The confidence signals measured on this call: student LLM steps only (not `ask`); `peer` only with a peer."""
    if role != "student" or step.primitive in ("ask", "escalate"):
        return []
    return [s for s in ex.confidence.signals if s != "peer" or ex.peer is not None]


def _gate(step: Step, ex: Executors, signals: list[str], messages: list[Any], contract: dict[str, Any],
          call: CallResult, output: dict[str, Any], update: dict[str, Any], values: dict[str, Any], *,
          attempt: int = 1) -> None:
    """Measure the step's confidence signals into its trace record; below a threshold, fail as `low_confidence`.

    The gate only fails a step that can escalate (escalation on and `escalate` in its `on_fail`); otherwise
    the signals are recorded for the eval's threshold sweep and the answer stands.
    """
    fields = answer_fields(contract, step.writes)
    scores: dict[str, float] = {}
    extra: list[dict[str, Any]] = []
    if "logprobs" in signals:
        value = logprob_confidence(call.text, call.tokens, call.logprobs or [], fields)
        if value is not None:
            scores["logprobs"] = value
    if "consistency" in signals:
        samples = []
        for sample in _sample_calls(ex, messages, contract):
            try:
                parsed: dict[str, Any] | None = parse_json_object(sample.text)
            except MalformedOutputError:
                parsed = None
            samples.append(parsed)
            extra.append(call_record(f"{step.id}.sample", step.primitive, "student", sample, output=parsed))
        if ex.confidence.vote:
            scores["consistency"] = _vote(step, ex, contract, output, samples, fields, update, values)
        else:
            scores["consistency"] = consistency(output, samples, fields)
    if "verify" in signals:
        inputs = {k: values.get(k) for k in step.reads}
        check = ex.call("student", verify_messages(ex.task, step, inputs, output), None)
        extra.append(call_record(f"{step.id}.verify", "verify", "student", check))
        verdict = verify_confidence(check.text)
        if verdict is not None:
            scores["verify"] = verdict
    if "neighbours" in signals:
        inputs = {k: values.get(k) for k in step.reads}
        share = agreement(ex.bank, step.bank_step, inputs, update_answer(update, step), fields, ex.confidence.neighbours)
        if share is not None:
            scores["neighbours"] = share
    if "peer" in signals:
        peer = _peer_agreement(step, ex, messages, contract, update_answer(update, step), fields, extra)
        if peer is not None:
            scores["peer"] = peer
    trace = update[TRACE]
    trace[0] = {**trace[0], "confidence": scores}
    trace.extend(extra)
    can_escalate = ex.escalation != "off" and "escalate" in step.on_fail
    reasons = (below(scores, ex.confidence.thresholds) + gate_reasons(ex.confidence.gate, {**scores, "check": 1 / attempt})
               if can_escalate else [])
    if reasons:
        raise StepFailure("low_confidence", "low confidence: " + "; ".join(reasons),
                          record={**trace[0], "_extra": trace[1:]}, attempt=call.text)


def update_answer(update: dict[str, Any], step: Step) -> dict[str, Any]:
    """The answer a step's update writes (after a vote, the majority's)."""
    return {w: update.get(w) for w in step.writes}


def _peer_agreement(step: Step, ex: Executors, messages: list[Any], contract: dict[str, Any], answer: dict[str, Any],
                    fields: list[str], extra: list[dict[str, Any]]) -> float | None:
    """The `peer` signal: 1.0 when the second cheap model, given the same messages, gives the same answer; None
    (not measured) when the peer refuses the request, e.g. a prompt longer than its context."""
    from skillc.core.answers import answers_equal
    from skillc.core.errors import SkillcError

    try:
        call = ex.call("peer", messages, contract, max_tokens=contract_max_tokens(contract))
    except DeadlineExceeded:
        raise
    except SkillcError as exc:
        log.info("peer signal not measured on step %s: %s", step.id, exc)
        return None
    try:
        parsed: dict[str, Any] | None = parse_json_object(call.text)
    except MalformedOutputError:
        parsed = None
    extra.append(call_record(f"{step.id}.peer", step.primitive, "student", call, output=parsed))
    if parsed is None:
        return 0.0
    return float(all(answers_equal(answer.get(f), parsed.get(f), arithmetic=True) for f in fields))


def _sample_calls(ex: Executors, messages: list[Any], contract: dict[str, Any]) -> list[CallResult]:
    """The consistency samples (seeds 1..k), in seed order; as many in flight at once as the student's backend
    serves (`ModelHandle.parallel`), so on an API or a batching server k samples take about the time of one."""

    def one(seed: int) -> CallResult:
        return ex.call("student", messages, contract, temperature=ex.confidence.temperature, seed=seed,
                       max_tokens=contract_max_tokens(contract))

    seeds = range(1, ex.confidence.samples + 1)
    workers = min(ex.model("student").parallel, len(seeds))
    if workers <= 1:
        return [one(seed) for seed in seeds]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="skillc-sample") as pool:
        # each call runs in a copy of this context: the run's limits (timeout, deadline) travel with it
        futures = [pool.submit(contextvars.copy_context().run, one, seed) for seed in seeds]
        return [f.result() for f in futures]


def _vote(step: Step, ex: Executors, contract: dict[str, Any], output: dict[str, Any], samples: list[dict[str, Any] | None],
          fields: list[str], update: dict[str, Any], values: dict[str, Any]) -> float:
    """Self-consistency by vote: the step's writes become the majority answer's (a sample votes only when it meets
    the contract and the step's check); returns the majority's share of all answers."""

    def eligible(sample: dict[str, Any] | None) -> dict[str, Any] | None:
        if sample is None or contract_errors(sample, contract):
            return None
        own = {**values, **{w: sample.get(w) for w in step.writes}}
        if step.check is not None and step.check.kind != "verify" and not all(c.ok for c in run_check(step.check, own)):
            return None
        return sample

    answers = [output, *(eligible(s) for s in samples)]
    best, share = majority(answers, fields)
    trace = update[TRACE]
    trace[0] = {**trace[0], "vote": {"answers": len(answers), "share": share, "chose_sample": best}}
    if best:
        chosen = answers[best] or {}
        update.update({w: chosen.get(w) for w in step.writes})
        trace[0]["output"] = chosen
    return share


def compute_node(step: Step, ex: Executors) -> Node:
    """Node for `compute`: whitelisted evaluation, no model; escalated, the teacher computes it."""

    def node(state: dict[str, Any]) -> dict[str, Any]:
        _enforce_visits(step, state)
        values = values_of(state)
        if (state.get(MODE) or {}).get(step.id) == "teacher":
            return llm_node(step, ex)(state)
        expression = step.expression or normalize_math(str(values.get(step.expression_from or "", "")))
        record = {
            "step": step.id, "primitive": "compute", "role": "compute", "ok": True,
            "attempt": _attempt(step, state), "inputs": {"expression": expression}, "raw": expression,
        }
        try:
            value = tidy_number(safe_eval(expression, values, numeric=True))
        except UnsafeExpressionError as exc:
            raise StepFailure("compute", f"cannot compute {expression!r}: {exc}", record=record, attempt=expression) from None
        output = {step.writes[0]: value}
        return _finish_step(step, ex, state, output, output, step.contract, record)

    return node


def vote_node(step: Step, ex: Executors) -> Node:
    """Node for `vote`: the majority answer of the nearest labelled records, no model (`skillc.graphs.vote`).

    Its share is the `neighbours` signal. Below `min_share` it writes null (a decision edge sends the input on);
    otherwise the skill's gate (thresholds, learned gate) may escalate it. Escalated, the teacher answers the
    step as a classification.
    """
    fields = [w for w in step.writes]

    def node(state: dict[str, Any]) -> dict[str, Any]:
        _enforce_visits(step, state)
        if (state.get(MODE) or {}).get(step.id) == "teacher":
            return llm_node(step, ex)(state)
        values = values_of(state)
        inputs = {k: values.get(k) for k in step.reads}
        k = ex.retrieval_of(step).k
        answer, share, found = neighbour_vote(ex.bank, step.bank_step, inputs, fields, k)
        record = {"step": step.id, "primitive": "vote", "role": "compute", "ok": True, "attempt": _attempt(step, state),
                  "inputs": inputs, "confidence": {"neighbours": share}, "vote": {"answers": found, "share": share}}
        if step.min_share is not None and (answer is None or share < step.min_share):
            # not an answer: the next step answers, and its own signals (not this share) gate it
            why = "no record to vote with" if answer is None else f"share {share:.2f} < {step.min_share:g}"
            record = {**record, "confidence": None, "output": {f: None for f in fields}, "action": f"{why}: passed on"}
            return {**{f: None for f in fields}, TRACE: [record], VISITS: {step.id: (state.get(VISITS) or {}).get(step.id, 0) + 1}}
        if answer is None:
            raise StepFailure("vote", f"the example bank holds no record of step {step.bank_step!r} to vote with",
                              record=record)
        update = _finish_step(step, ex, state, answer, answer, step.contract, record)
        can_escalate = ex.escalation != "off" and "escalate" in step.on_fail
        scores = {"neighbours": share}
        reasons = (below(scores, ex.confidence.thresholds) + gate_reasons(ex.confidence.gate, {**scores, "check": 1.0})
                   if can_escalate else [])
        if reasons:
            raise StepFailure("low_confidence", "low confidence: " + "; ".join(reasons), record=update[TRACE][0],
                              attempt=json.dumps(answer, ensure_ascii=False))
        return update

    return node


def passages_node(step: Step, ex: Executors) -> Node:
    """Node for a `search` step with `passages`: the windows of a long text most like the query, no model."""
    settings = step.passages
    assert settings is not None
    others = [r for r in step.reads if r != settings.source]

    def node(state: dict[str, Any]) -> dict[str, Any]:
        _enforce_visits(step, state)
        values = values_of(state)
        started = time.perf_counter()
        text = str(values.get(settings.source) or "")
        found = find_passages(text, query_text(values, others, step.instruction), settings, ex.embeddings())
        output = {step.writes[0]: found}
        record = {"step": step.id, "primitive": "search", "role": "compute", "ok": True, "attempt": _attempt(step, state),
                  "inputs": {k: values.get(k) for k in others}, "latency_s": time.perf_counter() - started,
                  "raw": f"{len(found)} of {len(text)} characters kept"}
        return _finish_step(step, ex, state, output, output, step.contract, record)

    return node


def retry_node(step: Step, target_bound: int) -> Node:
    """Node for `retry`: go back to `target` while its visit bound allows, else on to `next`."""
    target = step.target or ""

    def node(state: dict[str, Any]) -> Command:
        visits = (state.get(VISITS) or {}).get(target, 0)
        record = {"step": step.id, "primitive": "retry", "role": "compute", "ok": True, "attempt": 1}
        if visits < target_bound:
            feedback = {target: {"error": step.instruction, "attempt": ""}}
            return Command(goto=target, update={TRACE: [{**record, "action": f"retry {target}"}], FEEDBACK: feedback})
        goto = node_name(step.next) if step.next else END
        return Command(goto=goto, update={TRACE: [{**record, "action": "bound reached"}]})

    return node


def escalate_task_node(ex: Executors, input_fields: list[str], output_schema: dict[str, Any],
                       learn_as: Step | None = None) -> Node:
    """The teacher does the whole task in one call (whole-task escalation); with `learn_as` (a one-step
    skill's step), its validated answer becomes a worked example of that step."""

    def node(state: dict[str, Any]) -> dict[str, Any]:
        values = values_of(state)
        inputs = {k: values.get(k) for k in input_fields}
        demos = (teacher_demo_records(ex.bank, learn_as.bank_step, inputs, ex.retrieval_of(learn_as))
                 if learn_as is not None else [])
        call = ex.call("teacher", task_messages(ex.task, inputs, output_schema, demos=demos), output_schema,
                       step=ESCALATE_TASK, max_tokens=contract_max_tokens(output_schema))
        record = call_record(ESCALATE_TASK, "escalate", "teacher", call, inputs=inputs)
        if demos:
            record["demos"] = len(demos)
        output = _parse(call, record)
        errors = contract_errors(output, output_schema)
        if errors:
            raise StepFailure("contract", "; ".join(errors), record=record, attempt=call.text)
        fields = list(output_schema.get("properties", {}))
        if learn_as is not None and not contract_errors(output, learn_as.contract):
            _record_escalation(ex, learn_as, {**record, "inputs": {k: inputs.get(k) for k in learn_as.reads}}, output)
        return {**{k: output.get(k) for k in fields}, TRACE: [{**record, "output": output}]}

    return node


def finish_node(output_schema: dict[str, Any]) -> Node:
    """Validate the skill's final output against its output schema."""
    fields = list(output_schema.get("properties", {}))

    def node(state: dict[str, Any]) -> dict[str, Any]:
        output = {k: state.get(k) for k in fields if state.get(k) is not None}
        errors = contract_errors(output, output_schema)
        if errors:
            raise StepFailure("output_contract", "final output breaks the output schema: " + "; ".join(errors))
        return {}

    return node


def tidy_number(value: Any) -> Any:
    """Round float noise away (0.1 + 0.2 → 0.3) and turn integral floats into ints."""
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        value = round(value, 9)
        return int(value) if value.is_integer() else value
    return value


def _parse(call: CallResult, record: dict[str, Any]) -> dict[str, Any]:
    try:
        return parse_json_object(call.text)
    except MalformedOutputError as exc:
        why = f"the reply was cut off at the token limit ({call.output_tokens} tokens)" if call.truncated else str(exc)
        raise StepFailure("malformed_output", why, record=record, attempt=call.text[-2000:]) from None


def _finish_step(
    step: Step,
    ex: Executors,
    state: dict[str, Any],
    output: dict[str, Any],
    writes: dict[str, Any],
    contract: dict[str, Any],
    record: dict[str, Any],
) -> dict[str, Any]:
    """Validate the contract, run the check, and build the success update (or raise StepFailure)."""
    attempt_text = record.get("raw") or json.dumps(output)
    record = {**record, "output": output}
    to_validate = {k: v for k, v in output.items() if k != "question"} if step.primitive == "ask" else output
    errors = [] if step.primitive == "ask" else contract_errors(to_validate, contract)
    if errors:
        raise StepFailure("contract", "; ".join(errors), record=record, attempt=attempt_text)
    extra: list[dict[str, Any]] = []
    values = {**values_of(state), **writes}

    def verify(by: str) -> str:
        inputs = {k: values.get(k) for k in step.reads}
        call = ex.call(by, verify_messages(ex.task, step, inputs, output), None, step=f"{step.id}.verify")
        extra.append(call_record(f"{step.id}.verify", "verify", by, call))
        return call.text

    checks = [c.model_dump() for c in run_check(step.check, values, verify)]
    record["checks"] = checks
    failed = [c["message"] for c in checks if not c["ok"]]
    if failed:
        raise StepFailure("check", "; ".join(failed), record={**record, "_extra": extra}, attempt=attempt_text)
    if record.get("role") == "teacher" and step.primitive != "escalate":
        _record_escalation(ex, step, record, output)
    visits = (state.get(VISITS) or {}).get(step.id, 0)
    return {
        **writes,
        TRACE: [record, *extra],
        ATTEMPTS: {step.id: 0},
        MODE: {step.id: "student"},
        FEEDBACK: {step.id: None},
        VISITS: {step.id: visits + 1},
    }


def _record_escalation(ex: Executors, step: Step, record: dict[str, Any], output: dict[str, Any]) -> None:
    """Keep the teacher's validated answer to an escalated step as a new worked example."""
    if ex.bank is None:
        return

    checked = bool(record.get("checks"))  # a declared check ran, and passed: a failed one raised before this
    example = new_record(step.id, record.get("inputs") or {}, output, reasoning=str(output.get("reasoning", "")),
                         source="escalation", model=record.get("model"), raw=record.get("raw"), checked=checked)
    try:
        if ex.compressor is not None:  # the demo's compressed text, stored once beside the original
            example = compress_records([step], [example], ex.compressor)[0]
        ex.bank.grow(example)
    except OSError as exc:  # the answer itself is fine; losing the record must not fail the run
        log.warning("could not record the escalation of step %s in the example bank: %s", step.id, exc)


def _attempt(step: Step, state: dict[str, Any]) -> int:
    return int((state.get(ATTEMPTS) or {}).get(step.id, 0)) + 1


def _enforce_visits(step: Step, state: dict[str, Any]) -> None:
    visits = (state.get(VISITS) or {}).get(step.id, 0)
    if visits >= step.max_visits:
        raise StepFailure("loop_bound", f"step {step.id!r} reached its bound of {step.max_visits} visits")
