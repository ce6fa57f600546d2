"""The step cache on a real Redis: `redis-server` (Debian's package) started on 127.0.0.1 by the test, then stopped."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from skillc.cache.backends import open_cache
from skillc.core.errors import InvalidInputError
from skillc.graphs.config import RunConfig
from skillc.skills.skill import Skill
from tests.fakes import ScriptedChatModel, json_reply
from tests.servers import free_port, running

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server is not installed (make test installs Debian's package as root)")
TEXT = "Invoice: 3 pens at 4.50 each. Total 13.50"


@pytest.fixture
def redis_url(tmp_path: Path):
    port = free_port()
    with running(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                  "--dir", str(tmp_path)], port):
        yield f"redis://127.0.0.1:{port}/0"


def test_two_processes_worth_of_runs_share_the_redis_cache(invoice_spec, redis_url) -> None:
    def model():
        return ScriptedChatModel(script={"kind": [json_reply(kind="invoice")],
                                         "fields": [json_reply(quantity=3, unit_price=4.5, stated_total=13.5)]},
                                 model_label="gpt-4o-mini")

    first_model, second_model = model(), model()
    first = Skill(invoice_spec).run({"text": TEXT}, config=RunConfig(student=first_model, cache=open_cache(redis_url)))
    second = Skill(invoice_spec).run({"text": TEXT}, config=RunConfig(student=second_model, cache=open_cache(redis_url)))
    assert first.ok and second.ok and second.output == first.output
    assert len(first_model.prompts) == 2 and second_model.prompts == [] and second.cached_steps == 2


def test_a_dead_redis_is_a_clear_error_not_a_hang() -> None:
    with pytest.raises(InvalidInputError, match="cannot reach the Redis cache"):
        open_cache(f"redis://127.0.0.1:{free_port()}/0")
