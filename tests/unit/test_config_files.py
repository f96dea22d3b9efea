"""nomtui.config file readers: ~/.config/nomad as data, config.toml checks, git HEAD."""

from __future__ import annotations

from pathlib import Path

import pytest

from nomtui.config import Flags, resolve
from nomtui.config.git import current_branch
from nomtui.config.shellfile import parse_assignments
from nomtui.errors import ConfigError

from ._config_box import TOKEN, Box


@pytest.fixture
def box(tmp_path: Path) -> Box:
    return Box(tmp_path)


def parse(text: str, **env: str) -> tuple[dict[str, str], list[str]]:
    return parse_assignments(text, env, Path("/home/u"), "~/.config/nomad")


# -- ~/.config/nomad -----------------------------------------------------------------


def test_shell_file_assignment_forms() -> None:
    values, warnings = parse(
        "# comment\n"
        "\n"
        "export NOMAD_ADDR=https://nomad.example:4646   # trailing comment\n"
        "NOMAD_REGION='eu west'\n"
        'NOMAD_NAMESPACE="team a"\n'
        "  export   A=1 B=two\n"
        "C=a#b\n"
        "export NOMAD_REGION\n"
        "D=\n"
    )
    assert values == {
        "NOMAD_ADDR": "https://nomad.example:4646",
        "NOMAD_REGION": "eu west",
        "NOMAD_NAMESPACE": "team a",
        "A": "1",
        "B": "two",
        "C": "a#b",
        "D": "",
    }
    assert warnings == []


def test_shell_file_expansions() -> None:
    values, warnings = parse(
        "BASE=archive.org\n"
        "A=https://$BASE\n"
        'B="${BASE}:4646"\n'
        "C='$BASE'\n"
        'D="\\$BASE \\"q\\""\n'
        "E=${MISSING:-fallback}\n"
        "F=${BASE-unused}\n"
        "G=$FROM_ENV/x\n"
        "H=~/certs/ca.pem\n"
        "I='~/literal'\n"
        "J=$HOME\n"
        "K=cost$\n",
        FROM_ENV="env-value",
    )
    assert values["A"] == "https://archive.org"
    assert values["B"] == "archive.org:4646"
    assert values["C"] == "$BASE"
    assert values["D"] == '$BASE "q"'
    assert values["E"] == "fallback"
    assert values["F"] == "archive.org"
    assert values["G"] == "env-value/x"
    assert values["H"] == "/home/u/certs/ca.pem"
    assert values["I"] == "~/literal"
    assert values["J"] == "/home/u"
    assert values["K"] == "cost$"
    assert warnings == []


def test_shell_file_later_assignment_and_unset_reference() -> None:
    values, warnings = parse("A=1\nA=$A$A\nB=$NOPE\n")
    assert values == {"A": "11", "B": ""}
    assert warnings == ["~/.config/nomad line 3: B refers to $NOPE, which is not set."]


def test_shell_file_continuations_and_multiline_quotes() -> None:
    values, warnings = parse("A=one\\\ntwo\nB='x\ny'\nC=3\n")
    assert values == {"A": "onetwo", "B": "x\ny", "C": "3"}
    assert warnings == []


def test_command_substitution_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    back = tmp_path / "pwned-backtick"
    values, warnings = parse(
        f"A=$(touch {marker})\n"
        f'B="x$(touch {marker}; echo y)z"\n'
        f"C=`touch {back}`\n"
        "D=$((1 + 2))\n"
        f"touch {marker}\n"
    )
    assert not marker.exists() and not back.exists()
    assert values["A"] == f"$(touch {marker})"
    assert values["B"] == f"x$(touch {marker}; echo y)z"
    assert values["C"] == f"`touch {back}`"
    assert values["D"] == "$((1 + 2))"
    assert sum("command substitution" in w for w in warnings) == 4
    assert "line(s) 5 are not NAME=value assignments" in warnings[-1]


