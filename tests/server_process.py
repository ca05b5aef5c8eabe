"""Start a server subprocess on 127.0.0.1 for a test, wait until it answers, stop it after."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerStartError(RuntimeError):
    pass


@contextmanager
def running_server(
    command: Sequence[str],
    ready: Callable[[], bool],
    *,
    name: str,
    log: Path,
    timeout: float = 60.0,
    stop_timeout: float = 20.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` until the block ends; ``ready()`` is polled (exceptions mean "not yet")
    until it returns True. Output goes to ``log``, whose tail is in any start-up error."""
    with log.open("wb") as out:
        proc = subprocess.Popen(list(command), stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise ServerStartError(f"{name} exited with code {proc.returncode}: {_tail(log)}")
            try:
                if ready():
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"{name} did not answer within {timeout:.0f} s: {_tail(log)}"
                )
            time.sleep(0.25)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _tail(log: Path, chars: int = 2000) -> str:
    try:
        return log.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no output)"
