"""nomtui.config named clusters: --cluster vs the environment, token forms, branches."""

from __future__ import annotations

from pathlib import Path

import pytest

from nomtui.config import Flags, resolve

from ._config_box import CLUSTERS, TOKEN, Box


@pytest.fixture
def box(tmp_path: Path) -> Box:
    return Box(tmp_path)


# -- named clusters ------------------------------------------------------------------


def test_explicit_cluster_beats_environment_address_and_token(box: Box) -> None:
    box.toml(CLUSTERS)
    s = box.resolve(
        Flags(cluster="prod"),
        NOMAD_ADDR="http://env:4646",
        NOMAD_TOKEN="env-token",
        NOMAD_TOKEN_PROD=TOKEN,
    )
    assert (s.cluster, s.nomad.address) == ("prod", "https://prod.example:4646")
    assert s.nomad.token is not None and s.nomad.token.reveal() == TOKEN
    assert s.sources["nomad.token"] == "config.toml cluster prod (--cluster) token_env"
    assert s.sources["cluster"] == "config.toml cluster prod (--cluster)"
    assert (s.production, s.read_only, s.color) == (True, True, "red")
    assert s.consul.address == "https://consul.prod.example:8501"


def test_explicit_cluster_without_token_warns_about_a_foreign_token(box: Box) -> None:
    box.toml(CLUSTERS)
    s = box.resolve(Flags(cluster="staging"), NOMAD_ADDR="http://env:4646", NOMAD_TOKEN=TOKEN)
    assert s.nomad.address == "https://staging.example:4646"
    assert s.sources["nomad.token"] == "env NOMAD_TOKEN"
    assert any("goes with http://env:4646" in w for w in s.warnings)


def test_implicit_cluster_ranks_below_the_environment(box: Box) -> None:
    box.toml('default_cluster = "dev"\n' + CLUSTERS)
    s = box.resolve(NOMAD_REGION="env-region")
    assert (s.cluster, s.nomad.address, s.nomad.region) == (
        "dev",
        "http://dev.example:4646",
        "env-region",
    )
    s = box.resolve(NOMAD_ADDR="http://elsewhere:4646")
    assert s.cluster is None and s.nomad.address == "http://elsewhere:4646"
    assert any("pass --cluster dev to use it" in w for w in s.warnings)


def test_an_address_equal_to_a_cluster_names_that_cluster(box: Box) -> None:
    box.toml(CLUSTERS)
    s = box.resolve(NOMAD_ADDR="https://PROD.example:4646/", NOMAD_TOKEN_PROD=TOKEN)
    assert (s.cluster, s.production) == ("prod", True)
    assert s.sources["cluster"] == "config.toml cluster prod (matches env NOMAD_ADDR)"
    assert s.nomad.token is not None and s.nomad.token.reveal() == TOKEN


def test_unknown_cluster_lists_the_known_ones(box: Box) -> None:
    box.toml(CLUSTERS)
    message = box.error(Flags(cluster="prdo"))
    assert message == (
        "Unknown cluster 'prdo'; the clusters in ~/.config/nomtui/config.toml are: "
        "dev, prod, staging."
    )


def test_unknown_cluster_without_a_config_file(box: Box) -> None:
    message = box.error(Flags(cluster="prod"))
    assert "Unknown cluster 'prod'" in message and "there is no such file" in message


def test_token_env_that_is_unset_is_an_error_only_when_used(box: Box) -> None:
    box.toml(CLUSTERS)
    assert box.resolve(Flags(cluster="dev")).nomad.token is None
    message = box.error(Flags(cluster="prod"))
    assert "$NOMAD_TOKEN_PROD, which is not set" in message


def test_token_env_may_come_from_the_shell_file(box: Box) -> None:
    box.toml(CLUSTERS)
    box.shell(f"export NOMAD_TOKEN_PROD={TOKEN}\n")
    s = box.resolve(Flags(cluster="prod"))
    assert s.nomad.token is not None and s.nomad.token.reveal() == TOKEN