def test_command_substitution_through_resolve_is_inert(box: Box) -> None:
    marker = box.root / "pwned"
    box.shell(f"export NOMAD_TOKEN=$(touch {marker}; echo tok)\n")
    s = box.resolve()
    assert not marker.exists()
    assert any("does not run" in w for w in s.warnings)
    # With the variable exported in the environment the file's value does not matter.
    s = box.resolve(NOMAD_TOKEN=TOKEN)
    assert not any("does not run" in w for w in s.warnings)
    assert not marker.exists()


def test_non_assignments_are_skipped_and_reported() -> None:
    values, warnings = parse(
        "source ~/.other\nif [ -n x ]; then\n  export A=1\nfi\nalias k=kubectl\nB='open\n"
    )
    assert values == {"A": "1"}
    assert warnings == [
        "~/.config/nomad: line(s) 1, 2, 4, 5, 6 are not NAME=value assignments and were "
        "skipped (nomtui reads this file as data and never runs it)."
    ]


def test_unsupported_parameter_expansion_is_literal() -> None:
    values, warnings = parse("A=${B#x}\n")
    assert values == {"A": "${B#x}"}
    assert warnings == ["~/.config/nomad line 1: A uses ${B#x}, which nomtui keeps literally."]


def test_environment_beats_the_shell_file(box: Box) -> None:
    box.shell("export NOMAD_ADDR=http://file:4646\nexport NOMAD_TOKEN=file-token\n")
    s = box.resolve()
    assert s.nomad.address == "http://file:4646"
    assert s.sources["nomad.address"] == "~/.config/nomad (NOMAD_ADDR)"
    s = box.resolve(NOMAD_ADDR="http://env:4646")
    assert s.nomad.address == "http://env:4646"
    assert s.sources["nomad.token"] == "~/.config/nomad (NOMAD_TOKEN)"


@pytest.mark.parametrize(
    ("text", "mode", "warned"),
    [
        (f"export NOMAD_TOKEN={TOKEN}\n", 0o600, False),
        (f"export NOMAD_TOKEN={TOKEN}\n", 0o644, True),
        (f"export CONSUL_HTTP_TOKEN={TOKEN}\n", 0o604, True),
        ("export NOMAD_ADDR=http://x:1\n", 0o644, False),
    ],
)
def test_shell_file_permission_warning(box: Box, text: str, mode: int, warned: bool) -> None:
    box.shell(text, mode=mode)
    warnings = box.resolve().warnings
    assert any("readable by other users" in w for w in warnings) is warned
    assert all(TOKEN not in w for w in warnings)


def test_shell_file_that_is_a_directory_is_ignored(box: Box) -> None:
    (box.home / ".config" / "nomad").mkdir(parents=True)
    assert box.resolve().warnings == []


def test_unreadable_shell_file_is_one_sentence(box: Box) -> None:
    path = box.shell("A=1\n")
    path.write_bytes(b"A=\xff\xfe\n")
    with pytest.raises(ConfigError, match=r"^~/.config/nomad is not UTF-8 text"):
        box.resolve()


# -- config.toml ---------------------------------------------------------------------


