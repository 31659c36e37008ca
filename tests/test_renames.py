"""A cpucap the kernel renamed keeps its bit: import records the tree's new name (cpucap_names,
kernel.kconfig_names), install writes each tree the names that tree has, stability calls the
rename safe, and the JSON export lists every name.

The registry here is small and written by the test (not the bundled one): REPEAT_TLBI with a
hidden Kconfig guard of its own name (7.3 renamed both to ..._SYNC), Carmel's CNP erratum without
an erratum id, and the two ThunderX2 erratum 219 cpucaps that share their id. Its trees are
written from it by tests/generated_tree.py, with the files install needs and an
arch/arm64/tools/cpucaps listing the table's cpucaps, then renamed one fact at a time as the
kernel renamed them.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import generated_tree
from conftest import run_cli

from errata_db.registry import load_registry

CPU_ERRATA = "arch/arm64/kernel/cpu_errata.c"
CPUCAPS = "arch/arm64/tools/cpucaps"
KCONFIG = "arch/arm64/Kconfig"
GUEST = "arch/arm64/include/asm/migrn_errata.h"
TABLE = "arch/arm64/kernel/cpu_errata_table.h"
SHIM = Path(__file__).resolve().parent / "c" / "shim"

OLD, NEW = "WORKAROUND_REPEAT_TLBI", "WORKAROUND_REPEAT_TLBI_SYNC"
GUARD_OLD, GUARD_NEW = "ARM64_" + OLD, "ARM64_" + NEW
TVM, PRFM = "WORKAROUND_CAVIUM_TX2_219_TVM", "WORKAROUND_CAVIUM_TX2_219_PRFM"

REGISTRY_YAML = """\
format: 1

hypercall:
  name: ARM_SMCCC_VENDOR_HYP_KVM_MIGRN_ERRATA
  description: Test hypercall that returns the errata bitmap in R0-R3.

bit_space:
  registers: [R0, R1, R2, R3]
  register_bits: 64

ranges:
  - name: upstream
    first: 0
    last: 191
    owner: upstream
    status: Expert Review
    description: Errata of the upstream kernel.
  - name: private
    first: 192
    last: 239
    owner: downstream
    status: Private Use
    description: Downstream overlays.
  - name: reserved
    first: 240
    last: 255
    owner: none
    status: Reserved
    description: Kept free.
"""

CPUS_YAML = """\
implementers:
  - id: arm
    code: 0x41
    name: ARM Limited
    macro: ARM_CPU_IMP_ARM
  - id: cavium
    code: 0x43
    name: Cavium Inc.
    macro: ARM_CPU_IMP_CAVIUM
  - id: nvidia
    code: 0x4e
    name: NVIDIA Corporation
    macro: ARM_CPU_IMP_NVIDIA

cpus:
  - id: cortex-a53
    implementer: arm
    part: 0xd03
    name: Cortex-A53
    macro: MIDR_CORTEX_A53
    part_macro: ARM_CPU_PART_CORTEX_A53
  - id: cortex-a57
    implementer: arm
    part: 0xd07
    name: Cortex-A57
    macro: MIDR_CORTEX_A57
    part_macro: ARM_CPU_PART_CORTEX_A57
  - id: thunderx2
    implementer: cavium
    part: 0x0af
    name: ThunderX2
    macro: MIDR_CAVIUM_THUNDERX2
    part_macro: CAVIUM_CPU_PART_THUNDERX2
  - id: carmel
    implementer: nvidia
    part: 0x004
    name: Carmel
    macro: MIDR_NVIDIA_CARMEL
    part_macro: NVIDIA_CPU_PART_CARMEL
"""

# REPEAT_TLBI as Linux 6.12 names it; the {names} slot takes cpucap_names, the {guard} slot the
# kernel guard (and kconfig_names), so that one text serves before and after the rename.
ARM_YAML = """\
errata:
  - name: WORKAROUND_CLEAN_CACHE
    bit: 0
    vendor: ARM
    errata_ids: ["826319"]
    description: Cortex-A53 cache clean problems; upgrade clean to clean and invalidate.
    guest: needed
    impact: corruption
    impact_note: A test entry.
    kconfig: [ARM64_ERRATUM_826319]
    affects:
      - cpu: cortex-a53
        revisions: r0p0..r0p2
    status: active

  - name: WORKAROUND_REPEAT_TLBI
    bit: 1
    vendor: ARM
    errata_ids: ["1286807", "2441007"]
    description: Broadcast TLB invalidation may complete early; repeat the TLBI and DSB.
    guest: needed
    impact: corruption
    impact_note: A test entry.
    kconfig: [ARM64_ERRATUM_1286807, ARM64_ERRATUM_2441007]
{names}    affects:
      - cpu: cortex-a57
        revisions: r0p0..r3p0
        guard: [ARM64_ERRATUM_1286807]
        errata_ids: ["1286807"]
      - cpu: cortex-a53
        revisions: all
        guard: [ARM64_ERRATUM_2441007]
        errata_ids: ["2441007"]
    kernel:
      desc: Broken broadcast TLBI completion
{guard}    status: active
"""
OLD_NAMES, OLD_GUARD = "", f"      guard: [{GUARD_OLD}]\n"
NEW_NAMES = f'    cpucap_names:\n      - {{name: {OLD}}}\n      - {{name: {NEW}, seen_in: "7.3.4"}}\n'
NEW_GUARD = (f"      guard: [{GUARD_NEW}]\n      kconfig_names:\n        {GUARD_NEW}:\n"
             f'          - {{name: {GUARD_OLD}}}\n          - {{name: {GUARD_NEW}, seen_in: "7.3.4"}}\n')

NVIDIA_YAML = """\
errata:
  - name: WORKAROUND_NVIDIA_CARMEL_CNP
    bit: 2
    vendor: NVIDIA
    errata_ids: ["N/A"]
    description: With CNP enabled, a non-shareable TLBI on Carmel does not remove shared entries.
    guest: needed
    impact: corruption
    impact_note: A test entry.
    kconfig: [NVIDIA_CARMEL_CNP_ERRATUM]
{names}    affects:
      - cpu: carmel
        revisions: all
    kernel:
      desc: NVIDIA Carmel CNP erratum
      table: range
    status: active
