"""From a git checkout to the pipeline's names: slug rules, URLs, job and image names.

Checkouts are mostly written as plain files (fast, and every layout is exact); a few
tests build real ones with `git` (skipped when it is missing) to check that the file
reader agrees with git itself on worktrees, packed refs and detached HEADs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from nomtui.actions.repo import (
    find_checkout,
    head,
    image_from_cwd,
    job_from_cwd,
    job_name,
    project_path,
    remote_url,
    repo_relative,
    slug,
)
from nomtui.errors import ConfigError

SHA = "0123456789abcdef0123456789abcdef01234567"
OTHER_SHA = "89abcdef0123456789abcdef0123456789abcdef"


def make_checkout(
    root: Path,
    *,
    url: str | None = "git@git.archive.org:www/nomad.git",
    branch: str | None = "main",
    sha: str = SHA,
    extra_config: str = "",
) -> Path:
    """A minimal .git directory as git writes it; `branch=None` is a detached HEAD."""
    git = root / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    config = "[core]\n\trepositoryformatversion = 0\n" + extra_config
    if url is not None:
        fetch = "+refs/heads/*:refs/remotes/origin/*"
        config += f'[remote "origin"]\n\turl = {url}\n\tfetch = {fetch}\n'
    (git / "config").write_text(config)
    if branch is None:
        (git / "HEAD").write_text(sha + "\n")
    else:
        (git / "HEAD").write_text(f"ref: refs/heads/{branch}\n")
        ref = git / "refs" / "heads" / branch
        ref.parent.mkdir(parents=True, exist_ok=True)
        ref.write_text(sha + "\n")
    return root


# -- slug ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("main", "main"),
        ("feature/login", "feature-login"),
        ("Fix_Login.Page", "fix-login-page"),
        ("--weird--", "weird"),
        ("a//b", "a--b"),  # GitLab does not collapse runs
        ("café/naïve", "caf--na-ve"),  # one dash per non-ASCII character
        ("ÜBER", "ber"),  # lowercased before the replace; the edge dash removed
        ("日本語", ""),
        ("", ""),
    ],
)
def test_slug_follows_gitlab(text: str, expected: str) -> None:
    assert slug(text) == expected


def test_slug_cuts_at_63_then_strips_edge_dashes() -> None:
    assert slug("a" * 70) == "a" * 63
    # The cut lands on a dash: it is removed, so the slug is shorter than 63.
    assert slug("a" * 62 + "/bbb") == "a" * 62
    assert len(slug("x" * 100)) == 63


def test_slug_is_idempotent() -> None:
    for text in ("feature/login", "a" * 62 + "/bbb", "Café Crème", "--x--"):
        assert slug(slug(text)) == slug(text)


# -- project_path -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("git@git.archive.org:www/nomad.git", "www/nomad"),
        ("git@gitlab.com:internetarchive/hello-js", "internetarchive/hello-js"),
        ("git@gitlab.com:group/sub/deeper/proj.git", "group/sub/deeper/proj"),
        ("https://git.archive.org/www/nomad.git", "www/nomad"),
        ("https://git.archive.org/www/nomad", "www/nomad"),
        ("https://git.archive.org/www/nomad.git/", "www/nomad"),
        ("https://oauth2:glpat-secret@gitlab.com/group/sub/proj.git", "group/sub/proj"),
        ("ssh://git@git.archive.org:2222/group/proj.git", "group/proj"),
        ("ssh://git@host/group/sub/proj.git", "group/sub/proj"),
        ("git://host/Group/Proj.git", "Group/Proj"),
        ("gitlab:~me/proj.git", "me/proj"),
        ("  git@host:my.gitlab.tools/proj.git\n", "my.gitlab.tools/proj"),
    ],
)
def test_project_path_from_remote_urls(url: str, expected: str) -> None:
    assert project_path(url) == expected


@pytest.mark.parametrize("url", ["/srv/git/proj.git", "../proj", "https://host/", "host:proj"])
def test_project_path_refuses_urls_without_group_and_project(url: str) -> None:
    with pytest.raises(ConfigError):
        project_path(url)


def test_project_path_error_never_shows_credentials() -> None:
    with pytest.raises(ConfigError) as caught:
        project_path("https://oauth2:glpat-secret@gitlab.com/")
    assert "glpat-secret" not in str(caught.value)
    assert "oauth2" not in str(caught.value)


# -- job_name -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "branch", "expected"),
    [
        ("www/nomad", "main", "www-nomad"),
        ("www/nomad", "master", "www-nomad"),
        ("www/nomad", "staging", "www-nomad"),
        ("www/nomad", "production", "www-nomad"),
        ("www/nomad", "Main", "www-nomad"),  # deploy.sh compares the ref slug
        ("internetarchive/hello-js", "feature/login", "internetarchive-hello-js-feature-login"),
        ("group/sub/deeper/Proj_X", "fix_1.2", "group-sub-deeper-proj-x-fix-1-2"),
        ("www/av.tools", "main", "www-av-tools"),
    ],
)
def test_job_name(path: str, branch: str, expected: str) -> None:
    assert job_name(path, branch) == expected


def test_job_name_is_cut_to_63_without_a_trailing_dash() -> None:
    name = job_name("www/" + "p" * 54, "feature/x")  # "www-ppp…p-" ends at char 59+
    assert len(name) <= 63 and not name.endswith("-")
    assert job_name("a" * 62 + "x/y", "main") == ("a" * 62 + "x-y")[:63]
    cut_on_dash = job_name("g/" + "p" * 59, "branch")  # 61 chars + "-" lands at 62
    assert cut_on_dash == "g-" + "p" * 59 + "-b"
    cut_after_dash = job_name("g/" + "p" * 60, "branch")  # the 63rd char is the dash
    assert cut_after_dash == "g-" + "p" * 60


def test_job_name_main_style_drops_the_branch() -> None:
    assert job_name("www/nomad", "feature/x", main_style=True) == "www-nomad"


# -- reading checkouts --------------------------------------------------------------------


def test_job_from_cwd_in_a_subdirectory(tmp_path: Path) -> None:
    root = make_checkout(
        tmp_path / "hello", url="https://gitlab.com/internetarchive/hello-js.git", branch="x"
    )
    (root / ".git" / "refs" / "heads" / "feature").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/feature/login\n")
    (root / "src" / "deep").mkdir(parents=True)
    assert job_from_cwd(root / "src" / "deep", {}) == "internetarchive-hello-js-feature-login"


def test_origin_wins_else_the_first_remote(tmp_path: Path) -> None:
    upstream = '[remote "upstream"]\n\turl = git@host:up/stream.git\n'
    root = make_checkout(tmp_path / "a", extra_config=upstream)
    assert job_from_cwd(root, {}) == "www-nomad"
    only = make_checkout(tmp_path / "b", url=None, extra_config=upstream)
    assert job_from_cwd(only, {}) == "up-stream"


def test_git_config_syntax(tmp_path: Path) -> None:
    config = (
        "# comment\n"
        '[remote "origin"] \n'
        '\tURL = "git@host:grp/my proj.git" ; a comment\n'
        "\turl = git@host:second/url.git\n"
    )
    root = make_checkout(tmp_path / "r", url=None, extra_config=config)
    checkout = find_checkout(root)
    assert checkout is not None
    assert remote_url(checkout) == "git@host:grp/my proj.git"
    assert job_from_cwd(root, {}) == "grp-my-proj"


def test_not_a_checkout(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not inside a git checkout"):
        job_from_cwd(tmp_path, {})


def test_no_remote(tmp_path: Path) -> None:
    root = make_checkout(tmp_path / "r", url=None)
    with pytest.raises(ConfigError, match="has no remote"):
        job_from_cwd(root, {})


def test_detached_head_uses_ci_commit_ref_name_or_fails(tmp_path: Path) -> None:
    root = make_checkout(tmp_path / "r", branch=None)
    with pytest.raises(ConfigError, match="detached"):
        job_from_cwd(root, {})
    assert job_from_cwd(root, {"CI_COMMIT_REF_NAME": "feature/x"}) == "www-nomad-feature-x"


def test_worktree_file_and_commondir(tmp_path: Path) -> None:
    main = make_checkout(tmp_path / "main")
    admin = main / ".git" / "worktrees" / "wt"
    admin.mkdir(parents=True)
    (admin / "HEAD").write_text("ref: refs/heads/topic\n")
    (admin / "commondir").write_text("../..\n")
    (main / ".git" / "refs" / "heads" / "topic").write_text(OTHER_SHA + "\n")
    wt = tmp_path / "wt"
    wt.mkdir()
    (wt / ".git").write_text(f"gitdir: {admin}\n")
    assert job_from_cwd(wt, {}) == "www-nomad-topic"
    checkout = find_checkout(wt)
    assert checkout is not None and head(checkout) == ("topic", OTHER_SHA)


def test_relative_gitdir_pointer_and_packed_refs(tmp_path: Path) -> None:
    # A submodule: `.git` points (relatively) at the superproject's modules/<name>.
    modules = tmp_path / "super" / ".git" / "modules" / "sub"
    make_checkout(modules.parent / "tmp-sub", url="git@host:g/sub.git", branch="dev")
    (modules.parent / "tmp-sub" / ".git").rename(modules)
    (modules / "refs" / "heads" / "dev").unlink()
    (modules / "packed-refs").write_text(
        f"# pack-refs with: peeled fully-peeled sorted\n{SHA} refs/heads/dev\n^{OTHER_SHA}\n"
    )
    sub = tmp_path / "super" / "sub"
    sub.mkdir()
    (sub / ".git").write_text("gitdir: ../.git/modules/sub\n")
    checkout = find_checkout(sub)
    assert checkout is not None and head(checkout) == ("dev", SHA)
    assert job_from_cwd(sub, {}) == "g-sub-dev"


def test_ci_variables_win_and_need_no_checkout(tmp_path: Path) -> None:
    env = {"CI_PROJECT_PATH": "Group/Sub/Proj", "CI_COMMIT_REF_SLUG": "feature-y"}
    assert job_from_cwd(tmp_path, env) == "group-sub-proj-feature-y"
    root = make_checkout(tmp_path / "r", branch="local-branch")
    assert job_from_cwd(root, {"CI_COMMIT_REF_SLUG": "main"}) == "www-nomad"
    assert job_from_cwd(root, {"CI_PROJECT_PATH": "a/b"}) == "a-b-local-branch"
    assert job_from_cwd(root, {"CI_MAIN_STYLE": "1"}) == "www-nomad"


def test_nom_job_suffix_rm_ext(tmp_path: Path) -> None:
    root = make_checkout(tmp_path / "r", url="git@host:www/site-ext.git")
    assert job_from_cwd(root, {}) == "www-site-ext"
    assert job_from_cwd(root, {"NOM_JOB_SUFFIX_RM_EXT": "1"}) == "www-site"


# -- image_from_cwd -----------------------------------------------------------------------


def test_image_from_cwd(tmp_path: Path) -> None:
    root = make_checkout(tmp_path / "r", url="git@host:Internetarchive/Hello-JS.git", branch="a")
    (root / ".git" / "refs" / "heads" / "feature").mkdir()
    (root / ".git" / "refs" / "heads" / "feature" / "Login").write_text(SHA + "\n")
    (root / ".git" / "HEAD").write_text("ref: refs/heads/feature/Login\n")
    image = image_from_cwd(root, {}, "registry.archive.org")
    assert image == f"registry.archive.org/internetarchive/hello-js/feature-login:{SHA}"
    repo = image_from_cwd(root, {}, "https://registry.example/", with_tag=False)
    assert repo == "registry.example/internetarchive/hello-js/feature-login"


def test_image_in_a_pipeline(tmp_path: Path) -> None:
    env = {
        "CI_PROJECT_PATH": "www/nomad",
        "CI_COMMIT_REF_SLUG": "main",
        "CI_COMMIT_SHA": OTHER_SHA,
        "CI_REGISTRY_IMAGE": "registry.gitlab.com/www/nomad",
    }
    assert image_from_cwd(tmp_path, env, "ignored") == (
        f"registry.gitlab.com/www/nomad/main:{OTHER_SHA}"
    )
    tagged = {**env, "CI_COMMIT_TAG": "v1.2"}
    assert image_from_cwd(tmp_path, tagged, "ignored") == "registry.gitlab.com/www/nomad:v1.2"


def test_image_without_a_commit(tmp_path: Path) -> None:
    root = make_checkout(tmp_path / "r")
    (root / ".git" / "refs" / "heads" / "main").unlink()  # a fresh `git init`
    with pytest.raises(ConfigError, match="no commit"):
        image_from_cwd(root, {}, "registry.archive.org")
    assert image_from_cwd(root, {}, "r.example", with_tag=False) == "r.example/www/nomad/main"


# -- repo_relative ------------------------------------------------------------------------


def test_repo_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_checkout(tmp_path / "r")
    (root / "www" / "css").mkdir(parents=True)
    assert repo_relative(root / "www" / "css" / "site.css") == "www/css/site.css"
    # The old alias lost `www/` here: a relative path typed from a subdirectory.
    monkeypatch.chdir(root / "www")
    assert repo_relative(Path("css/site.css")) == "www/css/site.css"
    assert repo_relative(Path("../index.html")) == "index.html"
    with pytest.raises(ConfigError, match="not inside a git checkout"):
        repo_relative(tmp_path / "elsewhere.txt")


# -- against real git ---------------------------------------------------------------------

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(cwd), "-c", "init.defaultBranch=main", *args],
        capture_output=True,
        text=True,
        check=True,
        env={"GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd), "PATH": "/usr/bin:/bin"},
    )
    return done.stdout.strip()


@needs_git
def test_agrees_with_git_on_a_real_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "remote", "add", "origin", "git@gitlab.com:internetarchive/hello-js.git")
    (repo / "f.txt").write_text("x")
    _git(repo, "add", "f.txt")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    _git(repo, "switch", "-qc", "feature/login")
    _git(repo, "pack-refs", "--all")  # the branch now lives in packed-refs only
    sha = _git(repo, "rev-parse", "HEAD")
    checkout = find_checkout(repo)
    assert checkout is not None and head(checkout) == ("feature/login", sha)
    assert job_from_cwd(repo, {}) == "internetarchive-hello-js-feature-login"

    _git(repo, "worktree", "add", "-q", "-b", "Topic_2", str(tmp_path / "wt"))
    assert job_from_cwd(tmp_path / "wt", {}) == "internetarchive-hello-js-topic-2"
    assert image_from_cwd(tmp_path / "wt", {}, "reg.example") == (
        f"reg.example/internetarchive/hello-js/topic-2:{sha}"
    )
    assert repo_relative(tmp_path / "wt" / "f.txt") == "f.txt"

    _git(repo, "switch", "-q", "--detach")
    with pytest.raises(ConfigError, match="detached"):
        job_from_cwd(repo, {})
