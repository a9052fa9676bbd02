"""One lander per source at a time: a lease object created with a create-only write.

Landing reads which versions the source already has, then writes files and the manifest.
Two overlapping runs of one source (an hourly crawl running long, a backfill beside it) would
both read "not landed yet" and both land the same version. The lease serializes that
read-then-write span. A lease left by a killed lander is taken over at once when its holder
is an earlier attempt of the same run (a retried task) or a process of this machine that is
gone (SIGKILL, OOM, a crash: the lease names the holder's host, pid and the pid's start
time); a holder on another machine, whose process cannot be checked from here, is waited for
until the lease expires after `ttl` seconds. Two takers racing on one stale lease is the
remaining, rare, window.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lake.errors import AlreadyExists, LakeError, NotFound
from lake.store import Store

log = logging.getLogger(__name__)

LEASE_TTL = 900.0  # seconds: far longer than a landing, short enough to recover from a crash
LEASE_WAIT = 1800.0  # how long to wait for another lander before giving up


def lease_key(source_id: str) -> str:
    return f"locks/source_id={source_id}.json"


def _machine() -> str | None:
    """This boot of this machine and this pid namespace: where two pids can be compared."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text("ascii").strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None  # no /proc (macOS, Windows): holders are judged by the TTL alone
    return f"{boot}/{namespace}"


def _started(pid: int) -> int | None:
    """The start time of process `pid` (clock ticks after boot); None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text("ascii", errors="replace")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()  # the name in parentheses may hold spaces
    if fields[0] in ("Z", "X"):  # a zombie has finished, only nobody reaped it yet
        return None
    return int(fields[19])


def process_identity(pid: int | None = None) -> dict[str, Any]:
    """Who a process is, so another process can tell later whether it is still running."""
    pid = os.getpid() if pid is None else pid
    return {
        "host": socket.gethostname(),
        "machine": _machine(),
        "pid": pid,
        "pid_started": _started(pid),
    }


def process_gone(identity: Any) -> bool:
    """True only when `identity` (process_identity()) is surely a process that has ended: one
    of this machine and pid namespace whose pid is gone, a zombie, or reused by a newer
    process. A process elsewhere, or one recorded without those details, is not judged."""
    if not isinstance(identity, dict) or not isinstance(identity.get("pid"), int):
        return False
    machine = _machine()
    if machine is None or identity.get("machine") != machine:
        return False
    if identity.get("host") != socket.gethostname():
        return False
    started = _started(identity["pid"])
    return started is None or started != identity.get("pid_started")


def _read(store: Store, key: str) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(store.get(key))
        return data
    except NotFound:
        return None
    except ValueError:  # a torn or foreign object: treat as expired
        return {"owner": "?", "expires_at": "1970-01-01T00:00:00+00:00"}


@contextmanager
def source_lease(
    store: Store,
    source_id: str,
    holder: str,
    *,
    ttl: float = LEASE_TTL,
    wait: float = LEASE_WAIT,
    poll: float = 0.5,
) -> Iterator[None]:
    """Hold the landing lease of `source_id` for the block; `holder` names us (a run id)."""
    key = lease_key(source_id)
    token = f"{holder}/{uuid.uuid4().hex[:8]}"
    deadline = time.monotonic() + wait
    while True:
        expires = datetime.now(UTC) + timedelta(seconds=ttl)
        lease = {"owner": token, "expires_at": expires.isoformat(), **process_identity()}
        body = json.dumps(lease).encode()
        try:
            store.put(key, body, if_absent=True)
            break
        except AlreadyExists:
            held = _read(store, key)
            if held is None:
                continue  # released between our write and our read
            mine = str(held.get("owner", "")).startswith(f"{holder}/")
            expired = datetime.fromisoformat(held["expires_at"]) < datetime.now(UTC)
            if mine or expired or process_gone(held):
                # Expired, left by an earlier attempt of this same run (a retried task), or
                # by a process of this machine that died holding it.
                log.warning("taking over the landing lease of %s (%s)", source_id, held)
                store.delete(key)
                continue
            if time.monotonic() > deadline:
                raise LakeError(
                    f"source {source_id} is being landed by {held['owner']} (lease until"
                    f" {held['expires_at']}); gave up waiting after {wait:.0f} s"
                ) from None
            time.sleep(poll)
    try:
        yield
    finally:
        _release(store, key, token)


def _release(store: Store, key: str, token: str) -> None:
    """Delete our lease. A storage failure here only warns: the work under the lease is done
    (or failed on its own), and the lease expires by itself."""
    try:
        held = _read(store, key)
        if held is not None and held.get("owner") == token:
            store.delete(key)
    except LakeError as exc:
        log.warning("could not release the landing lease %s (it expires by itself): %s", key, exc)