"""

CAVIUM_YAML = """\
errata:
  - name: WORKAROUND_CAVIUM_TX2_219_TVM
    bit: 3
    vendor: Cavium
    errata_ids: ["219"]
    description: Access between a TTBR update and the following ISB may raise a spurious abort.
    guest: needed
    impact: corruption
    impact_note: A test entry.
    kconfig: [CAVIUM_TX2_ERRATUM_219]
    affects:
      - cpu: thunderx2
        revisions: all
    shares_ids_with: [WORKAROUND_CAVIUM_TX2_219_PRFM]
    kernel:
      desc: Cavium ThunderX2 erratum 219 (KVM guest sysreg trapping)
      list: tx2_family_cpus
    status: active

  - name: WORKAROUND_CAVIUM_TX2_219_PRFM
    bit: 4
    vendor: Cavium
    errata_ids: ["219"]
    description: Prefetch between a TTBR update and the following ISB may raise a spurious abort.
    guest: needed
    impact: corruption
    impact_note: A test entry.
    kconfig: [CAVIUM_TX2_ERRATUM_219]
    affects:
      - cpu: thunderx2
        revisions: all
    shares_ids_with: [WORKAROUND_CAVIUM_TX2_219_TVM]
    kernel:
      desc: Cavium ThunderX2 erratum 219 (PRFM removal)
      list: tx2_family_cpus
    status: active
"""


def write_registry(root: Path, *, renamed: bool = False, carmel_names: str = "") -> Path:
    """The small registry, as a 6.12 import leaves it, or (renamed) as a 7.3.4 import should."""
    (root / "errata").mkdir(parents=True)
    (root / "registry.yaml").write_text(REGISTRY_YAML)
    (root / "cpus.yaml").write_text(CPUS_YAML)
    arm = ARM_YAML.format(names=NEW_NAMES if renamed else OLD_NAMES,
                          guard=NEW_GUARD if renamed else OLD_GUARD)
    (root / "errata/arm.yaml").write_text(arm)
    (root / "errata/nvidia.yaml").write_text(NVIDIA_YAML.format(names=carmel_names))
    (root / "errata/cavium.yaml").write_text(CAVIUM_YAML)
    locked = run_cli("lock", "--registry", str(root))
    assert locked.code == 0, locked.err
    valid = run_cli("validate", "--registry", str(root))
    assert valid.code == 0 and valid.err == "", valid.err
    return root


def model(root: Path):
    result = load_registry(root)
    assert result.registry is not None, result.diagnostics
    return result.registry


def set_version(tree: Path, version: str) -> None:
    major, minor, sub = version.split(".")
    (tree / "Makefile").write_text(
        f"VERSION = {major}\nPATCHLEVEL = {minor}\nSUBLEVEL = {sub}\nEXTRAVERSION =\n")


def write_linux(root: Path, reg, version: str = "6.12.0") -> Path:
    """A tree whose table is the one generate writes from reg, with tools/cpucaps listing its
    rows' cpucaps and the files install looks for."""
    generated_tree.write_tree(root, reg)
    set_version(root, version)
    (root / "Kbuild").write_text("")
    (root / "arch/arm64/kvm").mkdir(parents=True, exist_ok=True)
    (root / "arch/arm64/kvm/Makefile").write_text("")
    caps = re.findall(r"\.capability = ARM64_(\w+),", (root / CPU_ERRATA).read_text())
    assert caps, "the tree's table has no row"
    (root / CPUCAPS).parent.mkdir(parents=True, exist_ok=True)
    (root / CPUCAPS).write_text("# SPDX-License-Identifier: GPL-2.0\n#\n# Internal CPU capabilities\n\n"
                                + "".join(f"{c}\n" for c in sorted(set(caps))))
    return root


