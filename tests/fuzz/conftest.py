"""Hypothesis profiles: `ci` (derandomized, so a CI run is repeatable) when CI is set,
`dev` otherwise. No deadline in either: the machines that run this are shared and busy.

Loaded at collection, so every hypothesis test of the run gets the profile; each test
keeps its own `max_examples` small enough to stay within a few seconds.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")
