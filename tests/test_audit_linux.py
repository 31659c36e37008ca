"""`errata-db audit` against Debian's Linux sources (slow tier: `-m slow`).

The report on the tree of the audit example in docs/kernel-trees.md is that example, so the
documentation cannot drift from what the command prints. The bundled registry audits Linux 7.3,
the kernel it follows, with exit 0, and the older 6.1 and 6.12 with notes only. Then a copy of the
files audit reads from 6.12 ($ERRATA_DB_LINUX_TREE) is edited the way history edits them: an older
tree (an erratum not merged yet) gives a note and exit 0, a wrong part number exit 1.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import REPO, path_from_env, run_cli
from errata_db.kernel.tree import AUDIT_MARKERS, SILICON_ERRATA
from test_kernel_tree import TREE_ENV

pytestmark = pytest.mark.slow

# How the example of docs/kernel-trees.md may name the tree, and the variable that gives that tree.
EXAMPLE_TREES = {"linux-6.12": TREE_ENV, "linux-7.3": "ERRATA_DB_LINUX_73"}


@pytest.fixture(scope="module")
def source_tree(request) -> Path:
    return _tree_from(TREE_ENV, request, "prepare one with tests/kernel/prepare-tree.sh DIR")


def audit(tree: Path, *args: str):
    return run_cli("audit", "--kernel-tree", str(tree), "--registry", "errata-db", *args, cwd=REPO)


def readme_example() -> tuple[str, str]:
    """The command and output of the audit example in docs/kernel-trees.md."""
    text = (REPO / "docs/kernel-trees.md").read_text()
    m = re.search(r"^    \$ (errata-db audit --kernel-tree \S+)\n((?:    (?!\$).*\n)+)", text, re.M)
    assert m, "docs/kernel-trees.md has no `$ errata-db audit --kernel-tree ...` example"
    return m.group(1), "".join(line[4:] + "\n" for line in m.group(2).splitlines())


def _tree_from(env: str, request, how: str = ".ci/run sets it") -> Path:
    return path_from_env(env, request, how=how, usable=lambda t: all((t / m).exists() for m in AUDIT_MARKERS),
                         what="an arm64 Linux source tree").resolve()


def test_audit_of_the_readme_example_s_tree_exits_0_and_prints_the_readme_example(request):
    command, expected = readme_example()
    example_tree = command.split()[-1]
    assert command == f"errata-db audit --kernel-tree {example_tree}" and example_tree in EXAMPLE_TREES, command
    documented = re.search(r"^Linux (\S+) at ", expected, re.M)
    assert documented, expected
    tree = _tree_from(EXAMPLE_TREES[example_tree], request)
    result = audit(tree)
    assert "Traceback" not in result.err
    version = re.search(r"^Linux (\S+) at ", result.out, re.M)
    assert version, result.out
    # Debian moves its packages along the stable series; a newer X.Y.z must still audit exactly
    # as docs/kernel-trees.md shows (its errata table is the documented one until a stable release
    # changes it, and then this test is the one that says so).
    series = example_tree.removeprefix("linux-")
    if not version.group(1).startswith(f"{series}."):
        pytest.skip(f"the tree is Linux {version.group(1)}; docs/kernel-trees.md shows {documented.group(1)}")
    assert result.code == 0, result.out
    expected = expected.replace(f"Linux {documented.group(1)} at ", f"Linux {version.group(1)} at ")
    assert result.out.replace(str(tree), example_tree) == expected


def test_audit_of_linux_7_3_with_the_bundled_registry_exits_0(request):
    """The bundled registry follows Linux 7.3: no mismatch."""
    tree = _tree_from("ERRATA_DB_LINUX_73", request)
    result = audit(tree)
    assert "Traceback" not in result.err
    assert re.search(r"^Linux 7\.3\.\S+ at ", result.out, re.M), result.out
    assert result.code == 0, result.out + result.err
    assert [line for line in result.out.splitlines() if ": error: " in line] == []
    assert "0 mismatch(es)" in result.out, result.out


@pytest.mark.parametrize(("env", "series"), [("ERRATA_DB_LINUX_61", "6.1"), ("ERRATA_DB_LINUX_612", "6.12")])
def test_audit_of_an_older_kernel_with_the_bundled_registry_gives_notes_only(request, env, series):
    """6.1 and 6.12 are older than the registry: what they lack is a note (newer than the tree,
    not in this tree), never an error or a warning."""
    tree = _tree_from(env, request)
    result = audit(tree)
    assert "Traceback" not in result.err
    assert re.search(rf"^Linux {re.escape(series)}\.\S+ at ", result.out, re.M), result.out
    assert result.code == 0, result.out + result.err
    assert [line for line in result.out.splitlines() if re.search(r": (error|warning): ", line)] == []
    assert re.search(r": 0 mismatch\(es\), 0 warning\(s\), \d+ note\(s\)$", result.out, re.M), result.out


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
