"""A lease whose holder was killed is taken over at once on its machine; elsewhere, at expiry."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from spool_factory import AM, RUN_1, RUN_2

from lake import LakeError, open_store
from lake.lease import lease_key, process_gone, process_identity, source_lease

REPO = Path(__file__).resolve().parents[2]
HOLD = """
import sys, time
from lake import open_store
from lake.lease import source_lease
with source_lease(open_store(sys.argv[1]), sys.argv[2], sys.argv[3]):
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_lease_left_by_a_killed_lander_is_taken_over_at_once(lake_uri: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, lake_uri, AM, RUN_1], stdout=subprocess.PIPE, env=env
    )
    assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
    store = open_store(lake_uri)
    held = json.loads(store.get(lease_key(AM)))
    assert held["pid"] == holder.pid and held["owner"].startswith(f"{RUN_1}/")
    # Alive: another lander waits (and here gives up), the TTL of 900 s notwithstanding.
    with (
        pytest.raises(LakeError, match=f"being landed by {RUN_1}/"),
        source_lease(store, AM, RUN_2, wait=0.5),
    ):
        pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with source_lease(store, AM, RUN_2, wait=5):  # far less than the TTL
        assert json.loads(store.get(lease_key(AM)))["owner"].startswith(f"{RUN_2}/")
    assert not store.exists(lease_key(AM))


def _forge(store_uri: str, **fields: object) -> None:
    expires = datetime.now(UTC) + timedelta(seconds=900)
    record = {"owner": f"{RUN_1}/abcd1234", "expires_at": expires.isoformat(), **fields}
    open_store(store_uri).put(lease_key(AM), json.dumps(record).encode())


def test_a_holder_on_another_machine_is_waited_for_until_expiry(lake_uri: str) -> None:
    me = process_identity()
    elsewhere = {**me, "machine": "another-boot/pid:[1]", "pid": 2**22 + 7}
    _forge(lake_uri, **elsewhere)
    store = open_store(lake_uri)
    with (
        pytest.raises(LakeError, match=f"being landed by {RUN_1}/abcd1234"),
        source_lease(store, AM, RUN_2, wait=0.3),
    ):
        pass
    expired = datetime.now(UTC) - timedelta(seconds=1)
    _forge(lake_uri, **elsewhere, expires_at=expired.isoformat())
    with source_lease(store, AM, RUN_2, wait=5):
        pass


def test_process_gone_judges_only_processes_it_can_see() -> None:
    me = process_identity()
    assert not process_gone(me)
    assert process_gone({**me, "pid_started": (me["pid_started"] or 0) + 1})  # pid reused
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    identity = process_identity(child.pid)
    child.wait()
    assert process_gone(identity)
    assert not process_gone({**identity, "machine": "another-boot/pid:[1]"})
    assert not process_gone({**identity, "host": "another-host"})
    assert not process_gone({"owner": "x"})  # a lease written before holders were recorded
    assert not process_gone(None)
