"""An interactive shell in an allocation: the local terminal bridged to an exec session.

Shared by the TUI's `s` and the `nomtui ssh` one-shot.

    code = await run_shell(http, alloc_id, "http")            # in the main thread
    code = run_shell_blocking(http, alloc_id, "http")         # from inside another loop

The shell is chosen by which one exists in the task (zsh, else bash, else sh), found by a
first, non-TTY exec of `command -v`: what it prints decides, never an exit status,
since a missing shell and a shell that exits non-zero look alike by status.

While the session runs, the local terminal is in raw mode (every key, Ctrl-C included,
goes to the remote side, as with ssh), window size changes (SIGWINCH) are forwarded,
and the remote output is written to the terminal as is: it is a terminal session the
user asked for. The terminal's mode is restored whatever happens.

Inside Textual the app's event loop is already running, and while `App.suspend()` is
in effect the app must not paint (its output thread is stopped). So the TUI blocks its
loop for the length of the session and `run_shell_blocking` runs the session on its own
loop in a thread; SIGWINCH can only be caught in the main thread, which forwards it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import sys
import termios
import threading
import tty
from collections.abc import Sequence
from types import FrameType

from nomtui import audit
from nomtui.client.exec import ExecSession
from nomtui.client.http import HttpClient

SHELL_PROBE = ("/bin/sh", "-c", "command -v zsh || command -v bash || echo /bin/sh")
"""Prints the path of the first shell that exists; its exit status is not looked at."""
FALLBACK_SHELL = "/bin/sh"
READ_SIZE = 64 * 1024
STDIN_QUEUE = 64
"""Reads of stdin held while the socket is slow (then the terminal waits)."""


def shell_from_probe(output: bytes) -> str:
    """The shell the probe printed: the last line that is an absolute path."""
    for line in reversed(output.decode("utf-8", errors="replace").splitlines()):
        path = line.strip()
        if path.startswith("/") and not any(c.isspace() for c in path):
            return path
    return FALLBACK_SHELL


async def detect_shell(http: HttpClient, alloc_id: str, task: str) -> str:
    """zsh, else bash, else sh: whichever exists in the task."""
    out = bytearray()
    async with ExecSession.open_with(http, alloc_id, task, SHELL_PROBE, tty=False) as session:
        await session.close_stdin()
        async for chunk in session.output():
            if chunk.stream == "stdout":
                out += chunk.data
        await session.wait()
    return shell_from_probe(bytes(out))


def exec_command_line(alloc_id: str, task: str, command: Sequence[str]) -> str:
    """The equivalent `nomad alloc exec` command line (for copying)."""
    argv = ["nomad", "alloc", "exec", "-i", "-t", "-task", task, alloc_id, *command]
    return shlex.join(argv)


class TtyBridge:
    """Connects a local terminal (or pipes) to one exec session."""

    def __init__(self, stdin_fd: int = 0, stdout_fd: int = 1, *, tty: bool = True) -> None:
        self.stdin_fd = stdin_fd
        self.stdout_fd = stdout_fd
        self.tty = tty
        self._loop: asyncio.AbstractEventLoop | None = None
        self._resized: asyncio.Event | None = None
        self._stdin: asyncio.Queue[bytes | None] = asyncio.Queue(STDIN_QUEUE)
        self._reading = False
        self._file_reader: asyncio.Task[None] | None = None

    def notify_resize(self) -> None:
        """The window size changed; safe to call from any thread or a signal handler."""
        loop, resized = self._loop, self._resized
        if loop is not None and resized is not None:
            with contextlib.suppress(RuntimeError):  # the loop has just closed
                loop.call_soon_threadsafe(resized.set)

    async def run(self, session: ExecSession) -> int:
        """Bridge until the remote command exits; returns its exit code."""
        loop = asyncio.get_running_loop()
        self._resized = asyncio.Event()
        self._loop = loop
        saved = termios.tcgetattr(self.stdin_fd) if self.tty else None
        tasks: list[asyncio.Task[None]] = []
        try:
            if saved is not None:
                tty.setraw(self.stdin_fd, termios.TCSANOW)  # keep keys typed ahead
                await self._send_size(session)
                tasks.append(asyncio.create_task(self._forward_resizes(session)))
            self._start_reading()
            tasks.append(asyncio.create_task(self._forward_stdin(session)))
            async for chunk in session.output():
                fd = self.stdout_fd if chunk.stream == "stdout" or self.tty else 2
                _write_all(fd, chunk.data)
            return await session.wait()
        finally:
            self._loop = None
            self._stop_reading()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if saved is not None:
                termios.tcsetattr(self.stdin_fd, termios.TCSADRAIN, saved)

    # -- stdin ------------------------------------------------------------------------------

    def _start_reading(self) -> None:
        if self._reading or self._file_reader is not None:
            return
        try:
            asyncio.get_running_loop().add_reader(self.stdin_fd, self._on_stdin)
        except PermissionError:
            # A regular file (`nomtui ssh JOB < script`) cannot be polled: read it in a
            # thread instead; `put` waiting on the full queue is the back-pressure.
            self._file_reader = asyncio.create_task(self._read_file())
            return
        self._reading = True

    def _stop_reading(self) -> None:
        if self._reading:
            asyncio.get_running_loop().remove_reader(self.stdin_fd)
            self._reading = False
        if self._file_reader is not None:
            self._file_reader.cancel()

    async def _read_file(self) -> None:
        while data := await asyncio.to_thread(os.read, self.stdin_fd, READ_SIZE):
            await self._stdin.put(data)
        await self._stdin.put(None)

    def _on_stdin(self) -> None:
        try:
            data = os.read(self.stdin_fd, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""  # EIO: the terminal went away; same as end of input
        if not data:
            self._stop_reading()
            self._stdin.put_nowait(None)
            return
        self._stdin.put_nowait(data)
        if self._stdin.full():
            self._stop_reading()  # back-pressure: resumed once the socket took some

    async def _forward_stdin(self, session: ExecSession) -> None:
        while True:
            data = await self._stdin.get()
            if data is None:
                # A terminal's "end of input" is Ctrl-D, which arrives as a byte; only
                # piped input really ends.
                if not self.tty:
                    await session.close_stdin()
                return
            await session.send_stdin(data)
            if not self._reading and not self._stdin.full():
                self._start_reading()

    # -- window size ---------------------------------------------------------------------------

    async def _forward_resizes(self, session: ExecSession) -> None:
        assert self._resized is not None
        while True:
            await self._resized.wait()
            self._resized.clear()
            await self._send_size(session)

    async def _send_size(self, session: ExecSession) -> None:
        try:
            size = os.get_terminal_size(self.stdout_fd)
        except OSError:
            return
        await session.resize(size.lines, size.columns)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def terminal_fds() -> tuple[int, int]:
    """(stdin, output) file descriptors: stdout, or stderr when stdout is redirected
    (Textual draws on stderr, so that is where the user's terminal is)."""
    stdin = sys.__stdin__.fileno() if sys.__stdin__ is not None else 0
    for stream in (sys.__stdout__, sys.__stderr__):
        if stream is not None and os.isatty(stream.fileno()):
            return stdin, stream.fileno()
    return stdin, 1


@audit.audited(
    lambda http, alloc_id, task, command=None, **_: (
        http,
        "exec",
        {"alloc": alloc_id, "task": task, "command": audit.command_text(command)},
    ),
    summary=lambda code: f"exit code {code}",
)
async def run_shell(
    http: HttpClient,
    alloc_id: str,
    task: str,
    command: Sequence[str] | None = None,
    *,
    stdin_fd: int | None = None,
    stdout_fd: int | None = None,
    bridge: TtyBridge | None = None,
) -> int:
    """Run `command` (default: the task's best shell) interactively; its exit code.

    Uses a TTY when stdin is a terminal, plain pipes otherwise. In the main thread,
    SIGWINCH is handled here; elsewhere the caller forwards it (`run_shell_blocking`).
    """
    default_in, default_out = terminal_fds()
    stdin_fd = default_in if stdin_fd is None else stdin_fd
    stdout_fd = default_out if stdout_fd is None else stdout_fd
    if bridge is None:
        bridge = TtyBridge(stdin_fd, stdout_fd, tty=os.isatty(stdin_fd))
    argv = list(command) if command else [await detect_shell(http, alloc_id, task)]
    loop = asyncio.get_running_loop()
    own_signal = bridge.tty and threading.current_thread() is threading.main_thread()
    if own_signal:
        loop.add_signal_handler(signal.SIGWINCH, bridge.notify_resize)
    try:
        async with ExecSession.open_with(http, alloc_id, task, argv, tty=bridge.tty) as session:
            return await bridge.run(session)
    finally:
        if own_signal:
            loop.remove_signal_handler(signal.SIGWINCH)


def run_shell_blocking(
    http: HttpClient,
    alloc_id: str,
    task: str,
    command: Sequence[str] | None = None,
) -> int:
    """`run_shell` on a private event loop in a thread, blocking until it ends.

    For callers already inside an event loop that must not run meanwhile (a suspended
    Textual app). Call it from the main thread so window resizes are forwarded.
    """
    stdin_fd, stdout_fd = terminal_fds()
    bridge = TtyBridge(stdin_fd, stdout_fd, tty=os.isatty(stdin_fd))
    result: list[int] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(run_shell(http, alloc_id, task, command, bridge=bridge)))
        except BaseException as exc:  # re-raised in the caller's thread below
            failure.append(exc)

    def on_winch(signum: int, frame: FrameType | None) -> None:
        bridge.notify_resize()

    forward = bridge.tty and threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGWINCH)
    if forward:
        signal.signal(signal.SIGWINCH, on_winch)
    worker = threading.Thread(target=target, name=f"shell:{alloc_id[:8]}", daemon=True)
    try:
        worker.start()
        while worker.is_alive():
            worker.join(0.2)  # short joins: signal handlers run between them
    finally:
        if forward:
            # None: the handler was not set from Python; the default is the closest.
            signal.signal(signal.SIGWINCH, previous if previous is not None else signal.SIG_DFL)
    if failure:
        raise failure[0]
    return result[0]


__all__ = [
    "FALLBACK_SHELL",
    "SHELL_PROBE",
    "TtyBridge",
    "detect_shell",
    "exec_command_line",
    "run_shell",
    "run_shell_blocking",
    "shell_from_probe",
    "terminal_fds",
]
