"""nomtui.config: defaults, precedence and sources, every environment variable, masking.

Every test injects env, home and cwd (tmp_path); the real home is never read. Named
clusters are in test_config_clusters.py, file readers in test_config_files.py.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from nomtui.config import Flags, Secret, Settings, as_json, render

from ._config_box import CLUSTERS, TOKEN, Box


@pytest.fixture
def box(tmp_path: Path) -> Box:
    return Box(tmp_path)


# -- defaults and precedence ---------------------------------------------------------


def test_defaults_with_nothing_configured(box: Box) -> None:
    s = box.resolve()
    assert s.nomad.address == "http://127.0.0.1:4646"
    assert s.nomad.token is None and s.nomad.region is None and s.nomad.namespace is None
    assert s.nomad.skip_verify is False
    assert s.consul.address == "http://127.0.0.1:8500"
    assert s.cluster is None and not s.read_only and not s.production and s.color is None
    assert s.registry == "registry.archive.org"
    assert s.audit_log == box.home / ".local" / "state" / "nomtui" / "audit.log"
    assert s.keys == {}
    assert s.warnings == []
    assert set(s.sources.values()) == {"default"}
    assert s.config_file == box.home / ".config" / "nomtui" / "config.toml"


def test_every_layer_beats_the_next_for_one_setting(box: Box) -> None:
    """region: flag > --cluster > env > ~/.config/nomad > implicit cluster > default."""
    box.toml('default_cluster = "dev"\n' + CLUSTERS)
    assert (box.resolve().nomad.region, box.resolve().sources["nomad.region"]) == (
        "dev-region",
        "config.toml cluster dev (default_cluster)",
    )
    box.shell("export NOMAD_REGION=file-region\n")
    s = box.resolve()
    assert (s.nomad.region, s.sources["nomad.region"]) == (
        "file-region",
        "~/.config/nomad (NOMAD_REGION)",
    )
    s = box.resolve(NOMAD_REGION="env-region")
    assert (s.nomad.region, s.sources["nomad.region"]) == ("env-region", "env NOMAD_REGION")
    s = box.resolve(Flags(cluster="prod"), NOMAD_REGION="env-region", NOMAD_TOKEN_PROD=TOKEN)
    assert (s.nomad.region, s.sources["nomad.region"]) == (
        "prod-region",
        "config.toml cluster prod (--cluster)",
    )
    s = box.resolve(
        Flags(cluster="prod", region="flag-region"), NOMAD_REGION="e", NOMAD_TOKEN_PROD=TOKEN
    )
    assert (s.nomad.region, s.sources["nomad.region"]) == ("flag-region", "flag --region")


def test_address_ladder_including_base_domain(box: Box) -> None:
    assert box.resolve().sources["nomad.address"] == "default"
    s = box.resolve(BASE_DOMAIN="dev.archive.org")
    assert s.nomad.address == "https://dev.archive.org"
    assert s.sources["nomad.address"] == "https://$BASE_DOMAIN from env BASE_DOMAIN"
    box.toml('default_cluster = "dev"\n' + CLUSTERS)
    s = box.resolve(BASE_DOMAIN="dev.archive.org")
    assert (s.nomad.address, s.cluster) == ("http://dev.example:4646", "dev")
    box.shell("NOMAD_ADDR=http://file.example:4646\n")
    s = box.resolve(BASE_DOMAIN="dev.archive.org")
    assert s.nomad.address == "http://file.example:4646"
    assert s.cluster is None  # dropped: it would name a cluster we are not talking to
    assert any("Cluster dev (default_cluster) is not used" in w for w in s.warnings)
    s = box.resolve(NOMAD_ADDR="http://env.example:4646")
    assert (s.nomad.address, s.sources["nomad.address"]) == (
        "http://env.example:4646",
        "env NOMAD_ADDR",
    )
    s = box.resolve(Flags(cluster="staging"), NOMAD_ADDR="http://env.example:4646")
    assert s.nomad.address == "https://staging.example:4646"
    s = box.resolve(Flags(cluster="staging", addr="http://flag:1"), NOMAD_ADDR="http://e:1")
    assert (s.nomad.address, s.sources["nomad.address"]) == ("http://flag:1", "flag --addr")


def test_base_domain_from_shell_file_and_env_wins(box: Box) -> None:
    box.shell("export BASE_DOMAIN=file.archive.org\n")
    assert box.resolve().nomad.address == "https://file.archive.org"
    s = box.resolve(BASE_DOMAIN="env.archive.org")
    assert s.nomad.address == "https://env.archive.org"
    # NOMAD_ADDR from anywhere beats BASE_DOMAIN from anywhere.
    box.shell("export BASE_DOMAIN=file.archive.org\nexport NOMAD_ADDR=http://x:1\n")
    assert box.resolve(BASE_DOMAIN="env.archive.org").nomad.address == "http://x:1"


def test_empty_variables_count_as_unset(box: Box) -> None:
    s = box.resolve(NOMAD_ADDR="", NOMAD_TOKEN="  ", NOMAD_SKIP_VERIFY="")
    assert s.nomad.address == "http://127.0.0.1:4646" and s.nomad.token is None


# -- every environment variable ------------------------------------------------------


def test_nomad_string_and_token_variables(box: Box) -> None:
    s = box.resolve(
        NOMAD_ADDR="https://nomad.example:4646/",
        NOMAD_TOKEN=TOKEN,
        NOMAD_REGION="eu",
        NOMAD_NAMESPACE="*",
        NOMAD_TLS_SERVER_NAME="server.global.nomad",
        NOMAD_HTTP_AUTH="alice:pw",
    )
    assert s.nomad.address == "https://nomad.example:4646"
    assert s.nomad.token is not None and s.nomad.token.reveal() == TOKEN
    assert (s.nomad.region, s.nomad.namespace) == ("eu", "*")
    assert s.nomad.tls_server_name == "server.global.nomad"
    assert s.nomad.http_auth is not None and s.nomad.http_auth.reveal() == "alice:pw"
    for key, var in [("token", "NOMAD_TOKEN"), ("http_auth", "NOMAD_HTTP_AUTH")]:
        assert s.sources[f"nomad.{key}"] == f"env {var}"


def test_nomad_tls_file_variables(box: Box) -> None:
    ca, cert, key = box.file("ca.pem"), box.file("c.pem"), box.file("k.pem")
    capath = box.root / "cas"
    capath.mkdir()
    s = box.resolve(
        NOMAD_CACERT=str(ca),
        NOMAD_CAPATH=str(capath),
        NOMAD_CLIENT_CERT=str(cert),
        NOMAD_CLIENT_KEY="../k.pem",  # relative to the working directory, as the CLI opens it
    )
    assert (s.nomad.ca_cert, s.nomad.ca_path, s.nomad.client_cert) == (ca, capath, cert)
    assert s.nomad.client_key is not None and s.nomad.client_key.resolve() == key


@pytest.mark.parametrize("var", ["NOMAD_CLIENT_CERT", "NOMAD_CLIENT_KEY"])
def test_half_a_client_certificate_is_an_error(box: Box, var: str) -> None:
    message = box.error(**{var: str(box.file("half.pem"))})
    assert "NOMAD_CLIENT_CERT" in message and "NOMAD_CLIENT_KEY" in message
    assert f"only {var} is set" in message


def test_missing_tls_file_is_an_error_naming_the_source(box: Box) -> None:
    message = box.error(NOMAD_CACERT=str(box.root / "nope.pem"))
    assert "nomad.ca_cert (env NOMAD_CACERT)" in message and "not a readable file" in message


@pytest.mark.parametrize(
    ("text", "value"),
    [(t, True) for t in ("1", "t", "T", "TRUE", "true", "True")]
    + [(f, False) for f in ("0", "f", "F", "FALSE", "false", "False")],
)
def test_skip_verify_uses_go_parsebool(box: Box, text: str, value: bool) -> None:
    assert box.resolve(NOMAD_SKIP_VERIFY=text).nomad.skip_verify is value


@pytest.mark.parametrize("text", ["yes", "on", "tRuE", "2"])
def test_skip_verify_rejects_other_words(box: Box, text: str) -> None:
    message = box.error(NOMAD_SKIP_VERIFY=text)
    assert message.startswith(f"env NOMAD_SKIP_VERIFY is {text!r}, which is not a boolean")


def test_a_bad_value_that_loses_is_only_a_warning(box: Box) -> None:
    s = box.resolve(Flags(skip_verify=True), NOMAD_SKIP_VERIFY="yes")
    assert s.nomad.skip_verify is True and s.sources["nomad.skip_verify"] == "flag --skip-verify"
    assert any("Ignored: flag --skip-verify wins" in w for w in s.warnings)


def test_nomad_addr_user_info_becomes_basic_auth(box: Box) -> None:
    s = box.resolve(NOMAD_ADDR="https://bob:p%40ss@proxy.example:443")
    assert s.nomad.address == "https://proxy.example:443"
    assert s.nomad.http_auth is not None and s.nomad.http_auth.reveal() == "bob:p@ss"
    assert s.sources["nomad.http_auth"] == "env NOMAD_ADDR user info"
    # As in the Go client, user info in the URL wins over NOMAD_HTTP_AUTH.
    s = box.resolve(NOMAD_ADDR="http://u:pw@h:1", NOMAD_HTTP_AUTH="other:x")
    assert s.nomad.http_auth is not None and s.nomad.http_auth.reveal() == "u:pw"
    assert box.resolve(NOMAD_ADDR="http://only@h:1").nomad.http_auth == Secret("only")
    assert "p@ss" not in repr(s) and "pw" not in json.dumps(as_json(s))


@pytest.mark.parametrize(
    "addr", ["unix:///var/run/nomad.sock", "http://[::1]:4646", "https://nomad.example"]
)
def test_accepted_address_forms(box: Box, addr: str) -> None:
    assert box.resolve(NOMAD_ADDR=addr).nomad.address == addr


@pytest.mark.parametrize(
    ("addr", "words"),
    [
        ("127.0.0.1:4646", "lacks a scheme"),
        ("ftp://x:1", "must start with http://, https:// or unix://"),
        ("http://h:port", "port is not a number"),
        ("https://:4646", "names no host"),
    ],
)
def test_bad_addresses_are_one_sentence(box: Box, addr: str, words: str) -> None:
    message = box.error(NOMAD_ADDR=addr)
    assert message.startswith("env NOMAD_ADDR is ") and words in message


def test_bad_address_message_hides_the_password(box: Box) -> None:
    message = box.error(NOMAD_ADDR=f"ftp://user:{TOKEN}@host")
    assert TOKEN not in message and "***@host" in message


def test_consul_variables(box: Box) -> None:
    ca, cert, key = box.file("ca.pem"), box.file("c.pem"), box.file("k.pem")
    s = box.resolve(
        CONSUL_HTTP_ADDR="consul.example:8501",
        CONSUL_HTTP_SSL="true",
        CONSUL_HTTP_SSL_VERIFY="false",
        CONSUL_HTTP_TOKEN=TOKEN,
        CONSUL_HTTP_AUTH="carol:pw",
        CONSUL_CACERT=str(ca),
        CONSUL_CAPATH=str(box.root),
        CONSUL_CLIENT_CERT=str(cert),
        CONSUL_CLIENT_KEY=str(key),
        CONSUL_TLS_SERVER_NAME="consul.example:8501",
        CONSUL_NAMESPACE="team-a",
    )
    c = s.consul
    assert c.address == "https://consul.example:8501"
    assert s.sources["consul.address"] == "env CONSUL_HTTP_ADDR, https by env CONSUL_HTTP_SSL"
    assert c.skip_verify is True and s.sources["consul.skip_verify"] == "env CONSUL_HTTP_SSL_VERIFY"
    assert c.token is not None and c.token.reveal() == TOKEN
    assert c.http_auth is not None and c.http_auth.reveal() == "carol:pw"
    assert (c.ca_cert, c.ca_path, c.client_cert, c.client_key) == (ca, box.root, cert, key)
    assert c.tls_server_name == "consul.example"  # the port is stripped, as in Go
    assert c.namespace == "team-a"


@pytest.mark.parametrize(
    ("env", "address"),
    [
        ({}, "http://127.0.0.1:8500"),
        ({"CONSUL_HTTP_SSL": "1"}, "https://127.0.0.1:8500"),
        ({"CONSUL_HTTP_ADDR": "10.0.0.1:8500"}, "http://10.0.0.1:8500"),
        ({"CONSUL_HTTP_ADDR": "https://c.example"}, "https://c.example"),
        # A scheme in the address wins over CONSUL_HTTP_SSL, as in the Go client.
        ({"CONSUL_HTTP_ADDR": "http://c:8500", "CONSUL_HTTP_SSL": "true"}, "http://c:8500"),
        ({"CONSUL_HTTP_ADDR": "unix:///tmp/consul.sock"}, "unix:///tmp/consul.sock"),
    ],
)
def test_consul_address_forms(box: Box, env: dict[str, str], address: str) -> None:
    assert box.resolve(**env).consul.address == address


def test_consul_token_file_wins_over_token(box: Box) -> None:
    token_file = box.file("consul-token", TOKEN + "\n")
    s = box.resolve(CONSUL_HTTP_TOKEN="loser", CONSUL_HTTP_TOKEN_FILE=str(token_file))
    assert s.consul.token is not None and s.consul.token.reveal() == TOKEN
    assert s.sources["consul.token"] == "env CONSUL_HTTP_TOKEN_FILE"


def test_consul_flags(box: Box) -> None:
    s = box.resolve(Flags(consul_addr="c:1", consul_token=TOKEN), CONSUL_HTTP_ADDR="e:2")
    assert s.consul.address == "http://c:1" and s.sources["consul.address"] == "flag --consul-addr"
    assert s.consul.token is not None and s.consul.token.reveal() == TOKEN
    assert any("--consul-token puts the token in the process list" in w for w in s.warnings)


# -- never show a token ----------------------------------------------------------------


def _all_printed_forms(s: Settings) -> str:
    return "\n".join(
        [repr(s), str(s), repr(s.nomad), str(s.consul), json.dumps(as_json(s))]
        + [" ".join(row) for row in render(s)]
        + s.warnings
        + list(s.sources.values())
    )


def test_tokens_are_masked_everywhere(box: Box) -> None:
    box.file("ct", TOKEN)
    s = box.resolve(
        Flags(token=TOKEN),
        NOMAD_HTTP_AUTH=f"user:{TOKEN}",
        CONSUL_HTTP_TOKEN_FILE=str(box.root / "ct"),
    )
    assert s.nomad.token is not None and s.nomad.token.reveal() == TOKEN
    printed = _all_printed_forms(s)
    assert TOKEN not in printed
    assert "s3cr… (40 chars)" in printed  # prefix and length, to tell tokens apart
    assert "user:****" in printed
    assert TOKEN not in repr(Flags(token=TOKEN, consul_token=TOKEN))


def test_cluster_tokens_are_masked(box: Box) -> None:
    box.toml(CLUSTERS)
    s = box.resolve(Flags(cluster="prod"), NOMAD_TOKEN_PROD=TOKEN)
    assert TOKEN not in _all_printed_forms(s)


def test_render_rows_and_json(box: Box) -> None:
    box.toml('registry = "registry.example"\n[keys]\nquit = "ctrl+q"\n')
    s = box.resolve(NOMAD_TOKEN=TOKEN)
    rows = {name: (value, source) for name, value, source in render(s)}
    assert rows["nomad.token"] == ("s3cr… (40 chars)", "env NOMAD_TOKEN")
    assert rows["nomad.region"] == ("(not set)", "default")
    assert rows["registry"] == ("registry.example", "config.toml registry")
    assert rows["keys.quit"] == ("ctrl+q", "config.toml [keys]")
    assert rows["config_file"][1] == "found"
    data = as_json(s)
    assert data["nomad"]["token"] == "s3cr… (40 chars)"
    assert data["consul"]["token"] is None
    assert data["keys"] == {"quit": "ctrl+q"}
    assert data["sources"]["nomad.token"] == "env NOMAD_TOKEN"
    json.dumps(data)  # serialisable as is


def test_secret_behaviour() -> None:
    secret = Secret(TOKEN)
    assert TOKEN not in repr(secret) and TOKEN not in str(secret) and TOKEN not in f"{secret}"
    assert Secret("short").masked() == "****"
    assert secret == Secret(TOKEN) and secret != Secret("other")
    assert not Secret("")
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_config_package_does_not_import_textual() -> None:
    code = "import sys, nomtui.config; print(any(m.startswith('textual') for m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=os.environ
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
