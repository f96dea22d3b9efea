"""What the jobs table joins into each job from other views: the newest version placed
(allocations), the public URL and the health of its instances (Consul).

Pure functions of store data, so the jobs screen and tests share them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from nomtui.models.allocs import AllocStub
from nomtui.store import ServicesData


@dataclass(frozen=True)
class JobExtras:
    """What the job list itself does not say, joined in from other views."""

    version: int | None = None
    url: str = ""
    passing: int = 0
    warning: int = 0
    critical: int = 0


def public_url(tags: tuple[str, ...] | list[str]) -> str:
    """The first `https://` tag that is not a canary's (IA convention)."""
    return next(
        (t for t in tags if t.startswith("https://") and not t.startswith("https://canary-")),
        "",
    )


def job_extras(
    allocs: Mapping[str, AllocStub] | None, services: ServicesData | None
) -> dict[str, JobExtras]:
    """Per job key (`namespace/ID`): newest placed version, URL and instance health."""
    versions: dict[str, int] = {}
    for alloc in (allocs or {}).values():
        key = f"{alloc.Namespace}/{alloc.JobID}"
        versions[key] = max(versions.get(key, -1), alloc.JobVersion)
    urls: dict[str, str] = {}
    health: dict[str, Counter[str]] = {}
    if services is not None and services.enabled:
        for row in services.services.values():
            url = public_url(row.tags)
            for instance in row.instances:
                if instance.alloc is None:
                    continue
                key = f"{instance.alloc.Namespace}/{instance.alloc.JobID}"
                health.setdefault(key, Counter())[instance.status] += 1
                if url and key not in urls:
                    urls[key] = url
    return {
        key: JobExtras(
            version=versions.get(key),
            url=urls.get(key, ""),
            passing=health.get(key, Counter())["passing"],
            warning=health.get(key, Counter())["warning"],
            critical=health.get(key, Counter())["critical"],
        )
        for key in set(versions) | set(urls) | set(health)
    }


__all__ = ["JobExtras", "job_extras", "public_url"]
