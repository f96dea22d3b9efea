"""`nomtui job-from-cwd` and `nomtui image-from-cwd`: what the pipeline names this checkout."""

from __future__ import annotations

import os
from pathlib import Path

import click

_DIR = click.option(
    "-C",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Look at the checkout around this directory instead of the current one.",
)


@click.command("job-from-cwd")
@_DIR
def job_from_cwd_cmd(directory: Path | None) -> None:
    """Print the Nomad job the pipeline deploys from this git checkout.

    The slug of the remote's group/project, plus -<branch slug> unless the branch is
    main, master, staging or production; at most 63 characters. Inside a GitLab
    pipeline, CI_PROJECT_PATH and CI_COMMIT_REF_SLUG are used as they are.
    """
    from nomtui.actions.repo import job_from_cwd

    click.echo(job_from_cwd(directory or Path.cwd(), os.environ))


@click.command("image-from-cwd")
@_DIR
@click.option("--registry", help="Registry host (default: `registry` in config.toml).")
@click.option(
    "--no-tag", is_flag=True, help="Print the repository only, without the :<commit> tag."
)
@click.pass_context
def image_from_cwd_cmd(
    ctx: click.Context, directory: Path | None, registry: str | None, no_tag: bool
) -> None:
    """Print the container image the pipeline builds from this git checkout.

    <registry>/<group>/<project>/<branch slug>:<commit sha>, as the Internet Archive's
    build step pushes it (a tag pipeline pushes <registry>/<group>/<project>:<tag>).
    """
    from nomtui.actions.repo import image_from_cwd

    if registry is None:
        from nomtui.config import Flags, resolve

        flags = ctx.find_object(Flags) or Flags()
        registry = resolve(flags).registry
    image = image_from_cwd(directory or Path.cwd(), os.environ, registry, with_tag=not no_tag)
    click.echo(image)


def register(group: click.Group) -> None:
    group.add_command(job_from_cwd_cmd)
    group.add_command(image_from_cwd_cmd)


__all__ = ["register"]
