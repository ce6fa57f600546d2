"""The real compressor (SmolLM2-135M from local:tiny's GGUF) inside a real skill run on a real llama.cpp student.

Offline: the scorer is converted from the installed GGUF, the student is `local:tiny` on llama-cpp-python's
OpenAI-compatible server. What is checked is what a user pays for: the student reads fewer tokens (the server's
own count), the trace says how many by the student's own tokenizer, and no number is lost.
"""

from __future__ import annotations

import pytest

from skillc.adapters.local import MODELS, local_model
from skillc.adapters.local.server import stop_all
from skillc.adapters.local.weights import is_installed
from skillc.compression import CompressionUnavailable, require_extra, shared_compressor
from skillc.compression.compressor import PROTECTED
from skillc.core.spec import SkillSpec
from skillc.graphs.config import RunConfig
from skillc.skills.skill import Skill

try:
    require_extra()
    HAVE_EXTRA = True
except CompressionUnavailable:
    HAVE_EXTRA = False

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (HAVE_EXTRA and is_installed(MODELS["tiny"])),
                       reason="the compression extra or local:tiny is not installed (make test installs both)"),
]

SMALL_TALK = [
    "Rep: Thanks for calling back, how was the long weekend with the family?",
    "Customer: Good, we went up to the lake and the weather held the whole time.",
    "Rep: Lovely. Before we start, did the team get a chance to read the overview I sent over?",
    "Customer: Some of them did, the others were out, so I will walk them through it later today.",
]
CALL = "\n".join(SMALL_TALK * 12 + [
    "Customer: So what does the renewal cost for our account AC-88231?",
    "Rep: For 12 seats it comes to 4,950 dollars a year, starting 2026-03-14.",
] + SMALL_TALK * 6)
WORKING = ("Wendi feeds each chicken 3 cups of feed per day, and she has 20 chickens, so she needs a total of "
           "3 * 20 = 60 cups of feed per day.\nShe has already given them 15 cups in the morning and 25 cups in the "
           "afternoon, which totals 15 + 25 = 40 cups.\nSo the final meal is 60 - 40 = 20 cups.\n#### 20")


def spec(compression: dict | None) -> SkillSpec:
    return SkillSpec.model_validate({
        "name": "renewal-price", "task": "Answer a question about a sales call.", "entry": "answer",
        "input_schema": {"type": "object", "properties": {"transcript": {"type": "string"}, "question": {"type": "string"}}},
        "output_schema": {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]},
        "escalation": {"mode": "off"},
        "steps": [{"id": "answer", "primitive": "extract", "instruction": "Answer the question from the transcript.",
                   "reads": ["transcript", "question"], "writes": ["answer"], "next": "END",
                   "contract": {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]},
                   **({"compression": compression} if compression else {})}],
    })


@pytest.fixture(scope="module")
def tiny():
    handle = local_model("tiny")
    yield handle
    stop_all()


def test_a_compressed_step_sends_the_student_fewer_tokens_and_traces_them(tiny):
    inputs = {"transcript": CALL, "question": "What does the renewal cost?"}
    plain = Skill(spec(None)).run(inputs, student=tiny, escalation="off")
    squeezed = Skill(spec({"rate": 0.5, "min_tokens": 200})).run(inputs, config=RunConfig(student=tiny, escalation="off"))
    assert plain.trace[0].input_tokens > 0 and squeezed.trace[0].ok, squeezed.error
    note = squeezed.trace[0].compression["transcript"]
    assert note["tokenizer"] == "model" and note["seconds"] > 0
    assert note["compressed_tokens"] <= 0.65 * note["origin_tokens"], note
    saved = plain.trace[0].input_tokens - squeezed.trace[0].input_tokens  # as the llama.cpp server counted them
    assert saved == pytest.approx(note["origin_tokens"] - note["compressed_tokens"], rel=0.2), (saved, note)


def test_the_real_scorer_keeps_the_price_the_question_asks_for_and_every_number_of_a_worked_answer():
    compressor = shared_compressor()
    out = compressor.compress(CALL, rate=0.3, question="What does the renewal cost?")
    assert out.compressed_tokens < 0.5 * out.origin_tokens
    for word in ("AC-88231", "4,950", "2026-03-14"):
        assert word in out.text, out.text
    worked = compressor.compress(WORKING, rate=0.5, question="How many cups in the final meal?")
    assert worked.compressed_tokens < worked.origin_tokens
    assert [w for w in worked.text.split() if PROTECTED.fullmatch(" " + w)] == [w.strip() for w in PROTECTED.findall(WORKING)]
