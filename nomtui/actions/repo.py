"""From a git checkout to the names the deploy pipeline gives it: job, image, paths.

The Internet Archive pipeline (`deploy.sh` / `build.sh` in internetarchive/nomad) names
things from GitLab's CI variables, so this module computes the same values locally:

- job (`NOMAD_VAR_SLUG`): `CI_PROJECT_PATH_SLUG`, plus `-CI_COMMIT_REF_SLUG` unless the
  ref slug is main, master, staging or production; cut to 63 bytes, trailing `-` removed;
- image: `CI_REGISTRY_IMAGE/CI_COMMIT_REF_SLUG:CI_COMMIT_SHA` for a branch pipeline,
  `CI_REGISTRY_IMAGE:CI_COMMIT_TAG` for a tag pipeline, where `CI_REGISTRY_IMAGE` is
  `<registry>/<project path, lowercased>`.

The old `nom-job-from-cwd` alias only lowercased and turned `/` into `-`, so a branch
like `fix_login` or a project like `www/av.tools` gave a name the pipeline never used;
here the full slug rule applies. Inside a pipeline the CI variables win, as there.

Git is read from its files (see `nomtui.actions.gitfiles`), not by spawning `git`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from nomtui.actions.gitfiles import Checkout, find_checkout, head, remote_url
from nomtui.errors import ConfigError

SLUG_MAX = 63
MAIN_BRANCHES = frozenset({"main", "master", "staging", "production"})
"""Ref slugs whose deploys carry no branch suffix (deploy.sh's MAIN_OR_PROD_OR_STAGING)."""

_NOT_SLUG = re.compile(r"[^a-z0-9]")


# -- pure rules --------------------------------------------------------------------------


def slug(text: str) -> str:
    """GitLab's CI_COMMIT_REF_SLUG rule: lowercase, `[^a-z0-9]` → `-`, 63 max, no edge `-`.

    Like GitLab (Ruby `downcase`, then a per-character replace, then the cut), a
    non-ASCII letter becomes one `-` after lowercasing, and the cut happens before the
    edge dashes are stripped, so the result may be shorter than 63.
    """
    return _NOT_SLUG.sub("-", text.lower())[:SLUG_MAX].strip("-")


def project_path(remote_url: str) -> str:
    """`group/sub/project` from a clone URL (scp-like, ssh://, https://, git://).

    Raises ConfigError when the URL names no repository path (a local path, say).
    """
    url = remote_url.strip()
    if "://" in url:
        path = urlsplit(url).path
    else:
        # git's rule: `host:path` is scp-like only when the colon comes before any slash.
        colon, slash = url.find(":"), url.find("/")
        if colon <= 0 or (0 <= slash < colon):
            raise ConfigError(
                f"The git remote {_redacted(url)} is a local path, not a GitLab or GitHub URL, "
                "so the group/project cannot be derived from it; pass the job name instead."
            )
        path = url[colon + 1 :]
    path = path.strip("/")
    path = path.removesuffix(".git").strip("/")
    if path.startswith("~"):  # scp-like `host:~user/repo`
        path = path.lstrip("~")
    if not path or "/" not in path:
        raise ConfigError(
            f"The git remote {_redacted(url)} does not name a group/project path; "
            "pass the job name instead."
        )
    return path


def job_name(project_path: str, branch: str, *, main_style: bool = False) -> str:
    """The Nomad job deploy.sh creates for `project_path` on `branch` (a name or a slug).

    `main_style` mirrors the pipeline's CI_MAIN_STYLE: every branch deploys unsuffixed.
    """
    name = slug(project_path)
    ref = slug(branch)
    if ref not in MAIN_BRANCHES and not main_style:
        name = f"{name}-{ref}"
    return name[:SLUG_MAX].rstrip("-")


def image_repository(project_path: str, ref_slug: str, registry: str) -> str:
    """`<registry>/<project path>/<ref slug>`: build.sh's CI_APPLICATION_REPOSITORY."""
    return f"{registry_image(project_path, registry)}/{slug(ref_slug)}"


def registry_image(project_path: str, registry: str) -> str:
    """GitLab's CI_REGISTRY_IMAGE: the registry host plus the lowercased project path."""
    host = registry.strip().removeprefix("https://").removeprefix("http://").rstrip("/")
    if not host:
        raise ConfigError("The container registry is empty; set registry in config.toml.")
    return f"{host}/{project_path.lower()}"


def _redacted(url: str) -> str:
    """`url` without any user:token part, so an error message never shows a credential."""
    if "://" in url:
        parts = urlsplit(url)
        if parts.username or parts.password:
            host = parts.hostname or ""
            port = f":{parts.port}" if parts.port else ""
            return parts._replace(netloc=f"***@{host}{port}").geturl()
    return url


# -- what the commands call --------------------------------------------------------------


class RepoIdentity(NamedTuple):
    """What the pipeline would know about this checkout."""

    project_path: str
    ref: str
    """A branch name, or CI_COMMIT_REF_SLUG inside a pipeline (slug() leaves it as is)."""
    checkout: Checkout | None


def identify(cwd: Path, env: Mapping[str, str]) -> RepoIdentity:
    """Project path and ref for `cwd`; CI_PROJECT_PATH / CI_COMMIT_REF_SLUG win when set."""
    project = env.get("CI_PROJECT_PATH") or None
    ref = env.get("CI_COMMIT_REF_SLUG") or None
    if project is not None and ref is not None:
        return RepoIdentity(project, ref, None)  # a pipeline needs no checkout to be read
    checkout = find_checkout(cwd)
    if checkout is None:
        raise ConfigError(
            f"{cwd} is not inside a git checkout, so there is no job to derive from it; "
            "cd into the repository or pass the job name."
        )
    return RepoIdentity(
        project or _project_of(checkout), ref or _branch_of(checkout, env), checkout
    )


def _project_of(checkout: Checkout) -> str:
    url = remote_url(checkout)
    if url is None:
        raise ConfigError(
            f"The git checkout at {checkout.root} has no remote, so its group/project "
            "is unknown; add an origin remote or pass the job name."
        )
    return project_path(url)


def _branch_of(checkout: Checkout, env: Mapping[str, str]) -> str:
    # GitLab CI checks out a detached HEAD; CI_COMMIT_REF_NAME then names the branch.
    branch = head(checkout)[0] or env.get("CI_COMMIT_REF_NAME")
    if not branch:
        raise ConfigError(
            f"HEAD is detached in {checkout.root}, so there is no branch to name the job "
            "after; check out a branch, set CI_COMMIT_REF_NAME, or pass the job name."
        )
    return branch


def job_from_cwd(cwd: Path, env: Mapping[str, str]) -> str:
    """The job the pipeline deploys from the checkout around `cwd`.

    Honours the old alias's opt-in NOM_JOB_SUFFIX_RM_EXT (drop a trailing `-ext`).
    """
    who = identify(cwd, env)
    name = job_name(who.project_path, who.ref, main_style=bool(env.get("CI_MAIN_STYLE")))
    if env.get("NOM_JOB_SUFFIX_RM_EXT"):
        name = name.removesuffix("-ext")
    return name


def image_from_cwd(
    cwd: Path, env: Mapping[str, str], registry: str, *, with_tag: bool = True
) -> str:
    """The image build.sh pushes for this checkout: `<registry>/<path>/<ref slug>:<sha>`.

    The tag is the commit HEAD points at (CI_COMMIT_SHA in a pipeline); `with_tag=False`
    gives the repository alone, which is what the old nom-image-from-cwd printed.
    A tag pipeline (CI_COMMIT_TAG) pushes `<registry>/<path>:<tag>` instead.
    """
    if env.get("CI_APPLICATION_REPOSITORY") and env.get("CI_APPLICATION_TAG"):
        repo, tag = env["CI_APPLICATION_REPOSITORY"], env["CI_APPLICATION_TAG"]
        return f"{repo}:{tag}" if with_tag else repo
    who = identify(cwd, env)
    base = env.get("CI_REGISTRY_IMAGE") or registry_image(who.project_path, registry)
    if env.get("CI_COMMIT_TAG"):
        return f"{base}:{env['CI_COMMIT_TAG']}" if with_tag else base
    repo = f"{base}/{slug(who.ref)}"
    if not with_tag:
        return repo
    sha = env.get("CI_COMMIT_SHA") or None
    if sha is None and who.checkout is not None:
        sha = head(who.checkout)[1]
    if sha is None:
        raise ConfigError(
            f"There is no commit checked out in {cwd}, so there is no image tag; "
            "commit first or ask for the repository only."
        )
    return f"{repo}:{sha}"


def repo_relative(path: Path) -> str:
    """`path` relative to the top of its checkout (nom-cp's destination in the container).

    The old alias stripped the top directory from the path as typed, so a relative path
    given from a subdirectory lost that subdirectory; here the path is made absolute first.
    Symlinks are not followed: the file is named as it sits in the working tree.
    """
    absolute = Path(os.path.abspath(path))
    checkout = find_checkout(absolute.parent)
    if checkout is None:
        raise ConfigError(
            f"{path} is not inside a git checkout, so its place in the container is "
            "unknown; give the destination explicitly."
        )
    return absolute.relative_to(checkout.root).as_posix()


__all__ = [
    "MAIN_BRANCHES",
    "SLUG_MAX",
    "Checkout",
    "RepoIdentity",
    "find_checkout",
    "head",
    "identify",
    "image_from_cwd",
    "image_repository",
    "job_from_cwd",
    "job_name",
    "project_path",
    "registry_image",
    "remote_url",
    "repo_relative",
    "slug",
]