def test_literal_token_works_but_warns(box: Box) -> None:
    box.toml(f'[clusters.dev]\naddress = "http://d:1"\ntoken = "{TOKEN}"\n')
    s = box.resolve(Flags(cluster="dev"))
    assert s.nomad.token is not None and s.nomad.token.reveal() == TOKEN
    assert any("written into config.toml" in w for w in s.warnings)
    assert not any("readable by other users" in w for w in s.warnings)  # 0600


def test_literal_token_in_a_readable_config_warns_about_permissions(box: Box) -> None:
    box.toml(f'[clusters.dev]\naddress = "http://d:1"\ntoken = "{TOKEN}"\n', mode=0o644)
    s = box.resolve()
    assert any("config.toml holds a token and is readable" in w for w in s.warnings)
    assert any("mode 0644" in w for w in s.warnings)


@pytest.mark.parametrize(("mode", "warned"), [(0o600, False), (0o640, True), (0o644, True)])
def test_token_file(box: Box, mode: int, warned: bool) -> None:
    box.file("prod-token", f"  {TOKEN}\n", mode=mode)
    box.toml('[clusters.p]\naddress = "http://p:1"\ntoken_file = "../../../prod-token"\n')
    s = box.resolve(Flags(cluster="p"))
    assert s.nomad.token is not None and s.nomad.token.reveal() == TOKEN
    assert s.sources["nomad.token"] == "config.toml cluster p (--cluster) token_file"
    assert any("readable by other users" in w for w in s.warnings) is warned


@pytest.mark.parametrize(("content", "words"), [(None, "Cannot read"), ("\n", "is empty")])
def test_token_file_problems(box: Box, content: str | None, words: str) -> None:
    if content is not None:
        box.file("tok", content)
    box.toml('[clusters.p]\naddress = "http://p:1"\ntoken_file = "~/../tok"\n')
    assert words in box.error(Flags(cluster="p"))


def test_token_command(box: Box) -> None:
    script = box.script("get-token", f"import sys; print(sys.argv[1], {TOKEN!r})")
    box.toml(f"[clusters.p]\naddress = \"http://p:1\"\ntoken_command = \"'{script}' 'a b'\"\n")
    s = box.resolve(Flags(cluster="p"))
    assert s.nomad.token is not None and s.nomad.token.reveal() == f"a b {TOKEN}"
    assert s.sources["nomad.token"] == "config.toml cluster p (--cluster) token_command"


def test_failing_token_command_names_the_command_not_its_output(box: Box) -> None:
    body = f"import sys; print({TOKEN!r}); print({TOKEN!r}, file=sys.stderr); sys.exit(3)"
    script = box.script("bad-token", body)
    box.toml(f'[clusters.p]\naddress = "http://p:1"\ntoken_command = "{script} show"\n')
    message = box.error(Flags(cluster="p"))
    assert f"`{script} show`" in message and "exit status 3" in message
    assert TOKEN not in message


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("/nonexistent/cmd", "Cannot run"),
        ("'unclosed", "Cannot split"),
        ("true", "printed nothing"),
    ],
)
def test_token_command_problems(box: Box, command: str, words: str) -> None:
    box.toml(f'[clusters.p]\naddress = "http://p:1"\ntoken_command = "{command}"\n')
    assert words in box.error(Flags(cluster="p"))


