"""errata-db import --kernel-tree on small trees made from a registry: the tree's cpu_errata.c is
the kernel table errata-db generates from it, so what import reads back must decide every CPU
as that registry does, and generate the same table."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REGISTRY
from generated_tree import MATCHERS, older, table, write_tree

from errata_db.diagnostics import Pos
from errata_db.kernel import cpu_errata
from errata_db.cli import main
from errata_db.lookup import lookup_module
from errata_db.registry import load_registry


@pytest.fixture(scope="module")
def bundled():
    return load_registry(REGISTRY).registry


def _probe(reg) -> list[tuple[int, int]]:
    """Every revision of every CPU an erratum names (the CPUs only speculation.yaml names have no
    erratum, and a tree without proton-pack.c adds none of them)."""
    masks = {f.mask for e in reg.errata for a in e.affects for f in a.revidr_fixes}
    models = sorted({a.cpu.model for e in reg.errata for a in e.affects})
    return [(model | v << 20 | r, revidr) for model in models for v in range(16) for r in range(16)
            for revidr in (0, *masks)] + [(0x510F2FF0, 0), (0x510F2110, 0)]


def _decisions(reg) -> dict:
    module = lookup_module(reg)
    enables = {e.name: e.enables for e in reg.errata}
    return {cpu: sorted({enables[e.name] for e in module.errata_for_cpu(*cpu)}) for cpu in _probe(reg)}


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_import_into_an_empty_registry_decides_every_cpu_as_the_tree_and_generates_itstable(
        tmp_path, bundled, capsys):
    tree = write_tree(tmp_path / "linux", bundled)
    reg_dir = tmp_path / "reg"
    assert main(["init", str(reg_dir)]) == 0
    assert main(["import", "--registry", str(reg_dir), "--kernel-tree", str(tree)]) == 0
    out = capsys.readouterr().out
    assert "added     WORKAROUND_CLEAN_CACHE (bit 0)" in out
    assert ("added     8 not_covered row(s), decided by their own matchers: MISMATCHED_CACHE_TYPE, "
            "SPECTRE_V2, SPECTRE_V3A, SPECTRE_V4, SPECTRE_BHB, WORKAROUND_4311569, "
            "WORKAROUND_PMUV3_IMPDEF_TRAPS, WORKAROUND_GICv3_BROKEN_SEIS") in out  # Linux 7.3.4's
    assert f"new       {reg_dir}/errata/arm.yaml" in out
    result = load_registry(reg_dir)
    imported = result.registry
    # import decides nothing about a guest or an impact: every entry it adds waits for a person.
    assert [(d.rule, d.severity.value) for d in result.diagnostics] == [("unreviewed", "warning")] * len(imported.errata)
    assert {(e.guest, e.impact, e.impact_note) for e in imported.errata} == {("unreviewed", "unreviewed", None)}
    # An empty registry takes docs/bundled-data.md's rule: bit n is the tree's n-th MIDR-matched row,
    # named as the tree names its cpucap. The bundled registry (Linux 7.3.4) keeps its 6.12 bits and
    # appends 33-37, and its 162100125 shares the DISABLE_CNP row, so the order is the table's.
    rows = [line.split("ARM64_", 1)[1].rstrip(",") for line in table(bundled).splitlines()
            if line.startswith("\t\t.capability = ")]
    assert [e.name for e in sorted(imported.errata, key=lambda e: e.bit)] == [
        r for r in dict.fromkeys(rows) if r in {e.enables for e in bundled.errata}]
    assert _decisions(imported) == _decisions(bundled)
    theirs = cpu_errata.read_source((tree / "arch/arm64/kernel/cpu_errata.c").read_text(), "tree").rows()
    ours = cpu_errata.read_source(table(imported), "generated").rows()
    assert list(cpu_errata.differences(theirs, ours, Pos("tree", 1, 1))) == []
    assert main(["validate", "--registry", str(reg_dir)]) == 0


def test_importing_the_tree_a_registry_describes_changes_nothing(tmp_path, bundled, capsys):
    tree = write_tree(tmp_path / "linux", bundled)
    reg_dir = tmp_path / "reg"
    shutil.copytree(REGISTRY, reg_dir)
    before = _files(reg_dir)
    assert main(["import", "--registry", str(reg_dir), "--kernel-tree", str(tree)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [f"unchanged {len(bundled.errata)} entries",
                                f"Linux 6.99.0 at {tree}: nothing to change"]
    assert _files(reg_dir) == before


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.mark.slow
def test_a_newer_tree_adds_widens_and_gives_a_new_id_of_a_known_cpucap_its_own_entry(
        tmp_path, bundled, capsys, monkeypatch):
    old_tree = write_tree(tmp_path / "old", older(bundled))
    new_tree = write_tree(tmp_path / "new", bundled)
    repo = tmp_path / "repo"
    assert main(["init", str(repo / "errata-db")]) == 0
    monkeypatch.chdir(repo)
    assert main(["import", "--kernel-tree", str(old_tree)]) == 0
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "old")
    old_lock = (repo / "errata-db/bits.lock").read_text()
    # One entry per row of the old tree: Linux 7.3.4's 162100125 shares DISABLE_CNP's row.
    old_count = len(load_registry(repo / "errata-db").registry.errata)
    assert old_count == len(bundled.errata) - 1
    capsys.readouterr()

    assert main(["import", "--kernel-tree", str(new_tree), "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert _git(repo, "status", "--porcelain") == ""
    assert main(["import", "--kernel-tree", str(new_tree)]) == 0
    out = capsys.readouterr().out
    as_written = dry.replace("dry run: nothing written", "registry updated")
    assert as_written.replace("file(s) would change", "file(s) changed") == out
    # Bits are the old tree's table order (7.3.4's), the new entry the first free one after them.
    assert ("added     WORKAROUND_3117295 (bit 37, cpucap WORKAROUND_SPECULATIVE_UNPRIV_LOAD): ARM 3117295; "
            "1 range(s) on cortex-a510") in out
    assert "widened   WORKAROUND_SPECULATIVE_SSBS (bit 31): now Azure Cobalt 100 all" in out
    assert ("kernel    WORKAROUND_2658417 (bit 30): its row as the tree writes it: cpu_enable "
            "cpu_clear_bf16_from_user_emulation -> none") in out
    # The new id's range stays in its cpucap's row, as the tree writes it (kernel.joins).
    assert ("kernel    WORKAROUND_SPECULATIVE_UNPRIV_LOAD (bit 33): its row as the tree writes it: desc "
            "ARM erratum 2966298 -> ARM errata 2966298, 3117295") in out
    assert f"unchanged {old_count - 3} entries" in out
    assert (repo / "errata-db/bits.lock").read_text().startswith(old_lock)
    assert "37  active" in (repo / "errata-db/bits.lock").read_text()

    assert main(["stability", "--against", "HEAD"]) == 0
    assert "0 breaking" in capsys.readouterr().out
    imported = load_registry(repo / "errata-db").registry
    assert _decisions(imported) == _decisions(bundled)
    # The generated table is the new tree's, the new erratum id's range in its cpucap's row.
    theirs = cpu_errata.read_source((new_tree / "arch/arm64/kernel/cpu_errata.c").read_text(), "tree").rows()
    ours = cpu_errata.read_source(table(imported), "generated").rows()
    assert list(cpu_errata.differences(theirs, ours, Pos("tree", 1, 1))) == []

    assert main(["import", "--kernel-tree", str(new_tree)]) == 0
    assert capsys.readouterr().out.endswith("nothing to change\n")
    assert main(["import", "--kernel-tree", str(old_tree)]) == 0
    backwards = capsys.readouterr().out
    assert "narrowed  WORKAROUND_SPECULATIVE_SSBS (bit 31): no longer Azure Cobalt 100 all" in backwards
    assert "not in this tree (kept as they are): WORKAROUND_3117295" in backwards


@pytest.mark.slow
def test_a_tree_whose_cpu_errata_c_includes_the_generated_table_imports_the_same(tmp_path, bundled):
    plain = write_tree(tmp_path / "plain", bundled)
    converted = write_tree(tmp_path / "converted", bundled)
    kernel = converted / "arch/arm64/kernel"
    (kernel / "cpu_errata_table.h").write_text(table(bundled))
    (kernel / "cpu_errata.c").write_text(MATCHERS + '#include "cpu_errata_table.h"\n')
    for tree in (plain, converted):
        reg_dir = tmp_path / f"reg-{tree.name}"
        assert main(["init", str(reg_dir)]) == 0
        assert main(["import", "--registry", str(reg_dir), "--kernel-tree", str(tree)]) == 0
    assert _files(tmp_path / "reg-plain") == _files(tmp_path / "reg-converted")


def test_a_directory_that_is_not_a_kernel_tree_is_a_usage_error(tmp_path, capsys):
    reg_dir = tmp_path / "reg"
    main(["init", str(reg_dir)])
    (tmp_path / "notlinux").mkdir()
    assert main(["import", "--registry", str(reg_dir), "--kernel-tree", str(tmp_path / "notlinux")]) == 2
    assert "is not an arm64 Linux source tree: it has no Makefile" in capsys.readouterr().err


def test_a_table_construct_the_reader_does_not_know_is_named_with_file_and_line(tmp_path, bundled, capsys):
    tree = write_tree(tmp_path / "linux", bundled)
    c_file = tree / "arch/arm64/kernel/cpu_errata.c"
    text = c_file.read_text().replace("\tERRATA_MIDR_RANGE(MIDR_CORTEX_A57",
                                      "\tERRATA_MIDR_SOMETHING(MIDR_CORTEX_A57", 1)
    c_file.write_text(text)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "ERRATA_MIDR_SOMETHING" in t)
    reg_dir = tmp_path / "reg"
    main(["init", str(reg_dir)])
    before = _files(reg_dir)
    assert main(["import", "--registry", str(reg_dir), "--kernel-tree", str(tree)]) == 1
    err = capsys.readouterr().err
    assert (f"{tree}/arch/arm64/kernel/cpu_errata.c:{line}:1: error: ERRATA_MIDR_SOMETHING() is not a table "
            "macro this reader knows [import]") in err
    assert _files(reg_dir) == before


def test_an_unreadable_file_is_a_usage_error_and_writes_nothing(tmp_path, bundled, capsys):
    tree = write_tree(tmp_path / "linux", bundled)
    source = tree / "arch/arm64/kernel/cpu_errata.c"
    source.unlink()
    source.mkdir()
    reg_dir = tmp_path / "reg"
    main(["init", str(reg_dir)])
    before = _files(reg_dir)
    assert main(["import", "--registry", str(reg_dir), "--kernel-tree", str(tree)]) == 2
    assert f"cannot read {source}: it is a directory, not a regular file" in capsys.readouterr().err
    assert _files(reg_dir) == before


def test_a_table_that_is_not_text_is_named_at_its_line_and_writes_nothing(tmp_path, bundled, capsys):
    """The tree reader reads what it can, as audit does; what is left is no table it knows."""
    tree = write_tree(tmp_path / "linux", bundled)
    source = tree / "arch/arm64/kernel/cpu_errata.c"
    source.write_bytes(b"\xff\xfe not text")
    reg_dir = tmp_path / "reg"
    main(["init", str(reg_dir)])
    before = _files(reg_dir)
    assert main(["import", "--registry", str(reg_dir), "--kernel-tree", str(tree)]) == 1
    assert f"{source}:1:" in capsys.readouterr().err
    assert _files(reg_dir) == before



@pytest.mark.slow
def test_a_range_with_two_revidr_fixes_is_read_back_from_the_table_it_generates(tmp_path, bundled):
    """MIDR_FIXED holds one fix; two are written out as a compound literal, which the reader
    must read as the same fixes."""
    import dataclasses

    from errata_db.model import RevidrFix

    def two_fixes(e):
        if e.name != "WORKAROUND_843419":
            return e
        first, *rest = e.affects
        fixes = (*first.revidr_fixes, RevidrFix((0, 3), 0x200))
        return dataclasses.replace(e, affects=(dataclasses.replace(first, revidr_fixes=fixes), *rest))

    reg = dataclasses.replace(bundled, errata=tuple(two_fixes(e) for e in bundled.errata))
    assert ".fixed_revs = (struct arm64_midr_revidr[]){" in table(reg)
    tree = write_tree(tmp_path / "linux", reg)
    reg_dir = tmp_path / "reg"
    assert main(["init", str(reg_dir)]) == 0
    assert main(["import", "--registry", str(reg_dir), "--kernel-tree", str(tree)]) == 0
    imported = load_registry(reg_dir).registry
    assert _decisions(imported) == _decisions(reg)
    assert {(f.revision, f.mask) for e in imported.errata if e.name == "WORKAROUND_843419"
            for a in e.affects for f in a.revidr_fixes} == {((0, 4), 0x100), ((0, 3), 0x200)}


def test_a_tree_with_more_new_cpucaps_than_free_bits_is_refused_at_the_row_that_finds_none(
        tmp_path, bundled, capsys):
    tree = write_tree(tmp_path / "linux", bundled)
    reg_dir = tmp_path / "reg"
    assert main(["init", str(reg_dir)]) == 0
    registry_yaml = reg_dir / "registry.yaml"
    registry_yaml.write_text(registry_yaml.read_text().replace("    last: 191\n", "    last: 1\n", 1)
                             .replace("    first: 192\n", "    first: 2\n", 1))
    assert main(["validate", "--registry", str(reg_dir)]) == 0
    before = _files(reg_dir)
    capsys.readouterr()
    assert main(["import", "--registry", str(reg_dir), "--kernel-tree", str(tree)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith("error: no free bit left in the upstream range 0-1 for this row's cpucap [import]")
    assert err[0].startswith(f"{tree}/arch/arm64/kernel/cpu_errata.c:")
    assert err[1] == f"errata-db: {reg_dir} was left as it is"
    assert _files(reg_dir) == before


def _audit_tree(root: Path, reg) -> Path:
    """A tree written from a registry, with what audit needs beyond import's files."""
    tree = write_tree(root, reg)
    (tree / "Kbuild").write_text("")
    (tree / "arch/arm64/kvm").mkdir(parents=True)
    (tree / "arch/arm64/tools").mkdir(parents=True)
    (tree / "arch/arm64/tools/cpucaps").write_text(
        "".join(f"{c}\n" for c in sorted({e.enables for e in reg.errata} | {n.cpucap for n in reg.not_covered})))
    return tree


