"""Import layers (DESIGN.md "Layout"): the headless core never loads Textual, and the
client never loads the simulator. Each check runs in a fresh interpreter, because this
test process has long since imported everything."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import nomtui


def _modules(package: str) -> list[str]:
    """`package` and every module below it, found on disk (not by importing)."""
    mod = __import__(package, fromlist=["_"])
    found = [package]
    if hasattr(mod, "__path__"):
        found += [m.name for m in pkgutil.walk_packages(mod.__path__, prefix=f"{package}.")]
    return sorted(found)


def _loaded_after_import(modules: list[str]) -> set[str]:
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


# Everything under nomtui except the UI itself (and `__main__`, which runs the CLI):
# cli, errors, sanitize, config, client, models, store, actions, sim, ... as they appear.
HEADLESS = sorted(
    f"nomtui.{m.name}"
    for m in pkgutil.iter_modules(nomtui.__path__)
    if m.name not in ("tui", "__main__")
)


def test_the_layers_exist() -> None:
    assert {"nomtui.cli", "nomtui.client", "nomtui.models", "nomtui.sim"} <= set(HEADLESS)


@pytest.mark.parametrize("package", HEADLESS)
def test_headless_layers_do_not_import_textual(package: str) -> None:
    loaded = _loaded_after_import(_modules(package))
    textual = sorted(m for m in loaded if m == "textual" or m.startswith("textual."))
    assert not textual, f"{package} pulls in Textual: {textual[:5]}"


def test_client_does_not_import_the_sim() -> None:
    loaded = _loaded_after_import(_modules("nomtui.client") + _modules("nomtui.models"))
    assert not [m for m in loaded if m.startswith("nomtui.sim") or m.startswith("nomtui.tui")]


def test_package_version_is_set() -> None:
    assert nomtui.__version__
