"""Reading a git checkout from its files: where it is, its remote, its HEAD.

Spawning `git` for each of these would cost a process (tens of milliseconds) per
one-shot command and depend on PATH; HEAD, config, refs and packed-refs are plain
files. Handles a plain checkout, a linked worktree or submodule (whose `.git` is a file
`gitdir: <path>`, and whose config and refs may live in a `commondir`), a detached HEAD
and packed refs. Only a reftable repository, whose refs are not plain files, is asked
through `git`.

Not handled: `[include]` files and `url.<base>.insteadOf` rewrites in git config (the
remote URL is taken as written in the repository's own config).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple

from nomtui.errors import ConfigError

_BRANCH_REF = "refs/heads/"
# A reftable repository keeps this placeholder in HEAD for older tools.
_REFTABLE_PLACEHOLDER = "refs/heads/.invalid"
_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")


class Checkout(NamedTuple):
    """A working tree and where git keeps its data for it."""

    root: Path
    """The top of the working tree (what `git rev-parse --show-toplevel` prints)."""
    git_dir: Path
    """Per-worktree data: HEAD. Equal to `common_dir` outside linked worktrees."""
    common_dir: Path
    """Shared data: config, refs, packed-refs."""


def find_checkout(start: Path) -> Checkout | None:
    """The checkout around `start` (the nearest `.git` upwards, as for git), or None."""
    start = Path(os.path.abspath(start))
    for directory in (start, *start.parents):
        dotgit = directory / ".git"
        if dotgit.is_dir():
            return Checkout(directory, dotgit, _common_dir(dotgit))
        if dotgit.is_file():
            git_dir = _gitdir_pointer(dotgit)
            if git_dir is None:
                return None
            return Checkout(directory, git_dir, _common_dir(git_dir))
    return None


def _gitdir_pointer(dotgit: Path) -> Path | None:
    """The directory a worktree's or submodule's `.git` file points at."""
    try:
        first = dotgit.read_text(encoding="utf-8").splitlines()[0]
    except (OSError, UnicodeDecodeError, IndexError):
        return None  # an unreadable pointer is "not a checkout", as git would say
    if not first.startswith("gitdir:"):
        return None
    target = Path(first.removeprefix("gitdir:").strip())
    return target if target.is_absolute() else Path(os.path.normpath(dotgit.parent / target))


def _common_dir(git_dir: Path) -> Path:
    # A linked worktree's git dir (.git/worktrees/<name>) names the shared one in `commondir`.
    try:
        pointer = (git_dir / "commondir").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return git_dir
    target = Path(pointer)
    return target if target.is_absolute() else Path(os.path.normpath(git_dir / target))


def remote_url(checkout: Checkout) -> str | None:
    """The `origin` remote's URL, else the first remote's, else None."""
    remotes = _remote_urls(_read(checkout.common_dir / "config") or "")
    if "origin" in remotes:
        return remotes["origin"]
    return next(iter(remotes.values()), None)


_SECTION = re.compile(r'\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]')


def _remote_urls(config_text: str) -> dict[str, str]:
    """remote name -> first `url`, in file order, from git-config syntax."""
    urls: dict[str, str] = {}
    remote: str | None = None
    for raw_line in config_text.splitlines():
        line = raw_line.strip()
        if not line or line[0] in "#;":
            continue
        section = _SECTION.match(line)
        if section:
            name, sub = section.group(1).lower(), section.group(2)
            if sub is not None:
                remote = re.sub(r"\\(.)", r"\1", sub) if name == "remote" else None
            else:  # deprecated `[remote.origin]` spelling
                remote = name.split(".", 1)[1] if name.startswith("remote.") else None
            continue
        if remote is None or "=" not in line:
            continue
        key, value = line.split("=", 1)
        if key.strip().lower() == "url" and remote not in urls:
            urls[remote] = _config_value(value)
    return urls


def _config_value(raw: str) -> str:
    """A git-config value: quotes removed, escapes resolved, a trailing comment dropped."""
    out: list[str] = []
    quoted = False
    chars = iter(raw.strip())
    for char in chars:
        if char == "\\":
            escaped = next(chars, "")
            out.append({"n": "\n", "t": "\t", "b": "\b"}.get(escaped, escaped))
        elif char == '"':
            quoted = not quoted
        elif char in "#;" and not quoted:
            break
        else:
            out.append(char)
    return "".join(out).strip()


def head(checkout: Checkout) -> tuple[str | None, str | None]:
    """(branch, commit sha) of HEAD; branch None when detached, sha None before a commit."""
    text = _read(checkout.git_dir / "HEAD")
    if text is None:
        return None, None
    text = text.strip()
    if text == f"ref: {_REFTABLE_PLACEHOLDER}":
        return _head_from_git(checkout.root)
    if not text.startswith("ref:"):
        return None, text if _SHA.fullmatch(text) else None
    ref = text.removeprefix("ref:").strip()
    branch = ref.removeprefix(_BRANCH_REF) if ref.startswith(_BRANCH_REF) else None
    return branch, _resolve_ref(checkout, ref)


def _resolve_ref(checkout: Checkout, ref: str) -> str | None:
    for _ in range(5):  # symbolic refs may chain; git itself stops at 5 levels
        value = _read(checkout.git_dir / ref) or _read(checkout.common_dir / ref)
        if value is None:
            return _packed_ref(checkout.common_dir, ref)
        value = value.strip()
        if not value.startswith("ref:"):
            return value if _SHA.fullmatch(value) else None
        ref = value.removeprefix("ref:").strip()
    return None


def _packed_ref(common_dir: Path, ref: str) -> str | None:
    for line in (_read(common_dir / "packed-refs") or "").splitlines():
        sha, _, name = line.partition(" ")
        if name == ref and _SHA.fullmatch(sha):
            return sha
    return None


def _head_from_git(root: Path) -> tuple[str | None, str | None]:
    import shutil  # only reftable repositories need git, so one-shots skip these imports

    git = shutil.which("git")
    if git is None:
        raise ConfigError(
            f"The repository at {root} keeps its refs in a reftable, which nomtui can only "
            "read through git; install git or pass the job name."
        )
    branch = _git_line([git, "-C", str(root), "symbolic-ref", "--quiet", "--short", "HEAD"])
    return branch, _git_line([git, "-C", str(root), "rev-parse", "--verify", "--quiet", "HEAD"])


def _git_line(argv: list[str]) -> str | None:
    import subprocess

    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None  # treated like "no branch" / "no commit": the caller says what is missing
    out = done.stdout.strip()
    return out if done.returncode == 0 and out else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # absent or unreadable: callers fall back or report what is missing


__all__ = ["Checkout", "find_checkout", "head", "remote_url"]
