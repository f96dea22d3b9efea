"""The bad-input corpus: one JSON file per case in `cases/`, read into `Case`s.

A case file:

    {
      "about": "what this case is and what a good outcome is",
      "nomad": [RULE, ...],            # answers of the Nomad agent that are replaced
      "consul": [RULE, ...],           # the same for Consul (optional)
      "commands": ["jobs", "logs"],    # one-shots to run (default: all of COMMANDS)
      "outcome": "error",              # "error", "ok" or "any"
      "error": "cannot read",          # a text every error message must contain
      "stdout": ["shown"],             # texts the output must contain on success
      "known_bug": "why it fails"      # not fixed yet: its tests are strict xfails
    }

A RULE replaces the answer for requests whose path fully matches `path` (a regex) and,
when given, whose `method` matches and whose query has the `query` values (logs ask with
`plain=true` for raw bytes, `plain=false` for frames); everything else goes to the sim.
Its answer is `status` (200), `content_type` ("application/json", null for none), `headers`, and a
body given as one of:

- `body` (text, written as UTF-8; JSON escapes such as \\u001b make any character),
- `body_b64` (any bytes), `body_json` (any JSON value, encoded compactly),
- `frames`: fs/logs frames, each {"Offset", "Data" (text, base64-encoded here), "File"}
  or a string sent as it is (for broken frames), then `split`: send the stream in
  pieces of that many bytes, so frames arrive cut mid-key, mid-base64 and mid-escape,
- `endless` (text repeated until the client hangs up),

and `declared_length` claims a Content-Length (the body sent is still the above).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.corpus.badserver import Reply, Rule, rule

CASES_DIR = Path(__file__).parent / "cases"
JOB = "www-nomad"
"""A job of the sim's demo cluster with running allocations, logs and Consul URLs."""
COMMANDS: dict[str, tuple[str, ...]] = {
    "jobs": ("jobs",),
    "jobs-json": ("jobs", "--json"),
    "status": ("status", JOB),
    "allocs": ("allocs", JOB),
    "logs": ("logs", JOB),
    "logs-tail": ("logs", "--tail", "5", JOB),
    "urls": ("urls", JOB),
    "services": ("services",),
}
EXIT_CODES: dict[str, frozenset[int]] = {
    "jobs": frozenset({0, 1}),
    "jobs-json": frozenset({0, 1}),
    "status": frozenset({0, 1, 2}),
    "allocs": frozenset({0, 1}),
    "logs": frozenset({0, 1}),
    "logs-tail": frozenset({0, 1}),
    "urls": frozenset({0, 1}),
    "services": frozenset({0, 1}),
}
"""The exit codes each command documents in its --help."""


@dataclass(frozen=True)
class Case:
    id: str
    about: str
    nomad: list[Rule]
    consul: list[Rule]
    commands: tuple[str, ...]
    outcome: str
    error: str | None
    stdout: list[str] = field(default_factory=list)
    known_bug: str = ""
    """A bug this case finds that is not fixed yet: its tests are strict xfails."""


def _frames(spec: dict[str, Any]) -> list[bytes]:
    stream = b""
    for frame in spec["frames"]:
        if isinstance(frame, str):
            stream += frame.encode()
            continue
        wire = dict(frame)
        if "Data" in wire:
            wire["Data"] = base64.b64encode(wire["Data"].encode()).decode()
        stream += json.dumps(wire).encode()
    size = int(spec.get("split", 0))
    if not size:
        return [stream]
    return [stream[i : i + size] for i in range(0, len(stream), size)]


def _reply(spec: dict[str, Any]) -> Reply:
    body = b""
    chunks: list[bytes] = []
    if "body" in spec:
        body = spec["body"].encode()
    elif "body_b64" in spec:
        body = base64.b64decode(spec["body_b64"])
    elif "body_json" in spec:
        body = json.dumps(spec["body_json"], separators=(",", ":")).encode()
    elif "frames" in spec:
        chunks = _frames(spec)
    return Reply(
        status=int(spec.get("status", 200)),
        content_type=spec.get("content_type", "application/json"),
        body=body,
        chunks=chunks,
        endless=spec.get("endless", "").encode(),
        headers=dict(spec.get("headers", {})),
        declared_length=spec.get("declared_length"),
    )


def _rules(specs: list[dict[str, Any]]) -> list[Rule]:
    return [rule(s["path"], _reply(s), s.get("method"), s.get("query")) for s in specs]


def load(path: Path) -> Case:
    data = json.loads(path.read_text(encoding="utf-8"))
    commands = tuple(data.get("commands", COMMANDS))
    unknown = set(commands) - set(COMMANDS)
    assert not unknown, f"{path.name}: unknown commands {unknown}"
    assert data.get("outcome", "any") in ("error", "ok", "any"), path.name
    return Case(
        id=path.stem,
        about=data["about"],
        nomad=_rules(data.get("nomad", [])),
        consul=_rules(data.get("consul", [])),
        commands=commands,
        outcome=data.get("outcome", "any"),
        error=data.get("error"),
        stdout=list(data.get("stdout", [])),
        known_bug=data.get("known_bug", ""),
    )


def all_cases() -> list[Case]:
    return [load(p) for p in sorted(CASES_DIR.glob("*.json"))]


__all__ = ["COMMANDS", "EXIT_CODES", "JOB", "Case", "all_cases", "load"]
