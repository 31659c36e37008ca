"""The two-kernel proof of `errata-db import --kernel-tree` (slow tier).

Linux 6.1 into an empty registry, then Linux 6.12 on top, each checked by behaviour against
the kernel's own table as its build preprocesses it (tests/kernel/kernel-facts.sh runs the
oracle, tests/kernel/extract_errata.py): for every MIDR/REVIDR the generated Python module
must name the cpucaps that kernel's arm64_errata[] matching decides.

Environment (set by .ci/run): ERRATA_DB_LINUX_61 and ERRATA_DB_LINUX_612, pristine source trees;
ERRATA_DB_FACTS_61 and ERRATA_DB_FACTS_612, the oracle's facts of each (errata-facts.json).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REGISTRY
from kernel_matching import differences

from errata_db.kernel import cpu_errata
from errata_db.lookup import lookup_module
from errata_db.registry import load_registry
from errata_db.render import render
from errata_db.resources import templates_dir
from errata_db.targets.kernel_tables import TARGET

pytestmark = pytest.mark.slow


def _env(name: str) -> Path:
    value = os.environ.get(name)
    if not value or not Path(value).exists():
        pytest.skip(f"{name} is not set to an existing path (.ci/run sets it)")
    return Path(value)


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "errata_db", *args], cwd=cwd, capture_output=True,
                          text=True)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=cwd,
                   check=True, capture_output=True)


def _differences(registry_dir: Path, facts_file: Path) -> list[str]:
    result = load_registry(registry_dir)
    assert [d for d in result.diagnostics] == []
    reg = result.registry
    facts = json.loads(facts_file.read_text())
    return differences(facts, lookup_module(reg), {e.name: e.enables for e in reg.errata},
                       {c.model for c in reg.cpus})


def test_linux_6_1_then_6_12_imported_decide_every_cpu_as_each_kernel_does(tmp_path):
    tree61, tree612 = _env("ERRATA_DB_LINUX_61"), _env("ERRATA_DB_LINUX_612")
    facts61, facts612 = _env("ERRATA_DB_FACTS_61"), _env("ERRATA_DB_FACTS_612")
    repo = tmp_path / "repo"
    repo.mkdir()
    assert _run(repo, "init", "errata-db").returncode == 0
    done = _run(repo, "import", "--kernel-tree", str(tree61))
    assert done.returncode == 0, done.stderr
    assert "Linux 6.1." in done.stdout and "registry updated" in done.stdout
    assert _run(repo, "validate").returncode == 0
    assert _differences(repo / "errata-db", facts61) == []
    # The kernel table generated from what was imported is 6.1's arm64_errata[], row for row.
    table = render(load_registry(repo / "errata-db").registry, {TARGET.name: TARGET}, templates_dir())
    theirs = cpu_errata.read_source((tree61 / "arch/arm64/kernel/cpu_errata.c").read_text(), "6.1").rows()
    ours = cpu_errata.read_source(table[TARGET.path], "generated").rows()
    assert list(cpu_errata.differences(theirs, ours)) == []
    audit = _run(repo, "audit", "--kernel-tree", str(tree61))
    assert audit.returncode == 0 and "0 mismatch(es), 0 warning(s)" in audit.stdout, audit.stdout
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "Linux 6.1")

    done = _run(repo, "import", "--kernel-tree", str(tree612))
    assert done.returncode == 0, done.stderr
    assert "cpucap WORKAROUND_SPECULATIVE_UNPRIV_LOAD): ARM 3117295; 1 range(s) on cortex-a510" in done.stdout
    assert "widened   WORKAROUND_SPECULATIVE_SSBS (bit 29): now Azure Cobalt 100 all" in done.stdout
    stability = _run(repo, "stability", "--against", "HEAD")
    assert stability.returncode == 0, stability.stdout + stability.stderr
    assert "0 breaking" in stability.stdout
    assert _differences(repo / "errata-db", facts612) == []
    # The generated table is 6.12's row for row: erratum 3117295's range stays in its cpucap's
    # row (kernel.joins), and AmpereOne AC04 has its own id, AC04_CPU_10, so audit is clean.
    assert "WORKAROUND_AC04_CPU_10" in done.stdout
    table = render(load_registry(repo / "errata-db").registry, {TARGET.name: TARGET}, templates_dir())
    theirs = cpu_errata.read_source((tree612 / "arch/arm64/kernel/cpu_errata.c").read_text(), "6.12").rows()
    ours = cpu_errata.read_source(table[TARGET.path], "generated").rows()
    assert list(cpu_errata.differences(theirs, ours)) == []
    audit = _run(repo, "audit", "--kernel-tree", str(tree612))
    assert audit.returncode == 0 and "0 mismatch(es), 0 warning(s)" in audit.stdout, audit.stdout

    again = _run(repo, "import", "--kernel-tree", str(tree612))
    assert again.returncode == 0 and again.stdout.endswith("nothing to change\n"), again.stdout

    bundled = tmp_path / "bundled"
    shutil.copytree(REGISTRY, bundled)
    same = _run(tmp_path, "import", "--registry", str(bundled), "--kernel-tree", str(tree612))
    assert same.returncode == 0 and same.stdout.endswith("nothing to change\n"), same.stdout
    assert subprocess.run(["diff", "-r", str(REGISTRY), str(bundled)], capture_output=True).returncode == 0
