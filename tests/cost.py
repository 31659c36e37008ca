"""The work a run does, counted instead of timed: the calls it makes and the bytes it reads.

A clock measures the machine and its load as much as the code, so a bound in seconds either
flakes or is too loose to catch anything. Counts are the same on every machine: a check that
compares every two items makes a call per pair, and an endless or sparse input makes reads past
any limit. How fast the tool is belongs to the benchmark (bench/run.py).
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path


class OverBudget(BaseException):
    """Raised inside the measured code when it passes its budget of calls: a BaseException, so
    that no `except Exception` in the tool turns a runaway into an ordinary error."""


@dataclass
class Work:
    calls: int = 0
    bytes_read: int = 0


def bytes_read() -> int:
    """Every byte read() has returned to this process so far, from files, pipes and devices
    alike (Linux's rchar)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("/proc/self/io has no rchar")


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

