"""The kernel-to-kernel proof of `errata-db import --kernel-tree` (slow tier).

Linux 6.1 into an empty registry, then Linux 6.12 and 7.3 on top; and 6.12 then 7.3 into another
empty one, through 7.3's two cpucap renames. Each step is checked by behaviour against the kernel's
own table as its build preprocesses it (tests/kernel/kernel-facts.sh runs the oracle,
tests/kernel/extract_errata.py): for every MIDR/REVIDR the generated Python module must name the
cpucaps that kernel's arm64_errata[] matching decides; and the kernel table `generate` writes is
that kernel's arm64_errata[], row for row. After each import, validate warns once for each entry
it added (guest and impact `unreviewed`) and for nothing else, and the test decides them as a
person would before going on. The bundled registry answers as Linux 7.3 does, and
importing 7.3 into it changes nothing. (tests/test_import_proof_linux.py imports each kernel
alone and builds its table.)

Environment (set by .ci/run): ERRATA_DB_LINUX_61, ERRATA_DB_LINUX_612 and ERRATA_DB_LINUX_73,
pristine source trees; ERRATA_DB_FACTS_61, ERRATA_DB_FACTS_612 and ERRATA_DB_FACTS_73, the
oracle's facts of each (errata-facts.json).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REGISTRY, path_from_env, review_imported
from kernel_matching import differences

from errata_db.diagnostics import Pos
from errata_db.kernel import cpu_errata
from errata_db.lookup import lookup_module
from errata_db.registry import load_registry
from errata_db.render import render
from errata_db.resources import templates_dir
from errata_db.targets.kernel_tables import TARGET

pytestmark = pytest.mark.slow




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


# An entry an import adds: `added     NAME (bit N...`, not `added     N CPU(s)` or `... row(s)`.
_ADDED = re.compile(r"^added     (\w+) \(bit \d+", re.M)
_UNREVIEWED = re.compile(r"'(\w+)': guest and impact not reviewed yet \(import added it; ")


def review_added(registry_dir: Path, import_stdout: str) -> list[str]:
    """The registry an import left warns once (`unreviewed`, both fields) for each entry that
    import added and for nothing else, the entries it renamed, widened or kept keeping the
    guest and impact they had; then a person decides them. The names added."""
    added = _ADDED.findall(import_stdout)
    assert added, import_stdout
    found = [(d.rule, d.severity.value, m.group(1) if (m := _UNREVIEWED.match(d.message)) else d.message)
             for d in load_registry(registry_dir).diagnostics]
    assert sorted(found) == sorted(("unreviewed", "warning", name) for name in added)
    review_imported(registry_dir)
    assert list(load_registry(registry_dir).diagnostics) == []
    return added


def _table_differences(registry_dir: Path, tree: Path, version: str) -> list:
    """Where the kernel table generated from the registry differs from the tree's arm64_errata[],
    row for row, as `install --kernel-tables` compares them."""
    table = render(load_registry(registry_dir).registry, {TARGET.name: TARGET}, templates_dir())
    theirs = cpu_errata.read_source((tree / "arch/arm64/kernel/cpu_errata.c").read_text(), version).rows()
    ours = cpu_errata.read_source(table[TARGET.path], "generated").rows()
    return list(cpu_errata.differences(theirs, ours, Pos("tree", 1, 1)))


def _bits(registry_dir: Path) -> dict[str, int]:
    """Every entry's bit, by entry name."""
    return {e.name: e.bit for e in load_registry(registry_dir).registry.errata}