def replace_once(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert text.count(old) == count, f"{old!r} occurs {text.count(old)} times in {path}, not {count}"
    path.write_text(text.replace(old, new))


def rename_cpucap(tree: Path, old: str, new: str) -> None:
    """The kernel renamed a cpucap: its row in cpu_errata.c and its line in tools/cpucaps."""
    replace_once(tree / CPU_ERRATA, f".capability = ARM64_{old},", f".capability = ARM64_{new},")
    replace_once(tree / CPUCAPS, f"\n{old}\n", f"\n{new}\n")


def rename_symbol(tree: Path, old: str, new: str, uses: int) -> None:
    """The kernel renamed a Kconfig symbol: its definition and its #ifdefs in cpu_errata.c."""
    replace_once(tree / KCONFIG, f"config {old}\n", f"config {new}\n")
    replace_once(tree / CPU_ERRATA, f"#ifdef CONFIG_{old}\n", f"#ifdef CONFIG_{new}\n", uses)


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def line_of(path: Path, text: str) -> int:
    lines = path.read_text().splitlines()
    found = [n for n, line in enumerate(lines, 1) if text in line]
    assert len(found) == 1, f"{text!r} is on lines {found} of {path}"
    return found[0]


def without(reg, *names: str):
    return dataclasses.replace(reg, errata=tuple(e for e in reg.errata if e.name not in names))


def import_(reg_dir: Path, tree: Path, *extra: str):
    return run_cli("import", "--registry", str(reg_dir), "--kernel-tree", str(tree), *extra)


@pytest.fixture
def reg_dir(tmp_path: Path) -> Path:
    return write_registry(tmp_path / "reg")


@pytest.fixture
def tree_73(tmp_path: Path, reg_dir: Path) -> Path:
    """Linux 7.3.4 as far as REPEAT_TLBI goes: the cpucap and its hidden guard renamed ..._SYNC."""
    tree = write_linux(tmp_path / "linux-7.3", model(reg_dir), "7.3.4")
    rename_cpucap(tree, OLD, NEW)
    rename_symbol(tree, GUARD_OLD, GUARD_NEW, uses=2)  # the range list and the row
    return tree


# --- import --------------------------------------------------------------------------------


def test_the_tree_the_small_registry_describes_imports_as_nothing_to_change(tmp_path, reg_dir):
    """The fixture's own check: what the other tests change in a tree is all import sees."""
    tree = write_linux(tmp_path / "linux", model(reg_dir))
    before = files(reg_dir)
    result = import_(reg_dir, tree)
    assert result.code == 0, result.err
    assert result.out.splitlines() == ["unchanged 5 entries", f"Linux 6.12.0 at {tree}: nothing to change"]
    assert files(reg_dir) == before


def test_a_renamed_cpucap_and_hidden_guard_keep_the_bit_and_record_the_trees_names(reg_dir, tree_73):
    lock_before = (reg_dir / "bits.lock").read_text()
    result = import_(reg_dir, tree_73)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert f"renamed   {OLD} -> {NEW} (bit 1)" in lines
    assert any(line.startswith(f"kernel    {OLD} (bit 1): ") and line.endswith(
        f"guard {GUARD_OLD} -> {GUARD_NEW} (renamed)") for line in lines), lines
    assert not any(line.startswith("added") for line in lines), "a renamed cpucap got a new bit"
    assert lines[-3:] == [f"Linux 7.3.4 at {tree_73}: registry updated",
                          f"updated   {reg_dir}/errata/arm.yaml", "1 of 6 file(s) changed"]

    imported = model(reg_dir)
    e = next(e for e in imported.errata if e.name == OLD)
    assert (e.bit, e.enables, e.cpucaps) == (1, NEW, (OLD, NEW))
    assert [(n.name, n.version, n.exact) for n in e.cpucap_names] == [
        (OLD, None, False), (NEW, "7.3.4", False)]
    assert e.kernel.guard == (GUARD_NEW,)
    assert [(key, [(n.name, n.version) for n in chain]) for key, chain in e.kernel.kconfig_names] == [
        (GUARD_NEW, [(GUARD_OLD, None), (GUARD_NEW, "7.3.4")])]
    assert sorted(x.bit for x in imported.errata) == [0, 1, 2, 3, 4]
    text = (reg_dir / "errata/arm.yaml").read_text()
    assert f'    cpucap_names:\n      - {{name: {OLD}}}\n      - {{name: {NEW}, seen_in: "7.3.4"}}\n' in text
    assert "    cpucap:" not in text  # cpucap and cpucap_names exclude each other
    # The lock keeps bit 1 under the entry's name: a rename is no new bit.
    assert (reg_dir / "bits.lock").read_text() == lock_before

    valid = run_cli("validate", "--registry", str(reg_dir))
    assert valid.code == 0 and valid.err == "", valid.err
    again = import_(reg_dir, tree_73)
    assert again.code == 0, again.err
    assert again.out.splitlines() == ["unchanged 5 entries", f"Linux 7.3.4 at {tree_73}: nothing to change"]


def test_a_dry_run_of_a_rename_prints_the_same_report_and_writes_nothing(reg_dir, tree_73):
    before = files(reg_dir)
    dry = import_(reg_dir, tree_73, "--dry-run")
    assert dry.code == 0, dry.err
    assert f"renamed   {OLD} -> {NEW} (bit 1)" in dry.out.splitlines()
    assert files(reg_dir) == before
    real = import_(reg_dir, tree_73)
    assert real.code == 0, real.err
    as_written = dry.out.replace("dry run: nothing written", "registry updated")
    assert as_written.replace("file(s) would change", "file(s) changed") == real.out


def test_the_import_after_a_rename_reads_the_new_name_with_a_new_version_as_nothing_to_change(
        reg_dir, tree_73):
    """A later 7.3.x (or 7.4) that keeps the new name is not another rename."""
    assert import_(reg_dir, tree_73).code == 0
    arm = (reg_dir / "errata/arm.yaml").read_text()
    set_version(tree_73, "7.4.1")
    result = import_(reg_dir, tree_73)
    assert result.code == 0, result.err
    assert result.out.endswith("nothing to change\n"), result.out
    assert (reg_dir / "errata/arm.yaml").read_text() == arm


def test_a_cpucap_renamed_without_its_hidden_guard_keeps_the_guard_and_validates(tmp_path, reg_dir):
    """The kernel may rename a cpucap and keep the Kconfig symbol named after its old name: the
    row's guard ARM64_<old name> is still the row's own option."""
    tree = write_linux(tmp_path / "linux", model(reg_dir), "7.3.4")
    rename_cpucap(tree, OLD, NEW)
    before = files(reg_dir)
    dry = import_(reg_dir, tree, "--dry-run")
    assert dry.code == 0, dry.err
    assert files(reg_dir) == before
    result = import_(reg_dir, tree)
    assert result.code == 0, result.err
    assert f"renamed   {OLD} -> {NEW} (bit 1)" in result.out
    e = next(e for e in model(reg_dir).errata if e.bit == 1)
    assert (e.cpucaps, e.kernel.guard) == ((OLD, NEW), (GUARD_OLD,))
    valid = run_cli("validate", "--registry", str(reg_dir))
    assert valid.code == 0 and valid.err == "", valid.err


def test_a_cpucap_without_erratum_ids_is_recognised_as_renamed_by_its_kconfig_options(tmp_path, reg_dir):
    tree = write_linux(tmp_path / "linux", model(reg_dir), "7.3.4")
    rename_cpucap(tree, "WORKAROUND_NVIDIA_CARMEL_CNP", "WORKAROUND_NVIDIA_CARMEL_CNP_TLBI")
    result = import_(reg_dir, tree)
    assert result.code == 0, result.err
    assert "renamed   WORKAROUND_NVIDIA_CARMEL_CNP -> WORKAROUND_NVIDIA_CARMEL_CNP_TLBI (bit 2)" in result.out
    e = next(e for e in model(reg_dir).errata if e.bit == 2)
    assert e.cpucaps == ("WORKAROUND_NVIDIA_CARMEL_CNP", "WORKAROUND_NVIDIA_CARMEL_CNP_TLBI")
    assert run_cli("validate", "--registry", str(reg_dir)).code == 0


def test_a_new_erratum_id_under_the_renamed_cpucap_gets_an_entry_with_the_same_names(tmp_path, reg_dir):
    """The new id's bit enables the same cpucap: its name chain must be the old bit's, else
    validate's cpucap-names rule refuses the registry import just wrote."""
    reg = model(reg_dir)
    grown = []
    for e in reg.errata:
        if e.name == OLD:
            first = e.affects[0]
            extra = dataclasses.replace(first, low=(0, 0), high=(0, 0), errata_ids=("4118414",),
                                        guard=("ARM64_ERRATUM_4118414",), cpu=next(c for c in reg.cpus
                                                                                  if c.id == "thunderx2"))
            e = dataclasses.replace(e, errata_ids=(*e.errata_ids, "4118414"),
                                    kconfig=(*e.kconfig, "ARM64_ERRATUM_4118414"),
                                    affects=(*e.affects, extra))
        grown.append(e)
    tree = write_linux(tmp_path / "linux", dataclasses.replace(reg, errata=tuple(grown)), "7.3.4")
    rename_cpucap(tree, OLD, NEW)
    rename_symbol(tree, GUARD_OLD, GUARD_NEW, uses=2)
    result = import_(reg_dir, tree)
    assert result.code == 0, result.err
    assert f"renamed   {OLD} -> {NEW} (bit 1)" in result.out
    assert f"added     WORKAROUND_4118414 (bit 5, cpucap {NEW}): ARM 4118414" in result.out
    imported = {e.name: e for e in model(reg_dir).errata}
    assert imported["WORKAROUND_4118414"].cpucaps == imported[OLD].cpucaps == (OLD, NEW)
    valid = run_cli("validate", "--registry", str(reg_dir))
    # Valid, with the one warning every entry import adds gets until a person reviews it.
    assert valid.code == 0 and valid.err.endswith(": warning: 'WORKAROUND_4118414': guest and impact not reviewed "
                                                  "yet (import added it; risk counts it as needed by a guest and of "
                                                  "the worst impact): decide them as docs/registry-format.md says "
                                                  "[unreviewed]\n") and valid.err.count("\n") == 1, valid.err
    again = import_(reg_dir, tree)
    assert again.code == 0 and again.out.endswith("nothing to change\n"), again.out


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout


def test_stability_calls_the_rename_import_records_safe(tmp_path, tree_73):
    repo = tmp_path / "repo"
    write_registry(repo / "errata-db")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "6.12")
    assert import_(repo / "errata-db", tree_73).code == 0
    result = run_cli("stability", "--against", "HEAD", "--format", "json", cwd=repo)
    assert result.code == 0, result.err
    changes = [(c["level"], c["rule"]) for c in json.loads(result.out)["changes"]]
    assert ("safe", "cpucap-renamed") in changes
    assert all(level == "safe" for level, _ in changes), changes
    text = run_cli("stability", "--against", "HEAD", cwd=repo)
    assert f"safe: bit 1 ('{OLD}') enables ARM64_{NEW}, the kernel's new name for ARM64_{OLD}" in text.out
    assert "0 breaking, 0 need review" in text.out


