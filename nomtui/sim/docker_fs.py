"""A container's filesystem for the sim's Docker engine: paths, tar in, tar out.

The container's root is a host directory (the allocation's task directory). The real
engine unpacks archives inside a chroot of the container, so nothing in an archive can
reach outside it; the sim has no chroot, so it does the same by hand:

- every container path is resolved with symlinks followed *inside* the root (an
  absolute link target starts again at the root, `..` stops at it), as moby's
  `FollowSymlinkInScope` does;
- archive member names are cleaned and joined below the extraction directory; a name
  that climbs out with `..` is refused (moby's "breakout" error), and each member's
  parent is resolved in scope again, so a symlink unpacked earlier in the same archive
  cannot carry later members outside;
- files are created with O_NOFOLLOW|O_EXCL after removing what was there, as the
  engine replaces an existing entry;
- setuid/setgid bits and ownership are not applied: the sim may run as root and
  unpacks whatever a client sends into the host's filesystem.
"""

from __future__ import annotations

import errno
import os
import posixpath
import shutil
import stat
import tarfile
from collections import deque
from pathlib import Path
from typing import IO, Any

from nomtui.sim.docker_shapes import rfc3339_nano

MAX_LINKS = 255
"""Symlinks followed while resolving one path (Linux's own limit is 40; moby's 255)."""
CHUNK = 1024 * 1024
_MODE_MASK = 0o1777  # permissions and sticky; no setuid/setgid (see the module text)


