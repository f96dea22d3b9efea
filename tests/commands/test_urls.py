"""`nomtui urls` and `nomtui app`: Consul first, job specs as the fallback; tag parsing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from nomtui.actions.urls import first_url, health_word, spec_urls, url_of_tag
from nomtui.models.job_spec import Job, Service, TaskGroup
from tests.commands import base_env, closed_port, invoke, one_error_line

if TYPE_CHECKING:
    from nomtui.sim.server import Sim, SimConfig


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    sim_config.lifecycle = False
    return sim_config


def _rows(out: str) -> dict[str, dict[str, Any]]:
    return {row["url"]: row for row in json.loads(out)}


def test_urls_from_consul_with_health_and_canaries(sim_thread: Sim, tmp_path: Path) -> None:
    ran = invoke(base_env(tmp_path, sim_thread), "urls", "--json")
    assert ran.code == 0 and ran.err == ""
    rows = _rows(ran.out)
    pyhi = rows["https://services-pyhi.dev.archive.org"]
    assert (pyhi["job"], pyhi["namespace"], pyhi["source"]) == (
        "services-pyhi",
        "default",
        "consul",
    )
    assert (pyhi["instances"], pyhi["passing"], pyhi["status"]) == (3, 3, "passing")
    assert rows["https://grafana.dev.archive.org"]["namespace"] == "ops"
    assert rows["https://services-scribe-api.dev.archive.org"]["status"] == "critical"
    canary = rows["https://canary-internetarchive-hello-js.dev.archive.org"]
    assert canary["canary"] is True
    assert rows["https://internetarchive-hello-js.dev.archive.org"]["canary"] is False


def test_urls_table(sim_thread: Sim, tmp_path: Path) -> None:
    ran = invoke(base_env(tmp_path, sim_thread), "urls")
    assert ran.out.splitlines()[0].split() == ["URL", "SERVICE", "JOB", "HEALTH"]
    assert "https://nomad.archive.org" in ran.out and "default/www-nomad" in ran.out
    assert "(canary)" in ran.out


def test_urls_of_one_job(sim_thread: Sim, tmp_path: Path) -> None:
    ran = invoke(base_env(tmp_path, sim_thread), "urls", "--json", "internetarchive-hello-js")
    assert set(_rows(ran.out)) == {
        "https://internetarchive-hello-js.dev.archive.org",
        "https://canary-internetarchive-hello-js.dev.archive.org",
    }


def test_urls_from_job_specs_when_consul_is_unreachable(sim_thread: Sim, tmp_path: Path) -> None:
    addr = f"http://127.0.0.1:{closed_port()}"
    ran = invoke(base_env(tmp_path, sim_thread, CONSUL_HTTP_ADDR=addr), "urls", "--json")
    assert ran.code == 0
    assert ran.err.strip() == f"Consul unreachable at {addr}; URLs from job specs."
    rows = _rows(ran.out)
    assert {row["source"] for row in rows.values()} == {"job"}
    assert "https://nomad.archive.org" in rows and "https://grafana.dev.archive.org" in rows
    assert not any(row["canary"] for row in rows.values())
    table = invoke(base_env(tmp_path, sim_thread, CONSUL_HTTP_ADDR=addr), "urls")
    assert table.out.splitlines()[0].split() == ["URL", "SERVICE", "JOB"]  # no health known


def test_app_prints_the_first_url(sim_thread: Sim, tmp_path: Path) -> None:
    ran = invoke(base_env(tmp_path, sim_thread), "app", "--print", "www-nomad")
    assert (ran.code, ran.out) == (0, "https://nomad.archive.org\n")


def test_app_prints_instead_of_opening_without_a_display(
    sim_thread: Sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_browser(url: str) -> bool:
        raise AssertionError("a text browser would take over the terminal")

    monkeypatch.setattr("webbrowser.open", no_browser)
    monkeypatch.setattr("sys.platform", "linux")
    ran = invoke(base_env(tmp_path, sim_thread), "app", "services-pyhi")
    assert (ran.code, ran.out) == (0, "https://services-pyhi.dev.archive.org\n")


def test_app_opens_the_browser(
    sim_thread: Sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    def fake_open(url: str) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr("webbrowser.open", fake_open)
    ran = invoke(base_env(tmp_path, sim_thread, DISPLAY=":0"), "app", "internetarchive-hello-js")
    assert ran.code == 0
    assert opened == ["https://internetarchive-hello-js.dev.archive.org"]  # not the canary
    assert "Opened https://internetarchive-hello-js.dev.archive.org" in ran.err


def test_app_of_a_job_without_url(sim_thread: Sim, tmp_path: Path) -> None:
    ran = invoke(base_env(tmp_path, sim_thread), "app", "services-nightly-backup")
    assert ran.code == 1
    assert "has no https:// URL" in one_error_line(ran.err)


# -- pure rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "url"),
    [
        ("https://www.example.org", "https://www.example.org"),
        ("http://old.example.org/x", "http://old.example.org/x"),
        ("urlprefix-av.archive.org:443/", "https://av.archive.org/"),
        ("urlprefix-host.example/path", "https://host.example/path"),
        ("urlprefix-/only-a-path", None),
        ("urlprefix-host:443/ redirect=308,https://x", None),
        ("https://", None),
        ("traefik.enable=true", None),
        ("alive", None),
    ],
)
def test_url_of_tag(tag: str, url: str | None) -> None:
    assert url_of_tag(tag) == url


def test_spec_urls_mark_canary_only_tags() -> None:
    service = Service(
        Name="web",
        Tags=["https://web.example", "plain"],
        CanaryTags=["https://canary-web.example", "https://web.example"],
    )
    job = Job(ID="web", TaskGroups=[TaskGroup(Name="web", Services=[service])])
    assert spec_urls(job) == [
        ("https://web.example", "web", False),
        ("https://canary-web.example", "web", True),
    ]
    assert first_url(job) == "https://web.example"
    assert first_url(Job(ID="batch")) is None


@pytest.mark.parametrize(
    ("instances", "passing", "word"),
    [(0, 0, "-"), (3, 3, "passing"), (3, 1, "warning"), (2, 0, "critical")],
)
def test_health_word(instances: int, passing: int, word: str) -> None:
    assert health_word(instances, passing) == word
