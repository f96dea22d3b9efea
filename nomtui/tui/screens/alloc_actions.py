"""What can be done to an allocation, shared by the allocations list and the detail screen.

`AllocActionsScreen` is a `StoreScreen` whose subclass says which allocation is
selected (`selected_alloc`); it provides the actions and hides those that do not apply
(`check_action`): nothing without a selection, shell/restart/tunnel only on a running
allocation, `o` only when the allocation publishes a URL, and in read-only mode every
action that changes something (restart, stop, shell, copy) is hidden and refused.
"""

from __future__ import annotations

import asyncio
import shlex
import webbrowser
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.app import SuspendNotSupported
from textual.binding import Binding

from nomtui.actions.cp import copy_in, prepare, remote_destination
from nomtui.actions.shell import run_shell_blocking
from nomtui.actions.tunnel import default_state_dir, start_tunnel
from nomtui.actions.urls import url_of_tag
from nomtui.errors import NomtuiError, ReadOnlyRefused
from nomtui.models.allocs import AllocStub
from nomtui.sanitize import clean
from nomtui.store import AllocHealth
from nomtui.tui.nav import Open
from nomtui.tui.screens.base import StoreScreen
from nomtui.tui.widgets.confirm import confirm_screen
from nomtui.tui.widgets.path_prompt import CopyInPrompt

MAIN_TASK = "http"
"""The IA deploy convention: the main task is called `http` (a `kv` prestart beside it)."""

MUTATING = frozenset({"shell", "restart", "stop", "copy_in"})
NEEDS_RUNNING = frozenset({"shell", "restart", "tunnel", "copy_in"})
ALLOC_ACTIONS = frozenset(
    {"shell", "logs", "restart", "stop", "tunnel", "open_url", "copy_cli", "copy_in"}
)


def main_task(alloc: AllocStub) -> str | None:
    """The task actions go to: `http` if there is one, else a running task, else any."""
    tasks = alloc.tasks
    if MAIN_TASK in tasks:
        return MAIN_TASK
    running = sorted(name for name, state in tasks.items() if state.State == "running")
    if running:
        return running[0]
    return min(tasks) if tasks else None


def is_running(alloc: AllocStub) -> bool:
    return alloc.ClientStatus == "running" and alloc.DesiredStatus == "run"


def alloc_url(health: AllocHealth | None) -> str | None:
    """The first URL the allocation's service publishes (its check's service tags)."""
    for check in health.checks if health else ():
        for tag in check.ServiceTags or ():
            url = url_of_tag(tag)
            if url is not None and url.startswith("https://"):
                return url
    return None


def status_command(alloc: AllocStub) -> str:
    """The `nomad` command showing the same allocation."""
    argv = ["nomad", "alloc", "status"]
    if alloc.Namespace and alloc.Namespace != "default":
        argv += ["-namespace", alloc.Namespace]
    return shlex.join([*argv, alloc.ID])


def alloc_bindings(prefix: str) -> list[Binding]:
    """The allocation actions, with ids under `prefix` (`allocs`, `alloc`)."""

    def b(key: str, action: str, label: str, name: str, tip: str) -> Binding:
        return Binding(key, action, label, id=f"{prefix}.{name}", tooltip=tip)

    return [
        b("l", "logs('stdout')", "Logs", "logs", "Follow the main task's stdout"),
        b("e", "logs('stderr')", "Errors", "stderr", "Follow the main task's stderr"),
        b("s", "shell", "Shell", "shell", "Open an interactive shell in the main task"),
        b("c", "copy_in", "Copy in", "copy_in", "Copy a local file into the allocation"),
        b("t", "tunnel", "Tunnel", "tunnel", "ssh-forward a local port to the allocation"),
        b("r", "restart", "Restart", "restart", "Restart the allocation's tasks (confirm)"),
        b("x", "stop", "Stop", "stop", "Stop the allocation; Nomad replaces it (confirm)"),
        b("o", "open_url", "Open URL", "open_url", "Open the service's URL in a browser"),
        b("y", "copy_cli", "Copy cmd", "copy_cli", "Copy the equivalent nomad command"),
    ]


