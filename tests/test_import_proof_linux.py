"""`errata-db import --kernel-tree` from nothing, proven on Linux 6.1, 6.12 and 7.3 (slow tier).

For each kernel, from its pristine sources: `errata-db init DIR`, `errata-db import --kernel-tree
TREE --registry DIR`, which validate finds valid with one `unreviewed` warning for each entry
added, whose guest and impact the test then decides as a person would; then the generated Python
module decides every MIDR/REVIDR as the kernel's own arm64_errata[] does (the oracle's facts,
tests/kernel/kernel-facts.sh), `audit` of the tree exits 0, `install --kernel-tables` into the
proof's hard-link copy of the tree succeeds and cpu_errata.o built with every erratum option on
holds an arm64_errata deep-equal to the pristine build's (tests/elf_deep_equal.py), and a second
import changes nothing (nor what the person decided).

Environment (set by .ci/run), per kernel: a proof directory prepared by
tests/kernel/prepare-proof.sh with at least its errata-on build (ERRATA_DB_LINUX_PROOF_61, prepared
with CONFIGS=errata-on from linux-source-6.1; ERRATA_DB_LINUX_PROOF for 6.12;
ERRATA_DB_LINUX_PROOF_73), whose pristine/ is the tree imported, and the oracle's facts of it
(ERRATA_DB_FACTS_61, ERRATA_DB_FACTS_612, ERRATA_DB_FACTS_73). A kernel whose variables are unset
is skipped, out loud.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import path_from_env, run_cli
from test_import_linux import _differences, review_added
from test_kernel_tables_linux import CPU_ERRATA, HEADER, open_proof

pytestmark = pytest.mark.slow

# version, proof directory variable, facts variable
KERNELS = {
    "6.1": ("ERRATA_DB_LINUX_PROOF_61", "ERRATA_DB_FACTS_61"),
    "6.12": ("ERRATA_DB_LINUX_PROOF", "ERRATA_DB_FACTS_612"),
    "7.3": ("ERRATA_DB_LINUX_PROOF_73", "ERRATA_DB_FACTS_73"),
}


class Imported:
    """A registry made from nothing by importing one kernel's pristine tree."""

    def __init__(self, version: str, proof, facts: Path, registry: Path, done, valid, added: list[str]):
        self.version, self.proof, self.facts, self.registry, self.done = version, proof, facts, registry, done
        self.tree = proof.pristine
        self.valid, self.added = valid, added  # validate right after the import; the entries it added


@pytest.fixture(scope="module", params=list(KERNELS))
def imported(request, tmp_path_factory):
    version = request.param
    proof_env, facts_env = KERNELS[version]
    facts = path_from_env(facts_env, request)
    work = tmp_path_factory.mktemp(f"import-{version}")
    for proof in open_proof(proof_env, ("errata-on",), version, request, work):
        registry = work / "errata-db"
        init = run_cli("init", str(registry))
        assert init.code == 0, init.out + init.err
        done = run_cli("import", "--kernel-tree", str(proof.pristine), "--registry", str(registry))
        valid = run_cli("validate", "--registry", str(registry))
        # What a person does next: decide the guest and impact of every entry import added.
        added = review_added(registry, done.out) if done.code == 0 else []
        yield Imported(version, proof, facts, registry, done, valid, added)


def test_import_from_nothing_writes_a_valid_registry(imported):
    done = imported.done
    assert done.code == 0, done.out + done.err
    assert f"Linux {imported.version}." in done.out and ": registry updated\n" in done.out, done.out
    valid = imported.valid
    assert valid.code == 0, valid.out + valid.err
    # One warning for each entry added (a tree's sources decide neither guest nor impact), and
    # nothing else; none once a person has decided them.
    warned = [re.fullmatch(r"\S+: warning: '(\w+)': guest and impact not reviewed yet .* \[unreviewed\]", line)
              for line in valid.err.splitlines()]
    assert all(warned) and sorted(m.group(1) for m in warned) == sorted(imported.added), valid.err
    assert valid.out.startswith(f"{len(imported.added)} errata, ") and valid.out.endswith(": valid\n"), valid.out
    reviewed = run_cli("validate", "--registry", str(imported.registry))
    assert (reviewed.code, reviewed.err, reviewed.out) == (0, "", valid.out), reviewed.out + reviewed.err


def test_the_imported_registry_decides_every_cpu_as_the_kernel_does(imported):
    assert imported.done.code == 0, imported.done.err
    assert _differences(imported.registry, imported.facts) == []


def test_audit_of_the_imported_tree_exits_0(imported):
    assert imported.done.code == 0, imported.done.err
    audit = run_cli("audit", "--kernel-tree", str(imported.tree), "--registry", str(imported.registry))
    assert audit.code == 0, audit.out + audit.err
    assert "0 mismatch(es)" in audit.out, audit.out


def test_install_kernel_tables_builds_the_same_arm64_errata_with_every_erratum_on(imported):
    from elf_deep_equal import Object, first_difference

    assert imported.done.code == 0, imported.done.err
    proof = imported.proof
    pristine = proof.build("errata-on", "pristine")
    try:
        out = proof.install(imported.registry)
        assert (proof.src / HEADER).is_file(), out
        # Written by rename: the pristine tree the copy shares its files with is as extracted.
        assert (proof.src / CPU_ERRATA).stat().st_ino != (proof.pristine / CPU_ERRATA).stat().st_ino
        converted = proof.build("errata-on", "converted")
    finally:
        proof.restore()
    assert (proof.src / CPU_ERRATA).read_bytes() == (proof.pristine / CPU_ERRATA).read_bytes()
    a, b = Object(pristine), Object(converted)
    assert first_difference(a, b, "arm64_errata") is None
    assert a.symbol("arm64_errata").size > 0


def test_a_second_import_changes_nothing(imported, tmp_path):
    assert imported.done.code == 0, imported.done.err
    again_dir = tmp_path / "errata-db"
    shutil.copytree(imported.registry, again_dir)
    again = run_cli("import", "--kernel-tree", str(imported.tree), "--registry", str(again_dir))
    assert again.code == 0 and again.out.endswith("nothing to change\n"), again.out + again.err
    assert sorted(p.relative_to(again_dir) for p in again_dir.rglob("*")) == sorted(
        p.relative_to(imported.registry) for p in imported.registry.rglob("*"))
    for path in imported.registry.rglob("*"):
        if path.is_file():
            assert (again_dir / path.relative_to(imported.registry)).read_bytes() == path.read_bytes(), path
