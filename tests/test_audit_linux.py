"""`errata-db audit` against Debian's Linux 6.12 source (slow tier: `-m slow`, $ERRATA_DB_LINUX_TREE).

The report on the real tree is the README's example, so the README cannot drift from what the
command prints. Then a copy of the files audit reads is edited the way history edits them: an
older tree (an erratum not merged yet) gives a note and exit 0, a wrong part number exit 1.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import REPO, run_cli
from errata_db.kernel.tree import AUDIT_MARKERS, SILICON_ERRATA
from test_kernel_tree import TREE_ENV, _loud_skip

pytestmark = pytest.mark.slow

EXAMPLE_TREE = "linux-6.12"  # how the README's example names the tree
DOCUMENTED_VERSION = "6.12.117"


@pytest.fixture(scope="module")
def source_tree(request) -> Path:
    value = os.environ.get(TREE_ENV)
    if not value:
        _loud_skip(f"${TREE_ENV} is not set (prepare one with tests/kernel/prepare-tree.sh DIR)", request.config)
    tree = Path(value).resolve()
    if not all((tree / m).exists() for m in AUDIT_MARKERS):
        _loud_skip(f"${TREE_ENV}={value} is not an arm64 Linux source tree", request.config)
    return tree


def audit(tree: Path, *args: str):
    return run_cli("audit", "--kernel-tree", str(tree), "--registry", "errata-db", *args, cwd=REPO)


def readme_example() -> tuple[str, str]:
    """The command and output of the README's audit example."""
    text = (REPO / "README.md").read_text()
    m = re.search(r"^    \$ (errata-db audit --kernel-tree \S+)\n((?:    (?!\$).*\n)+)", text, re.M)
    assert m, "README.md has no `$ errata-db audit --kernel-tree ...` example"
    return m.group(1), "".join(line[4:] + "\n" for line in m.group(2).splitlines())


def test_audit_of_linux_6_12_exits_0_and_prints_the_readme_example(source_tree):
    result = audit(source_tree)
    assert "Traceback" not in result.err
    version = re.search(r"^Linux (\S+) at ", result.out, re.M)
    assert version, result.out
    # Debian moves its 6.12 package along the stable series; a newer 6.12.y must still audit
    # exactly as the README shows (its errata table is the documented one until a stable
    # release changes it, and then this test is the one that says so).
    if not version.group(1).startswith("6.12."):
        pytest.skip(f"the tree is Linux {version.group(1)}; the README documents {DOCUMENTED_VERSION}")
    assert result.code == 0, result.out
    command, expected = readme_example()
    assert command == f"errata-db audit --kernel-tree {EXAMPLE_TREE}"
    expected = expected.replace(f"Linux {DOCUMENTED_VERSION} at ", f"Linux {version.group(1)} at ")
    assert result.out.replace(str(source_tree), EXAMPLE_TREE) == expected


@pytest.fixture
def tree_copy(source_tree, tmp_path) -> Path:
    """The files audit reads, copied, so that they can be edited."""
    dest = tmp_path / "linux"
    rels = [m for m in AUDIT_MARKERS if (source_tree / m).is_file()] + [
        next(p for p in SILICON_ERRATA if (source_tree / p).is_file()), "drivers/clocksource/Kconfig"]
    for rel in rels:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source_tree / rel, dest / rel)
    for rel in AUDIT_MARKERS:
        if (source_tree / rel).is_dir():
            (dest / rel).mkdir(parents=True, exist_ok=True)
    return dest


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert text.count(old) == count, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new))


def test_a_6_12_tree_without_ampereone_errata_is_older_not_wrong(tree_copy):
    edit(tree_copy / "arch/arm64/Kconfig", "config AMPERE_ERRATUM_AC03_CPU_38\n", "")
    edit(tree_copy / "arch/arm64/tools/cpucaps", "WORKAROUND_AMPERE_AC03_CPU_38\n", "")
    rst = tree_copy / "Documentation/arch/arm64/silicon-errata.rst"
    rst.write_text("".join(line for line in rst.read_text().splitlines(keepends=True)
                           if "AMPERE_ERRATUM_AC03_CPU_38" not in line))
    result = audit(tree_copy)
    assert result.code == 0, result.out
    assert ("errata-db/errata/ampere.yaml:5:5: note: 'WORKAROUND_AMPERE_AC03_CPU_38' (bit 32) is not in this "
            "tree (no erratum id in silicon-errata.rst, no Kconfig option, no cpucap of its own): this tree "
            "is older than the registry [audit-tree-older]") in result.out.splitlines()
    assert "0 mismatch(es)" in result.out


def test_a_6_12_tree_whose_neoverse_n1_part_differs_is_a_mismatch(tree_copy):
    edit(tree_copy / "arch/arm64/include/asm/cputype.h",
         "#define ARM_CPU_PART_NEOVERSE_N1\t0xD0C", "#define ARM_CPU_PART_NEOVERSE_N1\t0xD0D")
    result = audit(tree_copy)
    assert result.code == 1
    errors = [line for line in result.out.splitlines() if ": error: " in line]
    assert len(errors) == 1 and "[audit-midr]" in errors[0], result.out
    assert "has part ARM_CPU_PART_NEOVERSE_N1 = 0xd0d, the registry says 0xd0c" in errors[0]


def test_a_6_12_tree_from_before_the_4118414_backport_is_older_not_wrong(tree_copy):
    """Linux 6.12.0 had WORKAROUND_REPEAT_TLBI but not erratum 4118414 and its per-core ids."""
    rst = tree_copy / "Documentation/arch/arm64/silicon-errata.rst"
    rst.write_text("".join(line for line in rst.read_text().splitlines(keepends=True)
                           if "ARM64_ERRATUM_4118414" not in line))
    edit(tree_copy / "arch/arm64/Kconfig", "config ARM64_ERRATUM_4118414\n", "config ARM64_SOMETHING_ELSE\n")
    result = audit(tree_copy)
    assert result.code == 0, result.out
    notes = [line for line in result.out.splitlines() if "WORKAROUND_REPEAT_TLBI" in line]
    assert len(notes) == 2 and all(": note: " in line and "newer than the tree" in line for line in notes)
    assert any("[audit-entry]" in line and "4118414" in line for line in notes)
    assert any("[audit-kconfig]" in line and "ARM64_ERRATUM_4118414" in line for line in notes)