def test_stability_still_calls_a_changed_cpucap_that_drops_the_old_name_a_review(tmp_path):
    """Only a chain that keeps the old names is a rename: the rule must not make every cpucap
    change safe."""
    repo = tmp_path / "repo"
    write_registry(repo / "errata-db")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "6.12")
    kconfig = "    kconfig: [ARM64_ERRATUM_1286807, ARM64_ERRATUM_2441007]\n"
    replace_once(repo / "errata-db/errata/arm.yaml", kconfig, f"{kconfig}    cpucap: {NEW}\n")
    result = run_cli("stability", "--against", "HEAD", "--format", "json", cwd=repo)
    changes = [(c["level"], c["rule"]) for c in json.loads(result.out)["changes"]]
    assert ("safe", "cpucap-renamed") not in changes
    assert ("needs review", "cpucap-changed") in changes


# --- when import is not sure ------------------------------------------------------------------


@pytest.fixture
def tree_tx2(tmp_path: Path, reg_dir: Path) -> Path:
    """A tree that renamed the TVM cpucap and has no PRFM row: the new row works around
    erratum 219, which both cpucaps the tree lacks work around."""
    tree = write_linux(tmp_path / "linux-tx2", without(model(reg_dir), PRFM), "7.3.4")
    rename_cpucap(tree, TVM, TVM + "_TRAP")
    return tree