def _with_range(reg, name: str, cpu: str, high: tuple[int, int]):
    errata = tuple(dataclasses.replace(e, affects=tuple(
        dataclasses.replace(a, high=high) if a.cpu.id == cpu else a for a in e.affects))
        if e.name == name else e for e in reg.errata)
    return dataclasses.replace(reg, errata=errata)


def test_audit_calls_a_range_the_tree_widened_a_mismatch_at_the_tree_s_line(tmp_path, bundled, capsys):
    tree = _audit_tree(tmp_path / "linux", _with_range(bundled, "WORKAROUND_1418040", "cortex-a76", (4, 0)))
    assert main(["audit", "--registry", str(REGISTRY), "--kernel-tree", str(tree)]) == 1
    out = capsys.readouterr().out
    errors = [line for line in out.splitlines() if ": error: " in line]
    assert len(errors) == 1, out
    assert errors[0].startswith(f"{tree}/arch/arm64/kernel/cpu_errata.c:")
    assert ("the tree's table gives 'WORKAROUND_1418040' (bit 11" in errors[0]
            and "Cortex-A76 r0p0..r4p0, which the registry's ranges and REVIDR fixes do not match "
            "[audit-ranges]" in errors[0])


def test_audit_calls_a_range_the_tree_lacks_an_older_tree(tmp_path, bundled, capsys):
    tree = _audit_tree(tmp_path / "linux", older(bundled))
    assert main(["audit", "--registry", str(REGISTRY), "--kernel-tree", str(tree)]) == 0
    out = capsys.readouterr().out
    assert ("note: 'WORKAROUND_SPECULATIVE_SSBS' (bit 30) has Azure Cobalt 100 all, which the tree's "
            "table lacks: the tree is older than the registry, or narrowed it [audit-ranges]") in out