def test_token_command_timeout(box: Box, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("nomtui.config.files.TOKEN_COMMAND_TIMEOUT_S", 0.2)
    script = box.script("slow", "import time; time.sleep(5)")
    box.toml(f'[clusters.p]\naddress = "http://p:1"\ntoken_command = "{script}"\n')
    assert "did not finish within 0.2 s" in box.error(Flags(cluster="p"))


def test_token_command_of_an_unused_cluster_never_runs(box: Box) -> None:
    marker = box.root / "ran"
    script = box.script("tok", f"open({str(marker)!r}, 'w'); print('t' * 20)")
    box.toml(CLUSTERS + f'[clusters.other]\naddress = "http://o:1"\ntoken_command = "{script}"\n')
    box.resolve(Flags(cluster="dev"))
    assert not marker.exists()
    # ...and a cluster token that loses to the environment is not fetched either.
    box.resolve(Flags(cluster="other", token="from-flag"))
    assert not marker.exists()


def test_consul_token_forms_in_a_cluster(box: Box) -> None:
    box.file("ct", TOKEN)
    box.toml(
        '[clusters.p]\naddress = "http://p:1"\nconsul_address = "c.p:8500"\n'
        'consul_token_file = "/nonexistent"\n'
    )
    assert "Cannot read the token file /nonexistent" in box.error(Flags(cluster="p"))
    box.toml(
        '[clusters.p]\naddress = "http://p:1"\nconsul_address = "c.p:8500"\n'
        'consul_token_env = "CT"\nconsul_skip_verify = true\n'
    )
    s = box.resolve(Flags(cluster="p"), CT=TOKEN)
    assert s.consul.token is not None and s.consul.token.reveal() == TOKEN
    assert (s.consul.address, s.consul.skip_verify) == ("http://c.p:8500", True)


def test_read_only_flag_and_cluster(box: Box) -> None:
    box.toml(CLUSTERS)
    s = box.resolve(Flags(read_only=True))
    assert s.read_only and s.sources["read_only"] == "flag --read-only"
    s = box.resolve(Flags(cluster="prod"), NOMAD_TOKEN_PROD=TOKEN)
    assert s.read_only and s.sources["read_only"] == "config.toml cluster prod (--cluster)"
    assert not box.resolve(Flags(cluster="dev")).read_only


# -- branch -> cluster ---------------------------------------------------------------


def test_production_branch_picks_the_prod_cluster(box: Box) -> None:
    box.toml('default_cluster = "dev"\n' + CLUSTERS)
    box.branch("ref: refs/heads/production")
    s = box.resolve(NOMAD_TOKEN_PROD=TOKEN)
    assert (
        s.cluster == "prod"
        and s.sources["cluster"] == "config.toml cluster prod (branch production)"
    )
    box.branch("ref: refs/heads/staging")
    assert box.resolve().cluster == "staging"


def test_detached_head_and_other_branches_fall_back_to_default_cluster(box: Box) -> None:
    box.toml('default_cluster = "dev"\n' + CLUSTERS)
    box.branch("0123456789abcdef0123456789abcdef01234567")
    assert box.resolve().cluster == "dev"
    box.branch("ref: refs/heads/feature/x")
    assert box.resolve().sources["cluster"] == "config.toml cluster dev (default_cluster)"


def test_worktree_git_file_is_followed(box: Box) -> None:
    box.toml(CLUSTERS)
    gitdir = box.root / "main-repo" / ".git" / "worktrees" / "wt"
    gitdir.mkdir(parents=True)
    (gitdir / "HEAD").write_text("ref: refs/heads/staging\n")
    (box.cwd / ".git").write_text(f"gitdir: {gitdir}\n")
    sub = box.cwd / "src" / "deep"
    sub.mkdir(parents=True)
    s = resolve(Flags(), env={}, home=box.home, cwd=sub)
    assert s.cluster == "staging"


def test_branch_map_from_config_merges_over_the_defaults(box: Box) -> None:
    box.toml('[branches]\nmain = "dev"\nstaging = ""\n' + CLUSTERS)
    box.branch("ref: refs/heads/main")
    assert box.resolve().cluster == "dev"
    box.branch("ref: refs/heads/staging")  # switched off
    assert box.resolve().cluster is None
    box.branch("ref: refs/heads/production")  # default mapping kept
    assert box.resolve(NOMAD_TOKEN_PROD=TOKEN).cluster == "prod"


def test_no_named_cluster_without_config(box: Box) -> None:
    box.branch("ref: refs/heads/production")
    s = box.resolve()
    assert s.cluster is None and s.warnings == []


def test_explicit_cluster_beats_the_branch(box: Box) -> None:
    box.toml(CLUSTERS)
    box.branch("ref: refs/heads/production")
    assert box.resolve(Flags(cluster="dev")).cluster == "dev"
