"""Deterministic content for the sim's task directories and task logs.

Each kind is an iterator of `(stream, line)`; `AllocFiles` appends ` seq=<n>` and a newline
and decides the pace. Timestamps come from the sim clock, randomness from a generator seeded
per (seed, alloc, task), so the same seed gives the same logs.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import Any

from nomtui.sim.clock import Clock

Json = dict[str, Any]
Lines = Iterator[tuple[str, str]]
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def template(alloc: Json, task: str) -> str:
    return (
        "# Rendered by the template runner (simulated). Changes are overwritten.\n"
        f"JOB={alloc.get('JobID', '')}\n"
        f"GROUP={alloc.get('TaskGroup', '')}\n"
        f"TASK={task}\n"
        f"ALLOC_ID={alloc['ID']}\n"
        f"NAMESPACE={alloc.get('Namespace', 'default')}\n"
        "LISTEN_ADDR=0.0.0.0:8080\n"
        "UPSTREAM=http://127.0.0.1:21000\n"
    )


INDEX_HTML = (
    "<!DOCTYPE html>\n<html><head><title>sim</title></head>\n"
    "<body><h1>It works</h1><script>alert('served as text')</script></body></html>\n"
)


def _clf_time(clock: Clock) -> str:
    t = time.gmtime(clock.now_ns() // 1_000_000_000)
    hms = time.strftime("%H:%M:%S", t)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{hms} +0000"


def _iso(clock: Clock) -> str:
    ns = clock.now_ns()
    ms = (ns // 1_000_000) % 1000
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ns // 1_000_000_000)) + f".{ms:03d}"


def _http_lines(rng: random.Random, clock: Clock) -> Lines:
    yield "stdout", f"{_iso(clock)} [INFO] listening on 0.0.0.0:8080"
    paths = ("/", "/api/items", "/api/items/42", "/api/orders", "/healthz", "/static/app.js")
    while True:
        method = rng.choices(("GET", "POST", "PUT", "DELETE"), (80, 12, 5, 3))[0]
        status = rng.choices((200, 201, 204, 304, 404, 500), (70, 8, 5, 8, 6, 3))[0]
        path = rng.choice(paths)
        size = rng.randint(0, 8192) if status != 204 else 0
        request = f"{method} {path} HTTP/1.1"
        yield "stdout", f'127.0.0.1 - - [{_clf_time(clock)}] "{request}" {status} {size}'
        if status == 500:
            yield "stderr", f"{_iso(clock)} [ERROR] handler {path}: upstream connection reset"
        elif rng.random() < 0.04:
            yield "stderr", f"{_iso(clock)} [WARN] slow request {path}: {rng.randint(900, 4000)}ms"


def _crash_lines(rng: random.Random, clock: Clock) -> Lines:
    yield "stdout", f"{_iso(clock)} starting worker v1.4.{rng.randint(0, 9)}"
    yield "stdout", f"{_iso(clock)} loading config from local/app.conf"
    yield "stdout", f"{_iso(clock)} connecting to postgres at 10.0.{rng.randint(0, 9)}.12:5432"
    yield "stderr", "Traceback (most recent call last):"
    yield "stderr", '  File "/app/worker.py", line 88, in <module>'
    yield "stderr", "    main()"
    yield "stderr", '  File "/app/worker.py", line 61, in main'
    yield "stderr", "    conn = connect(cfg.dsn)"
    yield "stderr", "ConnectionRefusedError: [Errno 111] Connection refused"


def _db_lines(rng: random.Random, clock: Clock) -> Lines:
    yield "stderr", f"{_iso(clock)} UTC [1] LOG:  database system is ready to accept connections"
    while True:
        roll = rng.random()
        if roll < 0.1:
            yield "stderr", f"{_iso(clock)} UTC [27] LOG:  checkpoint starting: time"
            yield (
                "stderr",
                f"{_iso(clock)} UTC [27] LOG:  checkpoint complete: wrote {rng.randint(1, 900)} "
                f"buffers ({rng.random() * 5:.1f}%)",
            )
        elif roll < 0.15:
            yield "stderr", f"{_iso(clock)} UTC [{rng.randint(40, 99)}] ERROR:  deadlock detected"
        else:
            yield (
                "stdout",
                f"{_iso(clock)} UTC [{rng.randint(40, 99)}] LOG:  duration: "
                f"{rng.random() * 50:.3f} ms  statement: SELECT * FROM items WHERE id = "
                f"{rng.randint(1, 10_000)}",
            )


def _kv_lines(rng: random.Random, clock: Clock) -> Lines:
    pid = rng.randint(1, 40)
    yield "stdout", f"{pid}:C {_iso(clock)} # Redis is starting"
    yield "stdout", f"{pid}:M {_iso(clock)} * Running mode=standalone, port=6379."
    yield "stdout", f"{pid}:M {_iso(clock)} * Server initialized"
    yield "stdout", f"{pid}:M {_iso(clock)} * Ready to accept connections tcp"


def _batch_lines(rng: random.Random, clock: Clock) -> Lines:
    total = rng.randint(20, 60)
    yield "stdout", f"{_iso(clock)} job started: {total} items to process"
    for i in range(1, total + 1):
        if rng.random() < 0.05:
            yield "stderr", f"{_iso(clock)} item {i}: timeout, retrying"
        yield "stdout", f"{_iso(clock)} processed item {i}/{total} in {rng.randint(5, 400)}ms"
    yield "stdout", f"{_iso(clock)} done: {total} items, 0 errors"


KINDS: dict[str, Callable[[random.Random, Clock], Lines]] = {
    "http": _http_lines,
    "crash": _crash_lines,
    "db": _db_lines,
    "kv": _kv_lines,
    "batch": _batch_lines,
}
