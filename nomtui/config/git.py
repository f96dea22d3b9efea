"""The current git branch, read from the repository files (no `git` process).

Spawning git on every start would cost tens of milliseconds and depend on PATH; the
branch is one line in HEAD. Handles a plain checkout, a worktree or submodule (whose
`.git` is a file `gitdir: <path>`), and a detached HEAD (no branch).
"""

from __future__ import annotations

from pathlib import Path

_BRANCH_REF = "ref: refs/heads/"


def _git_dir(dotgit: Path) -> Path | None:
    if dotgit.is_dir():
        return dotgit
    try:
        first = dotgit.read_text(encoding="utf-8").splitlines()[0]
    except (OSError, UnicodeDecodeError, IndexError):
        return None  # not a usable gitdir pointer: treat as "not in a checkout"
    if not first.startswith("gitdir:"):
        return None
    target = Path(first.removeprefix("gitdir:").strip())
    return target if target.is_absolute() else dotgit.parent / target


def current_branch(cwd: Path) -> str | None:
    """The branch checked out in the repository around `cwd`, or None.

    None also when not inside a checkout or HEAD is detached; the nearest `.git`
    upwards decides, as for git itself.
    """
    for directory in (cwd, *cwd.parents):
        dotgit = directory / ".git"
        if not dotgit.exists():
            continue
        git_dir = _git_dir(dotgit)
        if git_dir is None:
            return None
        try:
            head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None  # a broken repository is not a settings problem; no branch
        return head.removeprefix(_BRANCH_REF) if head.startswith(_BRANCH_REF) else None
    return None