def test_a_new_row_sharing_errata_with_two_lacking_cpucaps_is_refused_at_its_line(reg_dir, tree_tx2):
    before = files(reg_dir)
    result = import_(reg_dir, tree_tx2)
    assert result.code == 1
    line = line_of(tree_tx2 / CPU_ERRATA, f".capability = ARM64_{TVM}_TRAP,")
    first = result.err.splitlines()[0]
    m = re.match(rf"{re.escape(str(tree_tx2))}/{CPU_ERRATA}:(\d+):\d+: error: ", first)
    assert m, first
    # At the row: the brace that opens its initializer.
    lines = (tree_tx2 / CPU_ERRATA).read_text().splitlines()
    assert int(m.group(1)) == max(n for n, text in enumerate(lines, 1) if n < line and text == "\t{")
    assert f"ARM64_{TVM}_TRAP" in first
    assert f"{PRFM} (bit 4)" in first and f"{TVM} (bit 3)" in first
    assert "--rename " in first and f"={TVM}_TRAP" in first
    assert files(reg_dir) == before


def test_rename_names_the_cpucap_the_row_renames_when_import_cannot_tell(reg_dir, tree_tx2):
    result = import_(reg_dir, tree_tx2, "--rename", f"{TVM}={TVM}_TRAP")
    assert result.code == 0, result.err
    assert f"renamed   {TVM} -> {TVM}_TRAP (bit 3)" in result.out
    assert f"not in this tree (kept as they are): {PRFM}" in result.out
    imported = {e.name: e for e in model(reg_dir).errata}
    assert imported[TVM].cpucaps == (TVM, f"{TVM}_TRAP")
    assert imported[PRFM].cpucaps == (PRFM,)
    assert run_cli("validate", "--registry", str(reg_dir)).code == 0


def test_rename_takes_the_cpucaps_with_their_arm64_prefix(reg_dir, tree_tx2):
    result = import_(reg_dir, tree_tx2, "--rename", f"ARM64_{TVM}=ARM64_{TVM}_TRAP")
    assert result.code == 0, result.err
    assert f"renamed   {TVM} -> {TVM}_TRAP (bit 3)" in result.out


def test_a_cpucap_given_to_rename_is_no_candidate_for_another_row(tmp_path, reg_dir):
    """Both ThunderX2 cpucaps renamed: once --rename says which row TVM became, the other new
    row can only be PRFM's."""
    tree = write_linux(tmp_path / "linux", model(reg_dir), "7.3.4")
    rename_cpucap(tree, TVM, TVM + "_TRAP")
    rename_cpucap(tree, PRFM, PRFM + "_DROP")
    refused = import_(reg_dir, tree)
    assert refused.code == 1
    result = import_(reg_dir, tree, "--rename", f"{TVM}={TVM}_TRAP")
    assert result.code == 0, result.err
    assert f"renamed   {TVM} -> {TVM}_TRAP (bit 3)" in result.out
    assert f"renamed   {PRFM} -> {PRFM}_DROP (bit 4)" in result.out