def test_an_older_tree_with_older_names_imports_into_the_bundled_registry_as_an_older_tree(
        tmp_path, bundled, capsys):
    """6.12 names REPEAT_TLBI and its guard as before the 7.3 rename, and has no HIP09 in the CNP
    row: the registry keeps its names and rows, and the HIP09 entry is not in this tree."""
    from errata_db.kernel.names import TreeNames, for_tree

    caps = {e.enables for e in bundled.errata} - {"WORKAROUND_REPEAT_TLBI_SYNC"} | {"WORKAROUND_REPEAT_TLBI"}
    as_612, _ = for_tree(bundled, TreeNames("6.12.118", frozenset(caps),
                                            frozenset({"ARM64_WORKAROUND_REPEAT_TLBI"})))
    as_612 = dataclasses.replace(as_612, errata=tuple(e for e in as_612.errata
                                                      if e.name != "WORKAROUND_162100125"))
    tree = write_tree(tmp_path / "linux", as_612)
    reg_dir = tmp_path / "errata-db"
    shutil.copytree(REGISTRY, reg_dir)
    before = _files(reg_dir)
    assert main(["import", "--registry", str(reg_dir), "--kernel-tree", str(tree)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-2:] == ["not in this tree (kept as they are): WORKAROUND_162100125",
                                     f"Linux 6.99.0 at {tree}: nothing to change"], out
    assert _files(reg_dir) == before
