"""The LLMLingua compressor on a tiny random scorer: budgets, pass-through, digits, bad input, a 200k-token text.

The tiny scorer is a one-layer Llama with random weights and SmolLM2's tokenizer (read from the `local:tiny`
GGUF), built once per session: the real llmlingua code runs end to end, in seconds, with nothing downloaded.
"""

from __future__ import annotations

import importlib.util
import time

import pytest

from skillc.adapters.local.weights import MODELS, is_installed
from skillc.compression import CompressionUnavailable, Compressor, require_extra
from skillc.compression.compressor import PROTECTED
from skillc.core.errors import InvalidInputError

try:
    require_extra()
    HAVE_EXTRA = True
except CompressionUnavailable:
    HAVE_EXTRA = False

needs_scorer = pytest.mark.skipif(not (HAVE_EXTRA and is_installed(MODELS["tiny"])),
                                  reason="the compression extra or local:tiny is not installed (make test installs both)")

TRANSCRIPT = "\n".join(
    f"Rep: Thanks for calling, this is line {i}. Customer: I see, tell me more about the plan." for i in range(60)
) + "\nCustomer: My account number is AC-88231 and the quote was 4,950 dollars.\n"


@pytest.fixture(scope="session")
def tiny_scorer(tmp_path_factory):
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from skillc.adapters.local.weights import ensure_weights

    gguf = ensure_weights(MODELS["tiny"])
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=8192,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    folder = tmp_path_factory.mktemp("tiny-scorer")
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def compressor(tiny_scorer):
    return Compressor(tiny_scorer)


CALL = ("Rep: Good morning, thanks for calling us back about the renewal of your support plan. "
        "Customer: Sure, my account is AC-88231 and I was quoted 4,950 dollars on 2026-03-14 for 12 seats. "
        "Rep: Right, and that includes the priority line and the onboarding sessions we talked about last week. "
        "Customer: Yes, though the team wondered whether the training could move to the spring instead. ") * 3


@needs_scorer
def test_a_rate_halves_the_tokens(compressor):
    out = compressor.compress(TRANSCRIPT, rate=0.5, question="What was the quote?")
    assert not out.passed_through
    assert out.compressed_tokens <= 0.65 * out.origin_tokens, out.as_record()
    assert out.ratio > 1.5 and out.seconds > 0


@needs_scorer
def test_every_word_with_a_digit_survives_whole_in_a_kept_chunk(compressor):
    out = compressor.compress(CALL, rate=0.4, question="What was the quote?")
    assert out.compressed_tokens < 0.7 * out.origin_tokens, out.as_record()
    for word in (" AC-88231", " 4,950", " 2026-03-14", " 12 "):
        assert out.text.count(word.strip()) == CALL.count(word.strip()), (word, out.text)


WORKING = ("Wendi feeds each chicken 3 cups of feed per day, and she has 20 chickens, so she needs a total of "
           "3 * 20 = 60 cups of feed per day.\nShe has already given them 15 cups in the morning and 25 cups in the "
           "afternoon, which totals 15 + 25 = 40 cups.\nSo the final meal is 60 - 40 = 20 cups.\n#### 20")


@needs_scorer
@pytest.mark.parametrize("rate", [0.5, 0.33])
def test_a_short_worked_answer_keeps_every_number_and_sign(compressor, rate):
    """One chunk, shorter than llmlingua's 200-token window: where llmlingua's segment rates used to land wrong."""
    out = compressor.compress(WORKING, rate=rate, question="How many cups in the final meal?")
    assert out.compressed_tokens < out.origin_tokens, out.as_record()
    kept = out.text.split()
    for word in PROTECTED.findall(WORKING):
        assert word.strip() in kept, (word, out.text)
    assert [w for w in kept if PROTECTED.fullmatch(" " + w)] == [w.strip() for w in PROTECTED.findall(WORKING)]  # in order


@needs_scorer
def test_a_token_target_and_the_whole_chunk_pass(compressor):
    out = compressor.compress(TRANSCRIPT, target_tokens=400, question="What was the quote?", token_level=False)
    assert out.compressed_tokens < out.origin_tokens
    assert set(out.text.splitlines()) <= set(TRANSCRIPT.splitlines()) | {""}  # whole lines kept, none cut


@needs_scorer
def test_empty_and_short_texts_pass_through_untouched(compressor):
    assert compressor.compress("", rate=0.5).passed_through
    assert compressor.compress("   ", rate=0.5).text == "   "
    short = compressor.compress("Customer: yes, 12 units.", rate=0.5, min_tokens=50)
    assert short.passed_through and short.text == "Customer: yes, 12 units."
    assert compressor.compress(TRANSCRIPT, rate=1.0).text == TRANSCRIPT


@needs_scorer
def test_bad_input_is_a_clear_error(compressor):
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        compressor.compress(b"caf\xe9 au lait", rate=0.5)
    with pytest.raises(InvalidInputError, match="not valid Unicode"):
        compressor.compress("half a pair \ud800", rate=0.5)
    with pytest.raises(InvalidInputError, match="exactly one of rate and target_tokens"):
        compressor.compress(TRANSCRIPT)
    with pytest.raises(InvalidInputError, match="share of tokens kept"):
        compressor.compress(TRANSCRIPT, rate=2)
    assert compressor.compress("café".encode(), rate=0.5, min_tokens=10).text == "café"  # valid UTF-8 bytes are read


@needs_scorer
def test_a_200k_token_text_is_chunked_and_bounded(tiny_scorer):
    compressor = Compressor(tiny_scorer, max_scored_tokens=4096)
    huge = TRANSCRIPT * 140
    started = time.perf_counter()
    out = compressor.compress(huge, target_tokens=1000, question="What was the quote?")
    assert out.origin_tokens > 200_000
    assert out.compressed_tokens <= 1_300, out.as_record()
    assert "AC-882314" not in out.text  # kept numbers never glued together
    assert time.perf_counter() - started < 300  # generous: the bound is the 4,096 scored tokens, not the text


@needs_scorer
def test_the_same_text_and_settings_are_compressed_once(tiny_scorer):
    compressor = Compressor(tiny_scorer)
    first = compressor.compress(TRANSCRIPT, rate=0.5, question="quote?")
    calls = []
    lingua = compressor._load()
    original = lingua.compress_prompt
    lingua.compress_prompt = lambda *a, **k: calls.append(1) or original(*a, **k)
    assert compressor.compress(TRANSCRIPT, rate=0.5, question="quote?") is first and calls == []
    compressor.compress(TRANSCRIPT, rate=0.4, question="quote?")
    assert calls  # other settings: compressed again (a chunk pass, then a token pass per kept chunk)


def test_without_the_extra_asking_for_compression_names_it(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llmlingua" else real(name, *a))
    with pytest.raises(CompressionUnavailable, match=r"'compression' extra \(llmlingua is not installed\).*\.\[compression\]"):
        Compressor()
