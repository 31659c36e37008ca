"""The reader of a tree's speculation lists (errata_db.kernel.speculation) on small trees written
the way the kernel writes proton-pack.c and cpufeature.c (fake_linux.speculation_files), and what
import and audit do with them. The real trees are tests/test_speculation_linux.py's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import fake_linux
import generated_tree
from conftest import REGISTRY, run_cli
from errata_db.kernel import cpu_errata
from errata_db.kernel.speculation import as_data, read_lists
from errata_db.kernel.tree import Tree

PROTON = fake_linux.PROTON_PACK


@pytest.fixture
def tree(tmp_path: Path, registry) -> Path:
    return fake_linux.write_tree(tmp_path / "linux", registry, speculation=True)


def lists_of(root: Path):
    return read_lists(Tree(root, str(root)))


def key(spec) -> list:
    return [(lst.name, lst.cpucap, lst.means, lst.k, [(r.model, r.low, r.high, r.cpu) for r in lst.ranges])
            for lst in spec.lists]


def refused(root: Path) -> cpu_errata.NotRecognised:
    with pytest.raises(cpu_errata.NotRecognised) as exc:
        lists_of(root)
    return exc.value


def line_of(root: Path, rel: str, text: str) -> int:
    lines = (root / rel).read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


def test_the_lists_a_tree_holds_read_back_as_the_registry_holds_them(tree, registry):
    assert key(as_data(lists_of(tree), registry.cpus)) == key(registry.speculation)


def test_a_tree_before_linux_6_15_passes_the_local_midr_and_reads_the_same(tree, registry):
    text = (tree / PROTON).read_text().replace("is_midr_in_range_list(", "is_midr_in_range_list(read_cpuid_id(), ")
    (tree / PROTON).write_text(text)
    assert key(as_data(lists_of(tree), registry.cpus)) == key(registry.speculation)


def test_a_list_its_function_does_not_declare_is_one_the_kernel_lacks(tree):
    fake_linux.edit(tree, fake_linux.CPUFEATURE, "kpti_safe_list[] = {", "other_list[] = {")
    fake_linux.edit(tree, fake_linux.CPUFEATURE, "is_midr_in_range_list(kpti_safe_list)",
                    "is_midr_in_range_list(other_list)")
    assert "kpti_safe_list" not in [lst.name for lst in lists_of(tree).lists]


@pytest.mark.parametrize("old, new, at, reason", [
    ("if (is_midr_in_range_list(spectre_v2_safe_list))", "if (!is_midr_in_range_list(spectre_v2_safe_list))",
     "!is_midr_in_range_list", "spectre_v2_get_cpu_hw_mitigation_state() uses spectre_v2_safe_list as 'if ( ! "
     "is_midr_in_range_list(spectre_v2_safe_list) ) return SPECTRE_UNAFFECTED ;', where this reader knows 'if ( "
     "is_midr_in_range_list(spectre_v2_safe_list) ) return SPECTRE_UNAFFECTED ;'"),
    ("\t\tMIDR_ALL_VERSIONS(MIDR_CORTEX_A57),\n\t\t{},\n\t};\n\n\tif",
     "#ifdef CONFIG_X\n\t\tMIDR_ALL_VERSIONS(MIDR_CORTEX_A57),\n#endif\n\t\t{},\n\t};\n\n\tif",
     "#ifdef CONFIG_X", "a range of spectre_bhb_k8_list under a Kconfig guard: the speculation lists are read as "
     "every configuration has them"),
    ("\telse if (is_midr_in_range_list(spectre_bhb_k24_list))", "\tif (is_midr_in_range_list(spectre_bhb_k24_list))",
     "\tif (is_midr_in_range_list(spectre_bhb_k24_list))", "spectre_bhb_loop_affected() is not the chain of "
     "loop-count lists this reader reads (at 'if')"),
    ("\t\tk = 8;", "\t\tk = 300;", "k = 300", "k = 300: a loop count is a u8, above 0"),
    ("\treturn is_midr_in_range_list(spectre_v3a_unsafe_list);",
     "\treturn is_midr_in_range_list(spectre_v3a_unsafe_list) ||\n\t       is_midr_in_range_list(spectre_v3a_unsafe_list);",
     "       is_midr_in_range_list(spectre_v3a", "has_spectre_v3a() uses spectre_v3a_unsafe_list other than in one "
     "is_midr_in_range_list() call: this reader cannot tell what it decides"),
    ("\treturn SPECTRE_VULNERABLE;\n}\n\nbool has_spectre_v3a",
     "\treturn SPECTRE_VULNERABLE;\n}\n\nstatic int spectre_bhb_safe_list;\nbool has_spectre_v3a",
     "static int spectre_bhb_safe_list", "spectre_bhb_safe_list is not declared in is_spectre_bhb_safe(), where this "
     "reader reads it"),
])
def test_a_list_read_otherwise_than_the_model_takes_it_is_refused_at_its_line(tree, old, new, at, reason):
    text = (tree / PROTON).read_text()
    if "spectre_bhb_safe_list" in new:  # the list moves out of its function
        text = text.replace("spectre_bhb_safe_list[] = {", "moved_list[] = {").replace(
            "is_midr_in_range_list(spectre_bhb_safe_list)", "is_midr_in_range_list(moved_list)")
    assert text.count(old) == 1
    (tree / PROTON).write_text(text.replace(old, new))
    exc = refused(tree)
    assert (exc.pos.path, exc.pos.line, exc.reason) == (f"{tree}/{PROTON}", line_of(tree, PROTON, at), reason)


def importable(root: Path, reg, version: str) -> Path:
    """A tree import reads (generated_tree's, with the registry's table), with reg's speculation
    lists, at that version."""
    generated_tree.write_tree(root, reg)
    major, minor, sub = version.split(".")
    (root / "Makefile").write_text(f"VERSION = {major}\nPATCHLEVEL = {minor}\nSUBLEVEL = {sub}\nEXTRAVERSION =\n")
    for rel, text in fake_linux.speculation_files(reg).items():
        (root / rel).write_text(text)
    return root


def test_import_writes_speculation_yaml_from_the_tree_and_names_what_changed(tmp_path, registry):
    reg = tmp_path / "errata-db"
    shutil.copytree(REGISTRY, reg)
    tree = importable(tmp_path / "linux", registry, "7.3.4")
    fake_linux.edit(tree, PROTON, "\t\tMIDR_ALL_VERSIONS(MIDR_AMPERE1),\n",
                    "\t\tMIDR_ALL_VERSIONS(MIDR_AMPERE1),\n\t\tMIDR_ALL_VERSIONS(MIDR_AMPERE1A),\n")
    result = run_cli("import", "--registry", str(reg), "--kernel-tree", str(tree))
    assert result.code == 0, result.err
    assert "speculation spectre_bhb_k11_list has AmpereOne AC04 all, which the registry's speculation.yaml lacks" \
        in result.out
    assert f"updated   {reg}/speculation.yaml" in result.out
    assert "      - {cpu: ampere1a, revisions: all}\n" in (reg / "speculation.yaml").read_text()
    assert run_cli("validate", "--registry", str(reg)).code == 0


def test_import_keeps_the_lists_of_a_newer_kernel_than_the_tree(tmp_path, registry):
    reg = tmp_path / "errata-db"
    shutil.copytree(REGISTRY, reg)
    tree = importable(tmp_path / "linux", registry, "6.12.118")
    fake_linux.edit(tree, PROTON, "\t\tMIDR_ALL_VERSIONS(MIDR_CORTEX_A720AE),\n", "")
    result = run_cli("import", "--registry", str(reg), "--kernel-tree", str(tree), "--dry-run")
    assert result.code == 0, result.err
    assert "kept      speculation.yaml: speculation.yaml follows Linux 7.3.4, newer than this tree" in result.out


def test_audit_names_a_range_the_registry_lacks_at_the_tree_s_line_and_one_the_tree_lacks_as_a_note(tree):
    fake_linux.edit(tree, PROTON, "\t\tMIDR_ALL_VERSIONS(MIDR_AMPERE1),\n", "\t\tMIDR_ALL_VERSIONS(MIDR_AMPERE1A),\n")
    result = run_cli("audit", "--kernel-tree", str(tree))
    assert result.code == 1
    lines = [line for line in result.out.splitlines() if "[audit-speculation]" in line]
    at = line_of(tree, PROTON, "MIDR_AMPERE1A")
    assert lines == [
        f"{tree}/{PROTON}:{at}:1: error: spectre_bhb_k11_list has AmpereOne AC04 all, which the registry's "
        "speculation.yaml lacks [audit-speculation]",
        f"{REGISTRY.name}/speculation.yaml:{line_of(REGISTRY, 'speculation.yaml', '{cpu: ampere1,')}:9: note: the "
        "registry's spectre_bhb_k11_list has AmpereOne all, which the tree's lacks: the tree is older than the "
        "registry, or narrowed it [audit-speculation]"]


def test_a_tree_the_reader_refuses_is_an_audit_error_and_an_import_that_writes_nothing(tmp_path, tree, registry):
    fake_linux.edit(tree, PROTON, "\t\tk = 8;", "\t\tk = 0;")
    result = run_cli("audit", "--kernel-tree", str(tree))
    assert result.code == 1
    assert f"{tree}/{PROTON}:{line_of(tree, PROTON, chr(9) * 2 + 'k = 0;')}:1: error: k = 0: a loop count is a u8, " \
           "above 0: the speculation lists are not checked [audit-speculation]" in result.out
    reg = tmp_path / "errata-db"
    shutil.copytree(REGISTRY, reg)
    other = importable(tmp_path / "other", registry, "7.3.4")
    fake_linux.edit(other, PROTON, "\t\tk = 8;", "\t\tk = 0;")
    before = {p.name: p.read_bytes() for p in reg.iterdir() if p.is_file()}
    result = run_cli("import", "--registry", str(reg), "--kernel-tree", str(other))
    assert result.code == 1 and "Traceback" not in result.err
    assert f"{other}/{PROTON}:{line_of(other, PROTON, chr(9) * 2 + 'k = 0;')}:1: error: k = 0: a loop count is a u8, " \
           "above 0 [import]" in result.err
    assert {p.name: p.read_bytes() for p in reg.iterdir() if p.is_file()} == before


def test_docs_speculation_md_names_every_list_and_function_the_reader_reads_and_the_bundled_counts(registry):
    from conftest import REPO
    from errata_db.kernel.speculation import LISTS, LOOP_FUNCTION

    text = (REPO / "docs/speculation.md").read_text()
    for name, rel, function, cap, _, _ in LISTS:
        assert f"| `{name}` | `{rel.rsplit('/', 1)[1]}`, `{function}()` | `{cap}`" in text
    assert f"`{LOOP_FUNCTION}()`" in text
    spec = registry.speculation
    only_here = {c.name for c in registry.cpus} - {a.cpu.name for e in registry.errata for a in e.affects}
    assert f"{sum(len(lst.ranges) for lst in spec.lists)} ranges" in text and len(spec.lists) == 11
    assert only_here == {"Cortex-A35", "TSV110", "Kryo 3xx Silver"}