def test_toml_syntax_error_names_file_and_line(box: Box) -> None:
    box.toml(f'default_cluster = "dev"\n[clusters.dev\ntoken = "{TOKEN}"\n')
    with pytest.raises(ConfigError) as caught:
        box.resolve()
    message = caught.value.message
    assert message.startswith("~/.config/nomtui/config.toml is not valid TOML: ")
    assert "line 2" in message and TOKEN not in message


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ('[clusters.a]\nregion = "x"\n', "clusters.a has no address"),
        ('[clusters.a]\naddress = "http://a:1"\nread_only = "yes"\n', "clusters.a.read_only"),
        ("[clusters.a]\naddress = 4646\n", "must be a non-empty string, not a number"),
        ('default_cluster = "nope"\n', "default_cluster is 'nope'"),
        ('[branches]\nproduction = "nope"\n', "branches.production names cluster 'nope'"),
        (
            '[clusters.a]\naddress = "http://a:1"\ntoken_env = "A"\ntoken_file = "f"\n',
            "sets token_env and token_file",
        ),
        ('[clusters.a]\naddress = "a:1"\n', "lacks a scheme"),
        ("keys = 3\n", "keys must be a table"),
        (f'[clusters.a]\naddress = "http://a:1"\ntoken = {len(TOKEN)}\n', "clusters.a.token"),
    ],
)
def test_toml_content_errors(box: Box, toml: str, words: str) -> None:
    box.toml(toml)
    with pytest.raises(ConfigError) as caught:
        box.resolve()
    assert words in caught.value.message
    assert caught.value.message.count(". ") == 0  # one sentence


def test_unknown_keys_are_warnings(box: Box) -> None:
    box.toml('colour = "red"\n[clusters.a]\nadress = "x"\naddress = "http://a:1"\n')
    warnings = box.resolve().warnings
    assert any("unknown key 'colour'" in w for w in warnings)
    assert any("unknown key clusters.a.adress" in w for w in warnings)


def test_top_level_options(box: Box) -> None:
    box.toml('registry = { host = "reg.example" }\naudit_log = "logs/audit.log"\n')
    s = box.resolve()
    assert s.registry == "reg.example"
    assert s.audit_log == box.home / ".config" / "nomtui" / "logs" / "audit.log"
    assert s.sources["audit_log"] == "config.toml audit_log"
    box.toml('audit_log = "~/audit.log"\n')
    assert box.resolve().audit_log == box.home / "audit.log"


def test_xdg_directories(box: Box) -> None:
    xdg = box.root / "xdg"
    (xdg / "nomtui").mkdir(parents=True)
    (xdg / "nomtui" / "config.toml").write_text('registry = "from-xdg"\n')
    s = box.resolve(XDG_CONFIG_HOME=str(xdg), XDG_STATE_HOME=str(box.root / "state"))
    assert s.registry == "from-xdg"
    assert s.config_file == xdg / "nomtui" / "config.toml"
    assert s.audit_log == box.root / "state" / "nomtui" / "audit.log"
    # A relative XDG path is ignored, as the spec says.
    assert box.resolve(XDG_CONFIG_HOME="rel").registry == "registry.archive.org"


def test_cluster_paths_are_relative_to_the_config_file(box: Box) -> None:
    conf = box.home / ".config" / "nomtui"
    conf.mkdir(parents=True)
    (conf / "ca.pem").write_text("x")
    box.toml('[clusters.a]\naddress = "https://a:1"\nca_cert = "ca.pem"\nskip_verify = true\n')
    s = resolve(Flags(cluster="a"), env={}, home=box.home, cwd=box.cwd)
    assert s.nomad.ca_cert == conf / "ca.pem" and s.nomad.skip_verify is True


# -- git -----------------------------------------------------------------------------


def test_current_branch(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/feature/a-b\n")
    (repo / "x" / "y").mkdir(parents=True)
    assert current_branch(repo / "x" / "y") == "feature/a-b"
    (repo / ".git" / "HEAD").write_text("89abcdef" * 5 + "\n")
    assert current_branch(repo) is None
    assert current_branch(tmp_path) is None


def test_current_branch_through_a_relative_gitdir_file(tmp_path: Path) -> None:
    (tmp_path / "store" / "wt").mkdir(parents=True)
    (tmp_path / "store" / "wt" / "HEAD").write_text("ref: refs/heads/production\n")
    (tmp_path / "checkout").mkdir()
    (tmp_path / "checkout" / ".git").write_text("gitdir: ../store/wt\n")
    assert current_branch(tmp_path / "checkout") == "production"
    (tmp_path / "checkout" / ".git").write_text("garbage\n")
    assert current_branch(tmp_path / "checkout") is None
