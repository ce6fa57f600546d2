"""The semantic-cache guard: a near input with another number, date, identifier, name or negation never hits."""

from __future__ import annotations

import pytest

from skillc.cache import anchors, guard_refuses

REFUSED = [  # (new input, cached input, what differs)
    ("What is the function of TV?", "What is the function of money?", "names"),  # GPTCache's false hit
    ("Is Ana older than Bo?", "Is Bo older than Ana?", "names"),  # a question and its reversal
    ("Convert 100 USD to EUR", "Convert 100 EUR to USD", "names"),
    ("The invoice total is $1,200.50", "The invoice total is $1,200.05", "numbers"),  # one number changed
    ("Book a room on 2024-03-05", "Book a room on 2024-03-06", "numbers"),
    ("Refund order AB-12", "Refund order AB-13", "identifiers"),
    ("The parcel has arrived", "The parcel has not arrived", "negations"),
    ("I can't log in", "I can log in", "negations"),
    ({"question": "Janet has 3 ducks", "unit": "eggs"}, {"question": "Janet has 4 ducks", "unit": "eggs"}, "numbers"),
]
SERVED = [
    ("Sum the March invoices, please", "please sum the March invoices"),
    ("What is the capital of France?", "what's the capital of France"),
    ({"ticket": "My parcel AB-12 is late by 3 days"}, {"ticket": "parcel AB-12 is 3 days late!"}),
    ("Total: $1200.50", "total is 1,200.50 dollars"),  # the same amount written two ways
]


@pytest.mark.parametrize(("new", "cached", "kind"), REFUSED)
def test_the_guard_refuses_a_change_of_one_anchor(new, cached, kind) -> None:
    why = guard_refuses(new, cached)
    assert why is not None and why.startswith(kind)
    assert guard_refuses(cached, new) is not None  # both ways


@pytest.mark.parametrize(("new", "cached"), SERVED)
def test_the_guard_lets_a_rewording_with_the_same_anchors_serve(new, cached) -> None:
    assert guard_refuses(new, cached) is None, anchors(new)


def test_anchors_read_every_string_and_number_of_a_json_input_in_key_order() -> None:
    found = anchors({"b": ["Lisbon", 2], "a": {"id": "user_7"}})
    assert found["identifiers"] == ["user_7"] and found["numbers"] == ["2"] and found["names"] == ["lisbon"]


def test_a_step_cache_key_changes_with_each_thing_the_answer_depends_on() -> None:
    from skillc.cache import step_cache_key

    base = ("sha256:v1", "extract", {"model": "local:student", "temperature": 0.0}, {"text": "x"},
            [{"input": {"text": "a"}, "output": {"y": 1}, "id": "r1"}])
    key = step_cache_key(*base)
    assert step_cache_key(*base) == key
    changed = [("sha256:v2",) + base[1:], base[:1] + ("compute",) + base[2:],
               base[:2] + ({"model": "local:tiny", "temperature": 0.0},) + base[3:],
               base[:2] + ({"model": "local:student", "temperature": 0.7},) + base[3:],
               base[:3] + ({"text": "y"},) + base[4:], base[:4] + ([],)]
    assert len({step_cache_key(*c) for c in changed} | {key}) == len(changed) + 1
