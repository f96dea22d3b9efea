"""Nomad and Consul clients over HTTP (httpx), websockets and py-consul."""

import sys

# httpx imports its command-line tool at import time whenever rich is installed (it is,
# for Textual): rich, pygments and click cost ~25 ms of every one-shot's start-up for a
# tool nomtui never runs. A None entry makes that import fail, which httpx expects (it
# then leaves `httpx.main` a stub that explains the missing extra).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