def test_two_renames_at_once_are_each_given_with_rename(tmp_path, reg_dir):
    tree = write_linux(tmp_path / "linux", model(reg_dir), "7.3.4")
    rename_cpucap(tree, TVM, TVM + "_TRAP")
    rename_cpucap(tree, PRFM, PRFM + "_DROP")
    result = import_(reg_dir, tree, "--rename", f"{TVM}={TVM}_TRAP", "--rename", f"{PRFM}={PRFM}_DROP")
    assert result.code == 0, result.err
    assert f"renamed   {TVM} -> {TVM}_TRAP (bit 3)" in result.out
    assert f"renamed   {PRFM} -> {PRFM}_DROP (bit 4)" in result.out
    imported = {e.name: e for e in model(reg_dir).errata}
    assert (imported[TVM].enables, imported[PRFM].enables) == (TVM + "_TRAP", PRFM + "_DROP")
    assert run_cli("validate", "--registry", str(reg_dir)).code == 0
    assert import_(reg_dir, tree).out.endswith("nothing to change\n")


def test_a_new_row_with_only_part_of_a_lacking_cpucaps_errata_is_refused(tmp_path, reg_dir):
    """7.3 renamed REPEAT_TLBI and no longer works around 2441007 there: not sure enough."""
    reg = model(reg_dir)
    narrowed = [dataclasses.replace(e, errata_ids=("1286807",), kconfig=("ARM64_ERRATUM_1286807",),
                                    affects=e.affects[:1]) if e.name == OLD else e for e in reg.errata]
    tree = write_linux(tmp_path / "linux", dataclasses.replace(reg, errata=tuple(narrowed)), "7.3.4")
    rename_cpucap(tree, OLD, NEW)
    rename_symbol(tree, GUARD_OLD, GUARD_NEW, uses=2)
    before = files(reg_dir)
    result = import_(reg_dir, tree)
    assert result.code == 1
    first = result.err.splitlines()[0]
    assert first.startswith(f"{tree}/{CPU_ERRATA}:")
    assert f"{OLD} (bit 1, sharing only part of its errata)" in first
    assert f"--rename {OLD}={NEW}" in first
    assert files(reg_dir) == before
    resolved = import_(reg_dir, tree, "--rename", f"{OLD}={NEW}")
    assert resolved.code == 0, resolved.err
    assert f"renamed   {OLD} -> {NEW} (bit 1)" in resolved.out
    assert f"narrowed  {OLD} (bit 1)" in resolved.out


@pytest.mark.parametrize("pair, message", [
    (f"WORKAROUND_NOPE={NEW}", "--rename WORKAROUND_NOPE=WORKAROUND_REPEAT_TLBI_SYNC: no registry entry "
                               "enables a cpucap named WORKAROUND_NOPE"),
    (f"{OLD}=WORKAROUND_NOPE", "--rename WORKAROUND_REPEAT_TLBI=WORKAROUND_NOPE: {tree} has no "
                               "arm64_errata[] row for WORKAROUND_NOPE"),
    (f"{OLD}=WORKAROUND_CLEAN_CACHE", "--rename WORKAROUND_REPEAT_TLBI=WORKAROUND_CLEAN_CACHE: "
                                      "WORKAROUND_CLEAN_CACHE is already a cpucap of the registry"),
    (f"WORKAROUND_CLEAN_CACHE={NEW}", "--rename WORKAROUND_CLEAN_CACHE=WORKAROUND_REPEAT_TLBI_SYNC: {tree} "
                                     "still has WORKAROUND_CLEAN_CACHE, so it was not renamed"),
    (OLD, f"--rename {OLD}: expected OLD=NEW, two cpucaps"),
    (f"{OLD}=", f"--rename {OLD}=: expected OLD=NEW, two cpucaps"),
], ids=["old-unknown", "new-not-in-tree", "new-already-in-registry", "old-still-in-tree", "no-equals",
        "no-new"])
def test_rename_naming_no_registry_cpucap_or_no_tree_row_is_a_usage_error(reg_dir, tree_73, pair, message):
    before = files(reg_dir)
    result = import_(reg_dir, tree_73, "--rename", pair)
    assert result.code == 2
    assert message.format(tree=tree_73) in result.err
    assert result.out == ""
    assert files(reg_dir) == before


def test_two_renames_onto_one_new_name_are_a_usage_error(tmp_path, reg_dir):
    tree = write_linux(tmp_path / "linux", model(reg_dir), "7.3.4")
    rename_cpucap(tree, TVM, TVM + "_TRAP")
    rename_cpucap(tree, PRFM, PRFM + "_DROP")
    before = files(reg_dir)
    result = import_(reg_dir, tree, "--rename", f"{TVM}={TVM}_TRAP", "--rename", f"{PRFM}={TVM}_TRAP")
    assert result.code == 2
    assert f"--rename {PRFM}={TVM}_TRAP: {TVM}_TRAP is already the new name of {TVM}" in result.err
    assert files(reg_dir) == before


# --- install: each tree's names -----------------------------------------------------------------


@pytest.fixture
def renamed_dir(tmp_path: Path) -> Path:
    """The registry after the 7.3.4 import, as written by hand (independent of import)."""
    return write_registry(tmp_path / "renamed", renamed=True)


@pytest.fixture
def tree_612(tmp_path: Path, reg_dir: Path) -> Path:
    return write_linux(tmp_path / "linux-6.12", model(reg_dir), "6.12.0")


def install(tree: Path, registry: Path, *extra: str):
    return run_cli("install", "--kernel-tree", str(tree), "--registry", str(registry), *extra)