class PathError(Exception):
    """A failure the engine reports with an HTTP status and a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def container_path(path: str) -> str:
    """`path` as the engine reads it: absolute (a relative one is taken from `/`)."""
    return posixpath.normpath("/" + path) if path else "/"


def resolve(root: Path, path: str, *, follow_last: bool = True) -> Path:
    """The host path of container `path`, symlinks followed without leaving `root`.

    Components that do not exist are kept as they are (the caller decides whether a
    missing path is an error). Raises OSError(ELOOP) after MAX_LINKS links.
    """
    queue = deque(p for p in path.split("/") if p and p != ".")
    current: list[str] = []
    links = 0
    while queue:
        part = queue.popleft()
        if part == "..":
            if current:
                current.pop()
            continue
        candidate = root.joinpath(*current, part)
        if (queue or follow_last) and candidate.is_symlink():
            links += 1
            if links > MAX_LINKS:
                raise OSError(errno.ELOOP, "too many links", path)
            target = os.readlink(candidate)
            if target.startswith("/"):
                current = []
            queue.extendleft(reversed([p for p in target.split("/") if p and p != "."]))
            continue
        current.append(part)
    return root.joinpath(*current)


def inside(root: Path, host: Path) -> str:
    """The container path of `host`, a path below `root`."""
    rel = host.relative_to(root).as_posix()
    return "/" if rel == "." else "/" + rel


def in_mount(path: str, mounts: tuple[str, ...]) -> bool:
    return any(path == f"/{m}" or path.startswith(f"/{m}/") for m in mounts)


# -- extracting ------------------------------------------------------------------------


def extract(root: Path, dest: Path, archive: IO[bytes], *, no_overwrite: bool = False) -> None:
    """Unpack the tar (plain, gzip, bzip2 or xz) in `archive` into `dest` (a directory
    below `root`), the way `PUT /containers/{id}/archive` does.

    Raises PathError (400 for a refused member, 500 for an unreadable archive).
    """
    base = inside(root, dest)
    dirs: list[tuple[Path, tarfile.TarInfo]] = []
    try:
        with tarfile.open(fileobj=archive, mode="r:*") as tar:
            for member in tar:
                placed = _place(root, base, member, no_overwrite)
                if placed is None:
                    continue
                _write(root, base, tar, member, placed)
                if member.isdir():
                    dirs.append((placed, member))
    except (tarfile.TarError, EOFError) as exc:
        raise PathError(500, f"Error processing tar file: {exc}") from None
    # Directory times last: writing their entries changed them.
    for path, member in reversed(dirs):
        os.utime(path, (member.mtime, member.mtime))


def _place(root: Path, base: str, member: tarfile.TarInfo, no_overwrite: bool) -> Path | None:
    """Where `member` goes (its parent made and whatever it replaces removed), or None
    to skip it."""
    name = posixpath.normpath(member.name)
    if name == ".." or name.startswith("../"):
        raise PathError(400, f"{member.name!r} is outside of {base!r}")
    if name in (".", "/"):
        return None  # the extraction directory itself: left as it is
    parent = resolve(root, posixpath.join(base, posixpath.dirname(name.lstrip("/"))))
    if not parent.exists():
        parent.mkdir(mode=0o755, parents=True)
    elif not parent.is_dir():
        raise PathError(400, f"cannot extract {member.name!r}: its parent is not a directory")
    target = parent / posixpath.basename(name)
    try:
        there = target.lstat()
    except FileNotFoundError:
        return target
    was_dir = stat.S_ISDIR(there.st_mode)
    if no_overwrite and was_dir != member.isdir():
        kind = "directory" if was_dir else "non-directory"
        other = "non-directory" if was_dir else "directory"
        raise PathError(400, f"cannot overwrite {kind} {inside(root, target)!r} with {other}")
    if not (was_dir and member.isdir()):
        if was_dir:
            shutil.rmtree(target)
        else:
            target.unlink()
    return target


def _write(
    root: Path, base: str, tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path
) -> None:
    mode = member.mode & _MODE_MASK
    if member.isdir():
        if not target.is_dir():
            target.mkdir(mode=0o755)
        os.chmod(target, mode)
    elif member.isreg():
        source = tar.extractfile(member)
        assert source is not None  # a regular member always has data
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(source, out, CHUNK)
            os.fchmod(out.fileno(), mode)
        os.utime(target, (member.mtime, member.mtime))
    elif member.issym():
        # Stored as given: it is only ever followed in scope (see `resolve`).
        os.symlink(member.linkname, target)
    elif member.islnk():
        linked = resolve(root, posixpath.join(base, member.linkname), follow_last=False)
        if not linked.is_file() or linked.is_symlink():
            raise PathError(400, f"hard link {member.name!r} points at no file in the archive")
        os.link(linked, target)
    elif member.isfifo():
        os.mkfifo(target, mode)
    # Device nodes are skipped, as a rootless engine does: the sim makes no devices.


# -- archiving -------------------------------------------------------------------------


def archive(host: Path, name: str, out: IO[bytes]) -> None:
    """Write a tar of `host` (a file, link or whole directory) named `name` at the top,
    as `GET /containers/{id}/archive` sends it; links are stored, not followed."""
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.add(host, arcname=name, recursive=True)


# -- path stat -------------------------------------------------------------------------

# Go's os.FileMode type bits, which the stat header carries above the permission bits.
_GO_TYPE_BITS = (
    (stat.S_ISDIR, 1 << 31),
    (stat.S_ISLNK, 1 << 27),
    (stat.S_ISBLK, 1 << 26),
    (stat.S_ISFIFO, 1 << 25),
    (stat.S_ISSOCK, 1 << 24),
    (stat.S_ISCHR, (1 << 26) | (1 << 21)),
)


def go_file_mode(st_mode: int) -> int:
    mode = st_mode & 0o777
    for test, bit in _GO_TYPE_BITS:
        if test(st_mode):
            mode |= bit
    if st_mode & stat.S_ISUID:
        mode |= 1 << 23
    if st_mode & stat.S_ISGID:
        mode |= 1 << 22
    if st_mode & stat.S_ISVTX:
        mode |= 1 << 20
    return mode


def path_stat(name: str, info: os.stat_result, link_target: str = "") -> dict[str, Any]:
    """The JSON of `X-Docker-Container-Path-Stat` (base64-encoded on the wire)."""
    return {
        "name": name,
        "size": info.st_size,
        "mode": go_file_mode(info.st_mode),
        "mtime": rfc3339_nano(info.st_mtime_ns),
        "linkTarget": link_target,
    }


__all__ = [
    "PathError",
    "archive",
    "container_path",
    "extract",
    "go_file_mode",
    "in_mount",
    "inside",
    "path_stat",
    "resolve",
]
