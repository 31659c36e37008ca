"""checkpatch.pl's verdict, as its `total:` line gives it.

The total line counts every error, warning and check, whatever the format of the finding's own
lines: a finding these tests fail to parse still counts there, and so it is never allowed by
accident. The findings parsed say which of the counted ones a test allows.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

LEVELS = ("ERROR", "WARNING", "CHECK")
# "total: 0 errors, 1 warnings, 2 checks, 300 lines checked"; the checks only with --strict.
TOTAL_RE = re.compile(r"^total: (\d+) errors, (\d+) warnings, (?:(\d+) checks, )?\d+ lines checked$", re.M)
FINDING_RE = re.compile(r"^(?P<level>ERROR|WARNING|CHECK):(?P<type>\w+): (?P<msg>.*)$")
WHERE_RE = re.compile(r"^#\d+: FILE: (?P<file>.+):(?P<line>\d+):$")


@dataclass(frozen=True)
class Finding:
    level: str
    type: str
    msg: str
    file: str = ""
    line: str = ""
    code: str = ""  # the added line the finding is about, without its "+"; "" when it names none

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.level}:{self.type}: {self.msg}\n    {self.code}"


@dataclass(frozen=True)
class Report:
    totals: dict[str, int]
    findings: list[Finding]
    output: str


def run(script: Path, cwd: Path, *args: str) -> Report:
    """The tree's checkpatch.pl on ARGS (one file or patch), from cwd."""
    assert script.is_file(), f"{script} does not exist (a full Linux source tree has it)"
    proc = subprocess.run(["perl", str(script), "--no-tree", "--show-types", "--color=never", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={**os.environ, "LC_ALL": "C"})
    output = proc.stdout + proc.stderr
    totals = TOTAL_RE.findall(proc.stdout)
    assert len(totals) == 1, f"checkpatch printed {len(totals)} total lines, not one:\n{output}"
    errors, warnings, checks = totals[0]
    lines = proc.stdout.splitlines()
    findings = []
    for i, line in enumerate(lines):
        m = FINDING_RE.match(line)
        if not m:
            continue
        where = WHERE_RE.match(lines[i + 1]) if i + 1 < len(lines) else None
        code = next((c[1:] for c in lines[i + 1:i + 3] if c.startswith("+")), "")
        findings.append(Finding(**m.groupdict(), **(where.groupdict() if where else {}), code=code))
    print(f"checkpatch {' '.join(args)}: " + TOTAL_RE.search(proc.stdout).group(0))
    return Report({"ERROR": int(errors), "WARNING": int(warnings), "CHECK": int(checks or 0)}, findings, output)


def assert_clean(report: Report, allowed: Callable[[Finding], bool] = lambda f: False) -> None:
    """No error, warning or check beyond the findings allowed: the total counts each level, and
    may count no more of it than the allowed findings of that level."""
    tolerated = Counter(f.level for f in report.findings if allowed(f))
    over = [f"{report.totals[level]} {level} ({tolerated[level]} allowed)" for level in LEVELS
            if report.totals[level] > tolerated[level]]
    assert not over, ("checkpatch counts " + ", ".join(over) + ":\n"
                      + "\n".join(str(f) for f in report.findings if not allowed(f)) + "\n\n" + report.output)