def safe_caps(header: str) -> list[tuple[str, str]]:
    """migrn_safe_caps[]'s entries: (bit define, cpucap)."""
    body = header[header.index("migrn_safe_caps[]"):]
    body = body[:body.index("};")]
    return re.findall(r"\{ MIGRN_SAFE_CAP_(\w+),\s+ARM64_(\w+) \}", body)


def test_install_writes_the_old_name_into_an_old_tree_and_the_new_name_into_a_new_one(
        renamed_dir, tree_612, tree_73):
    for tree, name in ((tree_612, OLD), (tree_73, NEW)):
        result = install(tree, renamed_dir)
        assert result.code == 0, result.err
        assert "has no cpucap" not in result.out
        header = (tree / GUEST).read_text()
        assert (OLD, name) in safe_caps(header)
        assert len(safe_caps(header)) == 5
        assert re.search(rf"^#define MIGRN_SAFE_CAP_{OLD}\s+1$", header, re.M)
    assert NEW not in (tree_612 / GUEST).read_text()


def test_install_kernel_tables_writes_each_trees_cpucap_and_guard(renamed_dir, tree_612, tree_73):
    for tree, cap, guard in ((tree_612, OLD, GUARD_OLD), (tree_73, NEW, GUARD_NEW)):
        result = install(tree, renamed_dir, "--kernel-tables")
        assert result.code == 0, f"{tree}: {result.err}"
        table = (tree / TABLE).read_text()
        assert f".capability = ARM64_{cap},\n" in table
        assert f"#ifdef CONFIG_{guard}\n" in table
        assert install(tree, renamed_dir, "--kernel-tables", "--check").code == 0
    old_table = (tree_612 / TABLE).read_text()
    assert NEW not in old_table and GUARD_NEW not in old_table


def test_a_tree_without_a_cpucap_gets_its_bits_left_out_of_migrn_safe_caps(renamed_dir, tree_612):
    replace_once(tree_612 / CPUCAPS, "\nWORKAROUND_CLEAN_CACHE\n", "\n")
    replace_once(tree_612 / CPUCAPS, "\nWORKAROUND_NVIDIA_CARMEL_CNP\n", "\n")
    result = install(tree_612, renamed_dir)
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == (
        f"{tree_612} has no cpucap for bit(s) 0, 2 (WORKAROUND_CLEAN_CACHE, WORKAROUND_NVIDIA_CARMEL_CNP): "
        "left out of its migrn_safe_caps[]")
    assert sum("has no cpucap" in line for line in result.out.splitlines()) == 1
    header = (tree_612 / GUEST).read_text()
    assert [d for d, _ in safe_caps(header)] == [OLD, TVM, PRFM]
    assert re.search(r"^#define MIGRN_SAFE_CAP_WORKAROUND_CLEAN_CACHE\s+0$", header, re.M)
    assert re.search(r"^#define MIGRN_SAFE_CAP_WORKAROUND_NVIDIA_CARMEL_CNP\s+2$", header, re.M)


GCC = shutil.which("gcc")


