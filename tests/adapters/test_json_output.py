"""Lenient JSON reading of model replies."""

from __future__ import annotations

import pytest

from skillc.adapters.json_output import parse_json_object
from skillc.core.errors import MalformedOutputError


def test_line_comments_are_dropped_but_slashes_in_strings_kept() -> None:
    reply = '```json\n{"url": "http://a.b/c", // where\n "n": 2 // two\n}\n```'
    assert parse_json_object(reply) == {"url": "http://a.b/c", "n": 2}


def test_the_outer_object_wins_over_inner_ones_when_comments_break_it() -> None:
    reply = '{"steps": [{"id": "a"}], // the steps\n "entry": "a"}'
    assert parse_json_object(reply) == {"steps": [{"id": "a"}], "entry": "a"}


def test_no_object_is_still_an_error() -> None:
    with pytest.raises(MalformedOutputError, match="no JSON object"):
        parse_json_object("// just a comment")
