"""The work a run does, counted instead of timed: the calls it makes and the bytes it reads.

A clock measures the machine and its load as much as the code, so a bound in seconds either
flakes or is too loose to catch anything. Counts are the same on every machine: a check that
compares every two items makes a call per pair, and an endless or sparse input makes reads past
any limit. How fast the tool is belongs to the benchmark (bench/run.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

# Only a safety net: a run that hangs is killed, and fails, instead of stalling the suite.
HANG_GUARD_SECONDS = 20


class OverBudget(BaseException):
    """Raised inside the measured code when it passes its budget of calls: a BaseException, so
    that no `except Exception` in the tool turns a runaway into an ordinary error."""


@dataclass
class Work:
    calls: int = 0
    bytes_read: int = 0


def bytes_read(pid: int | str = "self") -> int:
    """Every byte read() has returned to the process so far, from files, pipes and devices
    alike (Linux's rchar, which takes in a child's once the child is reaped)."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError(f"/proc/{pid}/io has no rchar")


@contextlib.contextmanager
def counted(max_calls: int):
    """Count the Python and builtin calls (each resumption of a generator too) and the bytes read
    inside the block, into the Work it yields. Past max_calls the run is stopped and the test
    fails: a quadratic or exponential regression fails in seconds instead of running for hours."""
    work = Work()

    def profile(_frame, event, _arg):
        if event == "call" or event == "c_call":
            work.calls += 1
            if work.calls > max_calls:
                raise OverBudget

    start, outer = bytes_read(), sys.getprofile()
    sys.setprofile(profile)
    try:
        yield work
    except OverBudget:
        raise AssertionError(f"more than {max_calls} calls") from None
    finally:
        sys.setprofile(outer)
        work.bytes_read = bytes_read() - start


@dataclass(frozen=True)
class Outcome:
    code: int
    err: str
    bytes_read: int
    max_rss_mb: float


def run_measured(args: list[str], cwd: Path | None = None, stdin_path: str | None = None,
                 preexec_fn=None) -> Outcome:
    """`python -m errata_db ARGS` as its own process, so that the bytes it read and its peak
    memory are its own."""
    with tempfile.TemporaryFile() as err, open(stdin_path or os.devnull, "rb") as stdin:
        proc = subprocess.Popen([sys.executable, "-m", "errata_db", *args], cwd=cwd, stdin=stdin,
                                stdout=subprocess.DEVNULL, stderr=err, preexec_fn=preexec_fn)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            proc.kill()

        watchdog = threading.Timer(HANG_GUARD_SECONDS, kill)
        watchdog.start()
        try:
            # Exited but not reaped: its counters are still there to read.
            os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        finally:
            watchdog.cancel()
        read = bytes_read(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode(errors="replace")
    if killed.is_set() and proc.returncode == -signal.SIGKILL:
        raise AssertionError(f"errata-db {' '.join(args)} still ran after {HANG_GUARD_SECONDS} s: "
                             f"killed\n{text}")
    return Outcome(proc.returncode, text, read, usage.ru_maxrss / 1024)