ShellRunner = Callable[[Any, str, str], int]


class AllocActionsScreen(StoreScreen):
    """A store screen that acts on one selected allocation."""

    shell_runner: ShellRunner = staticmethod(run_shell_blocking)
    """How `s` runs the session (tests replace it: Pilot has no terminal to hand over)."""
    open_browser: Callable[[str], object] = staticmethod(webbrowser.open)

    def selected_alloc(self) -> AllocStub | None:
        raise NotImplementedError

    def health_of(self, alloc_id: str) -> AllocHealth | None:
        """Consul health of an allocation; subclasses that follow `ServicesView` override."""
        return None

    # -- visibility ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in ALLOC_ACTIONS:
            return True
        alloc = self.selected_alloc()
        if alloc is None:
            return False
        if action in MUTATING and self.store.read_only:
            return False
        if action in NEEDS_RUNNING and not is_running(alloc):
            return False
        if action == "stop" and (alloc.is_terminal or alloc.DesiredStatus != "run"):
            return False
        if action == "open_url":
            return alloc_url(self.health_of(alloc.ID)) is not None
        return main_task(alloc) is not None or action in ("stop", "copy_cli")

    def _target(self, action: str) -> tuple[AllocStub, str] | None:
        """The selection and its main task, if `action` applies now (else says why not)."""
        alloc = self.selected_alloc()
        if alloc is None:
            return None
        if action in MUTATING and self.store.read_only:
            what = f"{action.replace('_', ' ')} in allocation {alloc.short_id}"
            refused = ReadOnlyRefused(what, self.store.cluster)
            self.notify(refused.message, title=refused.title, severity="error", markup=False)
            return None
        task = main_task(alloc)
        if task is None:
            self.notify(
                f"Allocation {alloc.short_id} has no tasks.", severity="warning", markup=False
            )
            return None
        return alloc, task

    # -- actions ------------------------------------------------------------------------------

    def action_logs(self, stream: str) -> None:
        target = self._target("logs")
        if target is not None:
            alloc, task = target
            self.post_message(Open("logs", alloc_id=alloc.ID, task=task, stream=stream))

    def action_shell(self) -> None:
        target = self._target("shell")
        if target is None:
            return
        alloc, task = target
        # Blocking on purpose: a suspended app must not paint (see actions.shell).
        try:
            with self.app.suspend():
                code = self.shell_runner(self.store.nomad.http, alloc.ID, task)
        except SuspendNotSupported:
            self.notify(
                "This terminal cannot hand over to a shell.", severity="error", markup=False
            )
            return
        except NomtuiError as exc:
            self.notify(exc.message, title=exc.title, severity="error", markup=False)
            return
        except OSError as exc:  # the local terminal (termios, a closed tty), not the cluster
            self.notify(f"Shell: {exc}", severity="error", markup=False)
            return
        self.notify(f"Shell in {alloc.short_id}/{task} exited with code {code}.", markup=False)

    def action_restart(self) -> None:
        target = self._target("restart")
        if target is not None:
            alloc, _ = target
            self._confirm(
                alloc,
                f"Restart allocation {alloc.short_id}?",
                f"Every running task of {clean(alloc.Name)} restarts in place.",
                "Restart",
                lambda: self.store.restart_alloc(alloc.ID),
                f"Restarting {alloc.short_id}…",
            )

    def action_stop(self) -> None:
        target = self._target("stop")
        if target is not None:
            alloc, _ = target
            self._confirm(
                alloc,
                f"Stop allocation {alloc.short_id}?",
                f"{clean(alloc.Name)} stops; Nomad places a replacement.",
                "Stop",
                lambda: self.store.stop_alloc(alloc.ID),
                f"Stopping {alloc.short_id}…",
            )

    def _confirm(
        self,
        alloc: AllocStub,
        title: str,
        message: str,
        label: str,
        run: Callable[[], Awaitable[object]],
        done: str,
    ) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(self._write(run, done), group="alloc-write")

        # On production clusters the operator types the allocation's short ID.
        ask = confirm_screen(self.app, title, message, name=alloc.short_id, action_label=label)
        self.app.push_screen(ask, answered)

    async def _write(self, run: Callable[[], Awaitable[object]], done: str) -> None:
        try:
            await run()
        except NomtuiError as exc:
            self.notify(exc.message, title=exc.title, severity="error", markup=False)
            return
        self.notify(done, markup=False)

    def action_tunnel(self) -> None:
        alloc = self.selected_alloc()
        if alloc is not None:
            self.run_worker(self._tunnel(alloc), group="alloc-tunnel")

    async def _tunnel(self, alloc: AllocStub) -> None:
        try:
            full = await self.store.nomad.get_allocation(alloc.ID)
            ports = full.AllocatedResources.ports if full.AllocatedResources else []
            if not ports:
                self.notify(
                    f"Allocation {alloc.short_id} has no ports.", severity="warning", markup=False
                )
                return
            port = next((p for p in ports if p.Label == "http"), ports[0])
            host = full.NodeName or alloc.NodeName
            tunnel = await asyncio.to_thread(
                start_tunnel,
                host,
                None,
                port.HostIP or "127.0.0.1",
                port.Value,
                state_dir=default_state_dir(),
            )
        except NomtuiError as exc:
            self.notify(exc.message, title=exc.title, severity="error", markup=False)
            return
        self.notify(
            f"{tunnel.local} → {tunnel.remote} via {clean(host)} "
            f"(stop: nomtui tunnel stop {tunnel.id})",
            title="Tunnel open",
            timeout=15,
            markup=False,
        )

    def action_open_url(self) -> None:
        alloc = self.selected_alloc()
        url = alloc_url(self.health_of(alloc.ID)) if alloc else None
        if url is not None:
            # In a thread: starting a browser can take a while, and must not freeze the UI.
            self.run_worker(asyncio.to_thread(self.open_browser, url), group="alloc-browser")
            self.notify(f"Opening {clean(url)}", markup=False)

    def action_copy_cli(self) -> None:
        alloc = self.selected_alloc()
        if alloc is not None:
            self.copy_text(status_command(alloc))

    def copy_text(self, text: str) -> None:
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied: {text}", markup=False)

    def action_copy_in(self) -> None:
        target = self._target("copy_in")
        if target is None:
            return
        alloc, task = target

        def chosen(answer: tuple[str, str] | None) -> None:
            if answer is not None:
                source, dest = answer
                self.run_worker(self._copy_in(alloc, task, Path(source), dest), group="alloc-cp")

        self.app.push_screen(CopyInPrompt(f"{alloc.short_id}/{task}"), chosen)

    async def _copy_in(self, alloc: AllocStub, task: str, source: Path, dest: str) -> None:
        try:
            target = remote_destination(source, dest)
            self.notify(
                f"Copying {clean(str(source))} to {clean(target)} in {alloc.short_id}…",
                markup=False,
            )
            # Hashing the source reads it whole: done in a thread, the UI stays live.
            preparing = prepare(source)
            payload = await asyncio.to_thread(preparing.__enter__)
            try:
                result = await copy_in(self.store.nomad.http, alloc.ID, task, payload, target)
            finally:
                preparing.__exit__(None, None, None)
        except NomtuiError as exc:
            self.notify(exc.message, title=exc.title, severity="error", markup=False)
            return
        self.notify(
            f"Copied {result.files} file(s), {result.bytes} bytes, to {clean(result.dest)} "
            f"(verified by {result.verified_by}).",
            title="Copy done",
            markup=False,
        )


__all__ = [
    "AllocActionsScreen",
    "alloc_bindings",
    "alloc_url",
    "is_running",
    "main_task",
    "status_command",
]