@pytest.mark.skipif(GCC is None, reason="needs a host gcc")
@pytest.mark.parametrize("lacking", [False, True])
def test_the_installed_guest_header_compiles_against_the_cpucaps_its_tree_has(tmp_path, renamed_dir, tree_612,
                                                                              lacking):
    if lacking:
        replace_once(tree_612 / CPUCAPS, "\nWORKAROUND_CLEAN_CACHE\n", "\n")
    assert install(tree_612, renamed_dir).code == 0
    names = [line for line in (tree_612 / CPUCAPS).read_text().splitlines()
             if line and not line.startswith("#")]
    inc = tmp_path / "inc"
    (inc / "asm").mkdir(parents=True)
    (inc / "asm/cpucaps.h").write_text("enum arm64_cpucap {\n" + "".join(f"\tARM64_{n},\n" for n in names)
                                       + "\tARM64_NCAPS\n};\n")
    src = tmp_path / "one.c"
    src.write_text("#include <asm/migrn_errata.h>\n"
                   "const void *use(void) { return migrn_safe_caps; }\n")
    proc = subprocess.run([GCC, "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", f"-I{SHIM}",
                           f"-I{inc}", f"-I{tree_612}/arch/arm64/include", str(src)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_generate_writes_the_newest_names(tmp_path, renamed_dir):
    out = tmp_path / "gen"
    result = run_cli("generate", "--registry", str(renamed_dir), "--out", str(out))
    assert result.code == 0, result.err
    header = (out / "linux" / GUEST).read_text()
    assert (OLD, NEW) in safe_caps(header)
    table = (out / "linux" / TABLE).read_text()
    assert f".capability = ARM64_{NEW},\n" in table and f"#ifdef CONFIG_{GUARD_NEW}\n" in table


# --- JSON export ------------------------------------------------------------------------------


def test_the_json_export_gives_each_erratum_its_newest_cpucap_and_every_name(tmp_path):
    reg_dir = write_registry(tmp_path / "reg", renamed=True, carmel_names=(
        '    cpucap_names:\n      - {name: WORKAROUND_NVIDIA_CARMEL_CNP, since: "4.19"}\n'
        '      - {name: WORKAROUND_NVIDIA_CARMEL_CNP_TLBI, since: "7.3"}\n'))
    out = tmp_path / "gen"
    result = run_cli("generate", "--registry", str(reg_dir), "--out", str(out))
    assert result.code == 0, result.err
    errata = {e["name"]: e for e in json.loads((out / "json/errata.json").read_text())["errata"]}
    assert errata[OLD]["cpucap"] == NEW
    assert errata[OLD]["cpucap_names"] == [{"name": OLD, "since": None, "seen_in": None},
                                           {"name": NEW, "since": None, "seen_in": "7.3.4"}]
    carmel = errata["WORKAROUND_NVIDIA_CARMEL_CNP"]
    assert carmel["cpucap"] == "WORKAROUND_NVIDIA_CARMEL_CNP_TLBI"
    assert carmel["cpucap_names"] == [
        {"name": "WORKAROUND_NVIDIA_CARMEL_CNP", "since": "4.19", "seen_in": None},
        {"name": "WORKAROUND_NVIDIA_CARMEL_CNP_TLBI", "since": "7.3", "seen_in": None}]
    assert errata["WORKAROUND_CLEAN_CACHE"]["cpucap"] == "WORKAROUND_CLEAN_CACHE"
    assert errata["WORKAROUND_CLEAN_CACHE"]["cpucap_names"] == [
        {"name": "WORKAROUND_CLEAN_CACHE", "since": None, "seen_in": None}]


# --- the names validate accepts ---------------------------------------------------------------


GICV3 = """
not_covered:
  - cpucap: {cap}
    matcher: has_broken_seis
    reason: Decided by the GIC's ICH_VTR_EL2.SEIS, not by a CPU model.
"""


def test_a_not_covered_cpucap_with_the_kernels_lower_case_v_validates(tmp_path):
    reg_dir = write_registry(tmp_path / "reg")
    with (reg_dir / "registry.yaml").open("a") as f:
        f.write(GICV3.format(cap="WORKAROUND_GICv3_BROKEN_SEIS"))
    result = run_cli("validate", "--registry", str(reg_dir))
    assert result.code == 0, result.err
    out = tmp_path / "gen"
    assert run_cli("generate", "--registry", str(reg_dir), "--out", str(out)).code == 0
    assert ".capability = ARM64_WORKAROUND_GICv3_BROKEN_SEIS,\n" in (out / "linux" / TABLE).read_text()


def test_import_of_a_tree_with_a_lower_case_v_cpucap_writes_a_registry_that_validates(tmp_path, reg_dir):
    source = write_registry(tmp_path / "with-gic")
    with (source / "registry.yaml").open("a") as f:
        f.write(GICV3.format(cap="WORKAROUND_GICv3_BROKEN_SEIS"))
    tree = write_linux(tmp_path / "linux", model(source))
    result = import_(reg_dir, tree)
    assert result.code == 0, result.err
    assert "WORKAROUND_GICv3_BROKEN_SEIS" in result.out
    valid = run_cli("validate", "--registry", str(reg_dir))
    assert valid.code == 0 and valid.err == "", valid.err


@pytest.mark.parametrize("where", ["not_covered", "cpucap_names"])
def test_a_cpucap_with_other_lower_case_letters_is_refused(tmp_path, where):
    reg_dir = write_registry(tmp_path / "reg")
    if where == "not_covered":
        with (reg_dir / "registry.yaml").open("a") as f:
            f.write(GICV3.format(cap="WORKAROUND_gic"))
    else:
        replace_once(reg_dir / "errata/arm.yaml", "    kconfig: [ARM64_ERRATUM_826319]\n",
                     "    kconfig: [ARM64_ERRATUM_826319]\n    cpucap_names:\n"
                     "      - {name: WORKAROUND_CLEAN_CACHE}\n"
                     "      - {name: WORKAROUND_gic, seen_in: \"7.3\"}\n")
    result = run_cli("validate", "--registry", str(reg_dir))
    assert result.code == 1
    errors = [line for line in result.err.splitlines() if ": error: " in line]
    assert errors and all("'WORKAROUND_gic'" in line for line in errors), result.err


def test_a_name_in_two_name_chains_is_refused(tmp_path):
    """A new erratum of the renamed cpucap written with `cpucap: NEW` alone would lead a 6.12
    tree to no cpucap for its bit: every bit of a cpucap must carry the same names."""
    reg_dir = write_registry(tmp_path / "reg", renamed=True)
    with (reg_dir / "errata/arm.yaml").open("a") as f:
        f.write(f"""
  - name: WORKAROUND_4118414
    bit: 5
    vendor: ARM
    errata_ids: ["4118414"]
    description: Another erratum of the broadcast TLBI.
    guest: needed
    impact: corruption
    impact_note: A test entry.
    kconfig: [ARM64_ERRATUM_4118414]
    cpucap: {NEW}
    affects:
      - cpu: cortex-a57
        revisions: r0p0
    status: active
""")
    result = run_cli("lock", "--registry", str(reg_dir))  # lock validates first, and refuses
    assert result.code == 1
    names = [line for line in result.err.splitlines() if line.endswith("[cpucap-names]")]
    assert len(names) == 1, result.err
    assert names[0].startswith(f"{reg_dir}/errata/arm.yaml:")
    assert f"cpucap name '{NEW}' of 'WORKAROUND_4118414' (names: {NEW}) is also a name of '{OLD}'" in names[0]
