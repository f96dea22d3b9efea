"""Seeded identifiers: the same seed gives the same cluster, byte for byte."""

from __future__ import annotations

import random


class IdSource:
    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def uuid(self) -> str:
        h = f"{self._rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    @property
    def rng(self) -> random.Random:
        return self._rng
