"""Job specs of the demo cluster, following the Internet Archive deploy conventions.

Jobs are named by the repo-slug rule (`<group>-<project>[-<branch>]`), the main task is
`http`, the group service carries its public URLs as `https://` tags and canaries as
`https://canary-` tags, and the health check is called `alive`.
"""

from __future__ import annotations

from typing import Any

from nomtui.sim.state import Json

SECOND = 1_000_000_000
MINUTE = 60 * SECOND
REGISTRY = "registry.archive.org"
DOMAIN = "dev.archive.org"


def http_task(image: str, *, cpu: int = 300, memory: int = 256, env: Json | None = None) -> Json:
    return {
        "Name": "http",
        "Driver": "docker",
        "Config": {"image": image, "ports": ["http"]},
        "Env": env,
        "Resources": {"CPU": cpu, "MemoryMB": memory},
    }


def service_group(
    name: str,
    hosts: list[str],
    tasks: list[Json],
    *,
    count: int = 1,
    canary: int = 0,
    auto_promote: bool = False,
    auto_revert: bool = True,
    port_to: int = 5000,
    check_path: str = "/",
) -> Json:
    tags = [f"https://{h}" for h in hosts]
    canary_tags = [f"https://canary-{h}" for h in hosts]
    return {
        "Name": name,
        "Count": count,
        "Networks": [{"Mode": "host", "DynamicPorts": [{"Label": "http", "To": port_to}]}],
        "Services": [
            {
                "Name": hosts[0].split(".")[0],
                "PortLabel": "http",
                "Provider": "consul",
                "Tags": tags,
                "CanaryTags": canary_tags,
                "Checks": [
                    {
                        "Name": "alive",
                        "Type": "http",
                        "Path": check_path,
                        "Interval": 10 * SECOND,
                        "Timeout": 2 * SECOND,
                    }
                ],
            }
        ],
        "Update": {
            "MaxParallel": 1,
            "Canary": canary,
            "AutoPromote": auto_promote,
            "AutoRevert": auto_revert,
            "MinHealthyTime": 10 * SECOND,
            "HealthyDeadline": 5 * MINUTE,
            "ProgressDeadline": 10 * MINUTE,
        },
        "RestartPolicy": {
            "Attempts": 3,
            "Interval": 30 * MINUTE,
            "Delay": 15 * SECOND,
            "Mode": "fail",
        },
        "Tasks": tasks,
    }


def service_job(job_id: str, groups: list[Json], **extra: Any) -> Json:
    job: Json = {
        "ID": job_id,
        "Name": job_id,
        "Type": "service",
        "Datacenters": ["dc1"],
        "Update": {
            "MaxParallel": 1,
            "Canary": 0,
            "AutoRevert": True,
            "MinHealthyTime": 10 * SECOND,
            "HealthyDeadline": 5 * MINUTE,
            "ProgressDeadline": 10 * MINUTE,
        },
        "Meta": {"deployed-by": "gitlab-ci"},
        "TaskGroups": groups,
    }
    job.update(extra)
    return job


def repo_service(
    job_id: str,
    *,
    count: int = 1,
    canary: int = 0,
    image_tag: str = "main",
    hosts: list[str] | None = None,
    **group_opts: Any,
) -> Json:
    """A web app deployed from a repo: image and hostname derive from the job name."""
    hosts = hosts or [f"{job_id}.{DOMAIN}"]
    image = f"{REGISTRY}/{job_id.replace('-', '/', 1)}:{image_tag}"
    group = service_group(
        job_id, hosts, [http_task(image)], count=count, canary=canary, **group_opts
    )
    return service_job(job_id, [group])


def www_nomad() -> Json:
    return repo_service("www-nomad", hosts=["nomad.archive.org"])


def services_pyhi() -> Json:
    return repo_service("services-pyhi", count=3)


def hello_js(image_tag: str) -> Json:
    return repo_service(
        "internetarchive-hello-js", count=2, canary=1, image_tag=image_tag, auto_revert=True
    )


def hello_js_branch() -> Json:
    return repo_service("internetarchive-hello-js-feature-login", image_tag="feature-login")


def crashy() -> Json:
    return repo_service("services-scribe-api", check_path="/healthz", auto_revert=False)


def kv_app() -> Json:
    job = repo_service("www-ia-kv")
    kv = {
        "Name": "kv",
        "Driver": "docker",
        "Lifecycle": {"Hook": "prestart", "Sidecar": False},
        "Config": {"image": f"{REGISTRY}/www/kv:main", "command": "/kv-load"},
        "Resources": {"CPU": 100, "MemoryMB": 64},
    }
    job["TaskGroups"][0]["Tasks"].insert(0, kv)
    return job


def wiki_with_db() -> Json:
    db = {
        "Name": "db",
        "Driver": "docker",
        "Config": {"image": "postgres:16", "ports": ["db"]},
        "Env": {"POSTGRES_DB": "wiki"},
        "Resources": {"CPU": 500, "MemoryMB": 1024},
    }
    job = repo_service("www-wiki")
    group = job["TaskGroups"][0]
    group["Networks"][0]["DynamicPorts"].append({"Label": "db", "To": 5432})
    group["Tasks"].append(db)
    return job


def grafana() -> Json:
    return repo_service("ops-grafana", hosts=[f"grafana.{DOMAIN}"])


def prometheus() -> Json:
    """Pinned to the node that holds its volume, so a drain of that node can't move it."""
    job = repo_service("ops-prometheus", hosts=[f"prometheus.{DOMAIN}"])
    job["TaskGroups"][0]["Constraints"] = [
        {"LTarget": "${node.unique.name}", "RTarget": "nomad-dc1-03", "Operand": "="}
    ]
    return job


def backup() -> Json:
    return {
        "ID": "services-nightly-backup",
        "Type": "batch",
        "Datacenters": ["dc1"],
        "Periodic": {
            "Enabled": True,
            "Spec": "*/5 * * * *",
            "SpecType": "cron",
            "ProhibitOverlap": True,
            "TimeZone": "UTC",
        },
        "TaskGroups": [
            {
                "Name": "backup",
                "Count": 1,
                "Tasks": [
                    {
                        "Name": "backup",
                        "Driver": "docker",
                        "Config": {"image": f"{REGISTRY}/services/backup:main"},
                        "Resources": {"CPU": 200, "MemoryMB": 128},
                    }
                ],
            }
        ],
    }


def thumbnailer() -> Json:
    return {
        "ID": "services-thumbnailer",
        "Type": "batch",
        "Datacenters": ["dc1"],
        "ParameterizedJob": {
            "Payload": "optional",
            "MetaRequired": ["identifier"],
            "MetaOptional": ["size"],
        },
        "TaskGroups": [
            {
                "Name": "thumb",
                "Count": 1,
                "Tasks": [
                    {
                        "Name": "thumb",
                        "Driver": "docker",
                        "Config": {"image": f"{REGISTRY}/services/thumbnailer:main"},
                        "DispatchPayload": {"File": "input.json"},
                        "Resources": {"CPU": 500, "MemoryMB": 512},
                    }
                ],
            }
        ],
    }


NODES: list[tuple[str, str, int, int]] = [
    # name, node class, cores, memory MB
    ("nomad-dc1-01", "general", 8, 32768),
    ("nomad-dc1-02", "general", 8, 32768),
    ("nomad-dc1-03", "storage", 16, 65536),
    ("nomad-dc1-04", "general", 4, 16384),
]
