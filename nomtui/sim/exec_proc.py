"""Real local processes for the sim's alloc exec: pipes or a pseudo-terminal, no shell added.

The child runs in its own session (so one killpg reaches everything it started). With a TTY
it gets the PTY slave as stdin/stdout/stderr *and* as its controlling terminal (setsid, then
TIOCSCTTY), so Ctrl-C, job control and SIGWINCH on resize behave as in `nomad alloc exec -t`.
All parent-side fds are non-blocking and driven by the event loop with no buffering of our
own: a write returns only once the kernel took the bytes, which gives end-to-end
backpressure to the websocket.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import shutil
import signal
import struct
import termios
from dataclasses import dataclass

READ_SIZE = 4096  # Nomad's executor reads output in 4 KiB chunks


class FdReader:
    """Async reads from a non-blocking fd; b"" at EOF (EIO on a PTY master counts as EOF)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        os.set_blocking(fd, False)
        self._loop = asyncio.get_running_loop()

    async def read(self, size: int = READ_SIZE) -> bytes:
        while True:
            try:
                return os.read(self.fd, size)
            except BlockingIOError:
                await self._wait()
            except OSError as exc:
                if exc.errno == errno.EIO:  # every slave fd closed: the terminal hung up
                    return b""
                raise

    async def _wait(self) -> None:
        ready = self._loop.create_future()
        self._loop.add_reader(self.fd, _resolve, ready)
        try:
            await ready
        finally:
            self._loop.remove_reader(self.fd)


class FdWriter:
    """Async writes to a non-blocking fd, returning when the kernel accepted every byte."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        os.set_blocking(fd, False)
        self._loop = asyncio.get_running_loop()

    async def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.fd, view) :]
            except BlockingIOError:
                ready = self._loop.create_future()
                self._loop.add_writer(self.fd, _resolve, ready)
                try:
                    await ready
                finally:
                    self._loop.remove_writer(self.fd)


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def _resolve_binary(argv0: str, cwd: str, path: str | None) -> str:
    """What exec would run, or the OSError exec would give; checked before spawning because
    the TTY path execs through `setsid`, which would otherwise report it in its own words."""
    if "/" in argv0:
        candidate = os.path.join(cwd, argv0)
        if not os.path.exists(candidate):
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), argv0)
    else:
        found = shutil.which(argv0, path=path)
        if found is None:
            if shutil.which(argv0, mode=os.F_OK, path=path) is not None:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), argv0)
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), argv0)
        candidate = found
    if not os.access(candidate, os.X_OK) or os.path.isdir(candidate):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), argv0)
    return candidate


@dataclass
class ExecSpec:
    argv: list[str]
    cwd: str
    env: dict[str, str]
    tty: bool


class ExecProcess:
    """A running exec command and the parent's ends of its stdio."""

    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        stdout: FdReader,
        stderr: FdReader | None,
        stdin: FdWriter | None,
        tty: bool,
    ) -> None:
        self.proc = proc
        self.stdout = stdout
        self.stderr = stderr
        self.stdin = stdin
        self.tty = tty
        self._fds = [r.fd for r in (stdout, stderr, stdin) if r is not None]

    @classmethod
    async def spawn(cls, spec: ExecSpec) -> ExecProcess:
        """Start the command; OSError (FileNotFoundError, PermissionError...) if it cannot."""
        if spec.tty:
            master, slave = os.openpty()
            writer_fd = os.dup(master)  # separate fds so read and write waits never clash
            child = (slave, slave, slave)
            parent = [master, writer_fd]
        else:
            in_r, in_w = os.pipe()
            out_r, out_w = os.pipe()
            err_r, err_w = os.pipe()
            child = (in_r, out_w, err_w)
            parent = [out_r, err_r, in_w]
        argv = spec.argv
        if spec.tty:
            # util-linux `setsid --ctty` makes the PTY the controlling terminal and then execs
            # the command in place: no Python runs between fork and exec, which a preexec_fn
            # would do, and that can deadlock when the sim shares its process with threads.
            binary = _resolve_binary(argv[0], spec.cwd, spec.env.get("PATH"))
            argv = ["setsid", "--ctty", binary, *argv[1:]]
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=child[0],
                stdout=child[1],
                stderr=child[2],
                cwd=spec.cwd,
                env=spec.env,
                start_new_session=not spec.tty,
            )
        except BaseException:
            for fd in parent:
                os.close(fd)
            raise
        finally:
            for fd in set(child):
                os.close(fd)
        if spec.tty:
            return cls(proc, FdReader(parent[0]), None, FdWriter(parent[1]), True)
        return cls(proc, FdReader(parent[0]), FdReader(parent[1]), FdWriter(parent[2]), False)

    async def write_stdin(self, data: bytes) -> None:
        if self.stdin is None:
            return  # stdin already closed: Nomad drops the bytes too
        try:
            await self.stdin.write(data)
        except OSError:
            # EPIPE (nobody reads the pipe any more) or EIO (terminal hung up): the process
            # is gone or ignores stdin, so later input is dropped like Nomad's executor does.
            self._drop_stdin()

    def _drop_stdin(self) -> None:
        if self.stdin is not None:
            if not self.tty:
                self._close_fd(self.stdin.fd)
            self.stdin = None

    async def end_stdin(self) -> None:
        """Client's `stdin.close`: EOF on a pipe; on a terminal, the EOF character (^D)."""
        if self.tty:
            await self.write_stdin(b"\x04")
        else:
            self.close_stdin()

    def close_stdin(self) -> None:
        if not self.tty:
            self._drop_stdin()

    def resize(self, height: int, width: int) -> None:
        """TIOCSWINSZ; the kernel then sends SIGWINCH to the terminal's foreground group."""
        if not self.tty or self.stdin is None:
            return
        rows, cols = (min(max(v, 0), 0xFFFF) for v in (height, width))
        winsize = struct.pack("HHHH", rows, cols, 0, 0)
        fcntl.ioctl(self.stdin.fd, termios.TIOCSWINSZ, winsize)

    def kill_group(self) -> None:
        """SIGKILL the whole session's process group (the command and what it started)."""
        with contextlib.suppress(ProcessLookupError):  # already gone: nothing to kill
            os.killpg(self.proc.pid, signal.SIGKILL)

    async def wait(self) -> int:
        """Exit code as Nomad reports it: the status, or 128 + signal when killed."""
        code = await self.proc.wait()
        return 128 - code if code < 0 else code

    def close(self) -> None:
        for fd in list(self._fds):
            self._close_fd(fd)

    def _close_fd(self, fd: int) -> None:
        if fd in self._fds:
            self._fds.remove(fd)
            os.close(fd)
