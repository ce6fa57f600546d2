"""The replica pool on scripted replicas: calls spread by fewest in flight, a transport failure fails over, a
request error does not, and when every replica fails the last error propagates."""

from __future__ import annotations

import httpx
import pytest
from langchain_core.language_models import FakeListChatModel

from skillc.adapters.replicas import ReplicaPool, is_replica_failure


class Dead(FakeListChatModel):
    def _call(self, *args, **kwargs):
        raise httpx.ConnectError("connection refused")


class Refusing(FakeListChatModel):
    def _call(self, *args, **kwargs):
        raise ValueError("bad request")


def test_a_dead_replica_fails_over_and_is_then_skipped(capsys) -> None:
    pool = ReplicaPool(replicas=[Dead(responses=["x"]), FakeListChatModel(responses=["ok"] * 5)], labels=["a", "b"])
    assert [pool.invoke("hi").content for _ in range(3)] == ["ok"] * 3
    stats = pool.stats()
    assert stats == {"served": {"a": 0, "b": 3}, "failovers": 1, "down": ["a"]}  # down after one failure: not retried
    assert "the call goes to another replica" in capsys.readouterr().err


def test_calls_spread_over_live_replicas() -> None:
    pool = ReplicaPool(replicas=[FakeListChatModel(responses=["a"] * 5), FakeListChatModel(responses=["b"] * 5)], labels=["a", "b"])
    assert sorted(pool.invoke("hi").content for _ in range(4)) == ["a", "a", "b", "b"]


def test_a_request_error_is_not_a_failover_and_all_dead_raises_the_last() -> None:
    with pytest.raises(ValueError, match="bad request"):
        ReplicaPool(replicas=[Refusing(responses=["x"]), FakeListChatModel(responses=["ok"])], labels=["a", "b"]).invoke("hi")
    with pytest.raises(httpx.ConnectError):
        ReplicaPool(replicas=[Dead(responses=["x"]), Dead(responses=["x"])], labels=["a", "b"]).invoke("hi")
    assert is_replica_failure(TimeoutError()) and not is_replica_failure(ValueError())