def _lock_lines(registry_dir: Path) -> list[str]:
    return [line for line in (registry_dir / "bits.lock").read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def _commit(repo: Path, message: str) -> None:
    if not (repo / ".git").is_dir():
        _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", message)


def _no_breaking_change(repo: Path) -> None:
    stability = _run(repo, "stability", "--against", "HEAD")
    assert stability.returncode == 0, stability.stdout + stability.stderr
    assert "0 breaking" in stability.stdout, stability.stdout


# 7.3 renames two cpucaps of 6.12: the workaround is the same, the bits must stay.
RENAMES = {"WORKAROUND_REPEAT_TLBI": "WORKAROUND_REPEAT_TLBI_SYNC",
           "WORKAROUND_NVIDIA_CARMEL_CNP": "WORKAROUND_DISABLE_CNP"}


def _import_7_3_over_6_12(repo: Path, tree73: Path, facts73: Path) -> None:
    """Import 7.3 into the registry of repo (committed, 6.12 imported): both renames reported at
    the bits the old names hold, which they keep, and the result is 7.3."""
    before = _bits(repo / "errata-db")
    lock_before = _lock_lines(repo / "errata-db")
    done = _run(repo, "import", "--kernel-tree", str(tree73))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Linux 7.3." in done.stdout and "registry updated" in done.stdout, done.stdout
    for old, new in RENAMES.items():
        assert f"renamed   {old} -> {new} (bit {before[old]})\n" in done.stdout, done.stdout
        assert f"added     {new} (" not in done.stdout, done.stdout
    after = load_registry(repo / "errata-db").registry
    assert {e.name: e.bit for e in after.errata if e.name in before} == before  # nothing moved
    for old, new in RENAMES.items():
        entry = next(e for e in after.errata if e.name == old)
        assert entry.status == "active" and entry.enables == new and entry.bit == before[old]
        # no other bit for the new name's own workaround: entries under it are new erratum ids
        assert all(e.bit == before[old] or e.errata_ids != entry.errata_ids
                   for e in after.errata if e.enables == new)
    # The lock keeps every line it had, the renamed bits' among them (active, same name and
    # fingerprint): the lines are the bits' identity.
    lock_after = _lock_lines(repo / "errata-db")
    assert [line for line in lock_before if line not in lock_after] == []
    assert {line.split()[0] for line in lock_before if line.split()[-1] in RENAMES
            and line.split()[1] == "active"} == {str(before[old]) for old in RENAMES}
    assert _run(repo, "validate").returncode == 0
    _no_breaking_change(repo)
    # The five new entries await a person; the renamed ones keep what was decided for them.
    assert review_added(repo / "errata-db", done.stdout) == [
        "WORKAROUND_162100125", "WORKAROUND_NVIDIA_OLYMPUS_1027", "WORKAROUND_4193714",
        "WORKAROUND_AMPERE_AC04_CPU_23", "WORKAROUND_QCOM_ORYON_CNTVOFF"]
    assert _differences(repo / "errata-db", facts73) == []
    assert _table_differences(repo / "errata-db", tree73, "7.3") == []
    again = _run(repo, "import", "--kernel-tree", str(tree73))
    assert again.returncode == 0 and again.stdout.endswith("nothing to change\n"), again.stdout


def test_linux_6_1_then_6_12_then_7_3_imported_decide_every_cpu_as_each_kernel_does(tmp_path, request):
    tree61, tree612, tree73 = (path_from_env(f"ERRATA_DB_LINUX_{v}", request) for v in ("61", "612", "73"))
    facts61, facts612, facts73 = (path_from_env(f"ERRATA_DB_FACTS_{v}", request) for v in ("61", "612", "73"))
    repo = tmp_path / "repo"
    repo.mkdir()
    assert _run(repo, "init", "errata-db").returncode == 0
    done = _run(repo, "import", "--kernel-tree", str(tree61))
    assert done.returncode == 0, done.stderr
    assert "Linux 6.1." in done.stdout and "registry updated" in done.stdout
    assert _run(repo, "validate").returncode == 0
    added = review_added(repo / "errata-db", done.stdout)  # from nothing: every entry, bits 0 to 31
    assert len(added) == 32 and sorted(added) == sorted(_bits(repo / "errata-db"))
    assert _differences(repo / "errata-db", facts61) == []
    # The kernel table generated from what was imported is 6.1's arm64_errata[], row for row.
    assert _table_differences(repo / "errata-db", tree61, "6.1") == []
    audit = _run(repo, "audit", "--kernel-tree", str(tree61))
    assert audit.returncode == 0 and "0 mismatch(es), 0 warning(s)" in audit.stdout, audit.stdout
    _commit(repo, "Linux 6.1")

    done = _run(repo, "import", "--kernel-tree", str(tree612))
    assert done.returncode == 0, done.stderr
    assert "cpucap WORKAROUND_SPECULATIVE_UNPRIV_LOAD): ARM 3117295; 1 range(s) on cortex-a510" in done.stdout
    assert "widened   WORKAROUND_SPECULATIVE_SSBS (bit 29): now Azure Cobalt 100 all" in done.stdout
    _no_breaking_change(repo)
    assert review_added(repo / "errata-db", done.stdout) == [
        "WORKAROUND_2645198", "WORKAROUND_3117295", "WORKAROUND_AC04_CPU_10"]
    assert _differences(repo / "errata-db", facts612) == []
    # The generated table is 6.12's row for row: erratum 3117295's entry, bit 33 of its own,
    # joins the row of its cpucap as 6.12 writes it, and AmpereOne AC04 has its own id,
    # AC04_CPU_10, so audit is clean.
    assert "WORKAROUND_AC04_CPU_10" in done.stdout
    assert _table_differences(repo / "errata-db", tree612, "6.12") == []
    audit = _run(repo, "audit", "--kernel-tree", str(tree612))
    assert audit.returncode == 0 and "0 mismatch(es), 0 warning(s)" in audit.stdout, audit.stdout
    again = _run(repo, "import", "--kernel-tree", str(tree612))
    assert again.returncode == 0 and again.stdout.endswith("nothing to change\n"), again.stdout
    _commit(repo, "Linux 6.12")

    _import_7_3_over_6_12(repo, tree73, facts73)


def test_linux_6_12_then_7_3_imported_keep_the_bits_of_the_renamed_cpucaps(tmp_path, request):
    tree612, tree73 = (path_from_env(f"ERRATA_DB_LINUX_{v}", request) for v in ("612", "73"))
    facts612, facts73 = (path_from_env(f"ERRATA_DB_FACTS_{v}", request) for v in ("612", "73"))
    repo = tmp_path / "repo"
    repo.mkdir()
    assert _run(repo, "init", "errata-db").returncode == 0
    done = _run(repo, "import", "--kernel-tree", str(tree612))
    assert done.returncode == 0, done.stdout + done.stderr
    # From nothing, every entry is new: one per cpucap of 6.12's MIDR-matched rows (3117295 and
    # AC04_CPU_10 are no entries of their own without 6.1's before them).
    added = review_added(repo / "errata-db", done.stdout)
    assert len(added) == 33 and sorted(added) == sorted(_bits(repo / "errata-db"))
    assert _differences(repo / "errata-db", facts612) == []
    assert set(RENAMES) <= set(_bits(repo / "errata-db"))
    _commit(repo, "Linux 6.12")
    _import_7_3_over_6_12(repo, tree73, facts73)


def test_the_bundled_registry_decides_every_cpu_as_linux_7_3_does_and_importing_7_3_changes_nothing(
        tmp_path, request):
    tree73, facts73 = path_from_env("ERRATA_DB_LINUX_73", request), path_from_env("ERRATA_DB_FACTS_73", request)
    assert _differences(REGISTRY, facts73) == []
    bundled = tmp_path / "bundled"
    shutil.copytree(REGISTRY, bundled)
    same = _run(tmp_path, "import", "--registry", str(bundled), "--kernel-tree", str(tree73))
    assert same.returncode == 0 and same.stdout.endswith("nothing to change\n"), same.stdout + same.stderr
    diff = subprocess.run(["diff", "-r", str(REGISTRY), str(bundled)], capture_output=True, text=True)
    assert diff.returncode == 0, diff.stdout


@pytest.mark.parametrize("env", ["ERRATA_DB_LINUX_61", "ERRATA_DB_LINUX_612"])
def test_an_older_kernel_imported_into_the_bundled_registry_narrows_and_keeps_every_bit_and_name(
        tmp_path, request, env):
    """Going back to an older tree is no removal: the registry validates, every bit and cpucap
    name stays, and the rows of entries the tree lacks (HIP09 in the CNP row) stay the registry's."""
    tree = path_from_env(env, request)
    bundled = tmp_path / "errata-db"
    shutil.copytree(REGISTRY, bundled)
    done = _run(tmp_path, "import", "--registry", str(bundled), "--kernel-tree", str(tree))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "not in this tree (kept as they are): WORKAROUND_162100125" in done.stdout
    assert "renamed" not in done.stdout and "WORKAROUND_NVIDIA_CARMEL_CNP (bit 18)" not in done.stdout
    before = {e.name: (e.bit, e.cpucaps) for e in load_registry(REGISTRY).registry.errata}
    after = {e.name: (e.bit, e.cpucaps) for e in load_registry(bundled).registry.errata}
    assert after == before
    assert _run(tmp_path, "validate", "--registry", str(bundled)).returncode == 0
