"""The answer size cap of the HTTP client: exact at its edge, on by default, one sentence
when it is set wrong. (The corpus runs the commands with a small cap; this checks the
default one, 256 MiB, against an endless body in a real `nomtui` process.)"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from nomtui.client.http import DEFAULT_MAX_BODY_BYTES, HttpClient
from nomtui.errors import BadResponse, ServerError
from tests.commands import base_env, invoke, one_error_line
from tests.corpus.badserver import BadServer, Reply, rule


def padded(size: int) -> bytes:
    """A JSON list of exactly `size` bytes."""
    return b"[" + b" " * (size - 2) + b"]"


@pytest.mark.parametrize(("size", "fits"), [(4096, True), (4097, False)])
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_the_cap_is_exact(size: int, fits: bool, declared: bool) -> None:
    body = padded(size)
    reply = Reply(body=body) if declared else Reply(chunks=[body[:1000], body[1000:]])
    with BadServer([rule("/.*", reply)]) as bad:
        http = HttpClient(bad.address, max_body_bytes=4096)
        try:
            if fits:
                assert await http.get("/v1/jobs", list[int]) == ([], 0)
            else:
                with pytest.raises(BadResponse, match="larger than 4096 bytes"):
                    await http.get("/v1/jobs", list[int])
        finally:
            await http.aclose()


async def test_an_error_answer_is_cut_not_refused() -> None:
    """A 5xx is quoted, not decoded: an endless one is read to 64 KiB and reported."""
    reply = Reply(status=503, content_type="text/plain", body=b"down ", endless=b"x" * 65536)
    with BadServer([rule("/.*", reply)]) as bad:
        http = HttpClient(bad.address, max_body_bytes=4096)
        try:
            with pytest.raises(ServerError, match="with 503 \\(down x"):
                await http.request("PUT", "/v1/jobs")  # a write: never retried
        finally:
            await http.aclose()


def test_the_default_cap_stops_an_endless_body_in_a_real_process(tmp_path: Path) -> None:
    endless = Reply(body=b"[", endless=b'{"ID":"x","Name":"x"},' * 4096)
    with BadServer([rule("/.*", endless)]) as bad:
        env = {k: v for k, v in base_env(tmp_path, NOMAD_ADDR=bad.address).items() if v}
        full = {k: v for k, v in os.environ.items() if not k.startswith(("NOMAD_", "NOMTUI_"))}
        done = subprocess.run(
            [sys.executable, "-m", "nomtui", "jobs"],
            capture_output=True,
            text=True,
            env=full | env,
            timeout=120,
        )
    assert done.returncode == 1
    line = one_error_line(done.stderr)
    assert f"larger than {DEFAULT_MAX_BODY_BYTES // 2**20} MiB" in line
    assert "NOMTUI_MAX_BODY_BYTES raises the limit" in line
    # The process stopped reading at the cap: its memory stayed near it, not beyond.
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert peak_mib < 3 * DEFAULT_MAX_BODY_BYTES / 2**20, peak_mib


@pytest.mark.parametrize("value", ["lots", "-1", "0", "1.5"])
def test_a_bad_cap_setting_is_one_sentence(tmp_path: Path, value: str) -> None:
    ran = invoke(base_env(tmp_path, NOMTUI_MAX_BODY_BYTES=value), "jobs")
    assert ran.code == 1
    assert "NOMTUI_MAX_BODY_BYTES is" in one_error_line(ran.err)
