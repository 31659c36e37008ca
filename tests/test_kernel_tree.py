"""The generated kernel headers build, and pass checkpatch, inside a real Linux 6.12 arm64 tree.

Slow, and deselected by default: run with `-m slow`. The tree comes from $ERRATA_DB_LINUX_TREE, a
Linux source tree prepared for arm64 by tests/kernel/prepare-tree.sh (defconfig + `make prepare`):

    tests/kernel/prepare-tree.sh /path/to/linux
    ERRATA_DB_LINUX_TREE=/path/to/linux python -m pytest -m slow tests/test_kernel_tree.py

Without a usable tree (or cross compiler) every test is skipped, and the reason is printed straight to
the terminal (past pytest's capture), so a CI job that meant to run them cannot skip them quietly.

The headers are rendered fresh from errata-db/ and put where they belong in the tree by
`errata-db install` (twice: the second run must change nothing):
arch/arm64/include/asm/migrn_errata.h and arch/arm64/kvm/migrn_errata_table.h, with the test
translation unit tests/kernel/migrn_errata_test.c (and small wrappers of it) in arch/arm64/kvm/. Each
object is built alone with the kernel's own flags (`make ARCH=arm64 arch/arm64/kvm/X.o`, KCFLAGS=-Werror,
plain and W=1). An flock() on the tree directory serialises runs on one tree, and every file put there
is removed afterwards. checkpatch.pl (the tree's) checks both headers, with -f and as a --strict patch.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import checkpatch
from conftest import REGISTRY, path_from_env, run_cli, skip_loudly
from errata_db.diagnostics import has_errors
from errata_db.registry import load_registry
from errata_db.render import render
from errata_db.resources import templates_dir
from errata_db.targets import TARGETS

pytestmark = pytest.mark.slow

TREE_ENV = "ERRATA_DB_LINUX_TREE"
KERNEL_TESTS = Path(__file__).resolve().parent / "kernel"
TEST_TU = KERNEL_TESTS / "migrn_errata_test.c"
TEST_HEADER = KERNEL_TESTS / "migrn_errata_test.h"
ARCH = "arm64"
CROSS_COMPILE = os.environ.get("CROSS_COMPILE", "aarch64-linux-gnu-")
MAKE_TIMEOUT = 900

GUEST = TARGETS["guest-header"].path  # linux/arch/arm64/include/asm/migrn_errata.h
KVM = TARGETS["kvm-header"].path  # linux/arch/arm64/kvm/migrn_errata_table.h
KVM_DIR = "arch/arm64/kvm"
MARKER = "by errata-db, do not edit"

# The header's fallback for a model <asm/cputype.h> lacks: "#ifndef M / #define M MIDR_CPU_MODEL(i, p)".
FALLBACK_RE = re.compile(
    r"^#ifndef (MIDR_\w+)\n#define \1\s+MIDR_CPU_MODEL\((0x[0-9a-f]+), (0x[0-9a-f]+)\)$", re.M)
# Every table of the headers: "static const struct TYPE NAME[] ... = {".
TABLE_RE = re.compile(r"^static const struct \w+ (\w+)\[\]", re.M)


@pytest.fixture(scope="module")
def linux_tree(request) -> Path:
    def is_arm64_tree(tree: Path) -> bool:
        return (tree / "Makefile").is_file() and (tree / "arch/arm64/include/asm/cputype.h").is_file()

    tree = path_from_env(TREE_ENV, request, how="prepare one with tests/kernel/prepare-tree.sh DIR",
                         usable=is_arm64_tree, what="an arm64 Linux source tree").resolve()
    missing = [p for p in (".config", "include/generated/autoconf.h", "include/config/auto.conf",
                           "include/generated/asm-offsets.h",
                           "arch/arm64/include/generated/asm/cpucap-defs.h")
               if not (tree / p).is_file()]
    if missing:
        skip_loudly(f"{tree} is not prepared (missing {', '.join(missing)}): "
                    f"run tests/kernel/prepare-tree.sh {tree}", request)
    if shutil.which(f"{CROSS_COMPILE}gcc") is None:
        skip_loudly(f"{CROSS_COMPILE}gcc not found (apt-get install gcc-aarch64-linux-gnu)", request)
    if shutil.which("make") is None:
        skip_loudly("make not found", request)
    assert os.access(tree / KVM_DIR, os.W_OK), f"{tree / KVM_DIR} is not writable"
    return tree


@pytest.fixture(scope="module")
def rendered(linux_tree, tmp_path_factory) -> Path:
    """The two headers rendered now from errata-db/, as the tree names the cpucaps (the registry
    writes the newest kernel's names; `install` writes each tree's), under OUT/linux/arch/arm64/..."""
    from errata_db.kernel import names
    from errata_db.kernel.tree import Tree

    result = load_registry(REGISTRY)
    assert result.registry is not None and not has_errors(result.diagnostics)
    out = tmp_path_factory.mktemp("rendered")
    registry, _ = names.for_tree(result.registry, names.of_tree(Tree(linux_tree, str(linux_tree))))
    texts = render(registry, TARGETS, templates_dir())
    for rel in (GUEST, KVM):
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(texts[rel])
    return out


def in_tree(rel: str) -> str:
    return rel.removeprefix("linux/")


@contextlib.contextmanager
def tree_lock(tree: Path):
    """Serialise runs on one tree: flock() on its top Makefile, so no lock file is left. Not on
    the directory itself: `install` holds that one while it writes, and would find it taken."""
    fd = os.open(tree / "Makefile", os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"\n{__name__}: waiting for another run's lock on {tree}", file=sys.stderr, flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # drops the lock


def tree_cpucaps(tree: Path) -> set[str]:
    """The cpucaps of the tree's arch/arm64/tools/cpucaps, as the registry names them (no ARM64_)."""
    return {line.strip() for line in (tree / "arch/arm64/tools/cpucaps").read_text().splitlines()
            if line.strip() and not line.startswith("#")}


def remove_ours(tree: Path) -> None:
    """Everything this module puts in the tree: headers, sources, objects and their .cmd files."""
    (tree / in_tree(GUEST)).unlink(missing_ok=True)
    kvm = tree / KVM_DIR
    for pattern in ("migrn_errata*", ".migrn_errata*"):
        for path in kvm.glob(pattern):
            path.unlink()


@pytest.fixture(scope="module")
def installed(linux_tree, rendered):
    """The fresh headers and the test TU, installed in the tree for the module; removed after."""
    guest = linux_tree / in_tree(GUEST)
    for path in (guest, linux_tree / in_tree(KVM)):
        if path.exists() and MARKER not in path.read_text(errors="replace"):
            pytest.fail(f"{path} exists and is not errata-db's: refusing to overwrite it")
    with tree_lock(linux_tree):
        remove_ours(linux_tree)  # a killed earlier run's leftovers
        try:
            # `errata-db install` puts the headers in place: what it writes is what gets built.
            first = run_cli("install", "--kernel-tree", str(linux_tree), "--registry", str(REGISTRY))
            assert first.code == 0, first.err
            assert first.out.endswith("2 of 2 file(s) changed\n"), first.out
            again = run_cli("install", "--kernel-tree", str(linux_tree), "--registry", str(REGISTRY))
            assert again.out.endswith("0 of 2 file(s) changed\n"), again.out
            for rel in (GUEST, KVM):
                assert (linux_tree / in_tree(rel)).read_bytes() == (rendered / rel).read_bytes()
            # The bits whose cpucap this tree lacks (by every name the registry records for it)
            # are left out of the guest's table: the test unit counts them in.
            lacking = sum(1 for e in load_registry(REGISTRY).registry.errata
                          if e.active and not set(e.cpucaps) & tree_cpucaps(linux_tree))
            tu = TEST_TU.read_text()
            tu = tu.replace("#include <linux/bitmap.h>\n",
                            f"#define MIGRN_ERRATA_TEST_LACKING {lacking}\n#include <linux/bitmap.h>\n", 1)
            (linux_tree / KVM_DIR / TEST_TU.name).write_text(tu)
            shutil.copyfile(TEST_HEADER, linux_tree / KVM_DIR / TEST_HEADER.name)
            yield linux_tree
        finally:
            remove_ours(linux_tree)


def kbuild(tree: Path, source: str, *, w1: bool) -> tuple[Path, str]:
    """Build arch/arm64/kvm/SOURCE as one object with the kernel's flags; (object, make output)."""
    obj = tree / KVM_DIR / Path(source).with_suffix(".o").name
    obj.unlink(missing_ok=True)
    drop = ("KBUILD_OUTPUT", "KBUILD_VERBOSE", "MAKEFLAGS", "MFLAGS")  # O=, V=, an outer make's jobserver
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(LC_ALL="C", LANG="C")
    cmd = ["make", "-C", str(tree), f"-j{os.cpu_count() or 2}", f"ARCH={ARCH}",
           f"CROSS_COMPILE={CROSS_COMPILE}", "KCFLAGS=-Werror", *(["W=1"] if w1 else []),
           f"{KVM_DIR}/{obj.name}"]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=MAKE_TIMEOUT)
    output = proc.stdout + proc.stderr
    print(f"{' '.join(cmd[3:])}: exit {proc.returncode} in {time.monotonic() - start:.1f}s")
    assert proc.returncode == 0, f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{output}"
    assert obj.is_file(), f"make succeeded but built no {obj}:\n{output}"
    return obj, output


def assert_no_warnings(output: str) -> None:
    noise = [line for line in output.splitlines() if re.search(r"warning|error", line, re.I)]
    assert not noise, "the build warned:\n" + "\n".join(noise) + "\n\nfull output:\n" + output


def local_symbols(obj: Path) -> set[str]:
    nm = shutil.which(f"{CROSS_COMPILE}nm") or shutil.which("nm")
    assert nm, f"no {CROSS_COMPILE}nm"
    out = subprocess.run([nm, str(obj)], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def write_wrapper(tree: Path, name: str, body: str) -> str:
    (tree / KVM_DIR / name).write_text(
        "// SPDX-License-Identifier: GPL-2.0-only\n"
        "/* Written by tests/test_kernel_tree.py; removed after the run. */\n" + body)
    return name


def fallbacks(kvm_header: str) -> dict[str, tuple[int, int]]:
    return {m: (int(i, 16), int(p, 16)) for m, i, p in FALLBACK_RE.findall(kvm_header)}


def newest_model(kvm_header: str, among: set[str] | None = None) -> str:
    """The Arm Ltd model with the highest part number (of those `among`): the newest core,
    likeliest to be missing."""
    arm = {m: part for m, (imp, part) in fallbacks(kvm_header).items()
           if imp == 0x41 and (among is None or m in among)}
    assert arm, "the KVM header has no Arm Ltd model fallback"
    return max(arm, key=arm.get)


# --- a. the test translation unit, with the kernel's flags --------------------------------------

@pytest.mark.parametrize("w1", [False, True], ids=["plain", "W=1"])
def test_translation_unit_builds_clean(installed, rendered, w1):
    obj, output = kbuild(installed, TEST_TU.name, w1=w1)
    assert_no_warnings(output)
    # Every table of both headers is in the object: used, so neither unused nor dropped unseen.
    tables = set(TABLE_RE.findall((rendered / GUEST).read_text() + (rendered / KVM).read_text()))
    assert {"migrn_safe_caps", "kvm_migrn_errata"} <= tables
    assert any(t.endswith("_fixes0") for t in tables), "no REVIDR fixes table to check"
    symbols = local_symbols(obj)
    assert tables <= symbols, f"tables missing from {obj.name}: {sorted(tables - symbols)}"
    functions = {"migrn_errata_test_fill", "migrn_errata_test_guest_caps",
                 "migrn_errata_test_count_ranges", "migrn_errata_test_check_tables"}
    assert functions <= symbols


@pytest.mark.parametrize("header", [GUEST, KVM], ids=["guest", "kvm"])
def test_header_alone_builds_clean(installed, header):
    """Included by a TU that uses none of it, a header is self-contained and unused-warning free."""
    include = "<asm/migrn_errata.h>" if header == GUEST else '"migrn_errata_table.h"'
    name = write_wrapper(installed, f"migrn_errata_only_{'guest' if header == GUEST else 'kvm'}.c",
                         f"#include {include}\n")
    _, output = kbuild(installed, name, w1=True)
    assert_no_warnings(output)


# --- c. the fallback MIDR_* defines and their static_assert -------------------------------------

@pytest.mark.parametrize("which", ["newest", "all"])
def test_fallback_defines_build_clean(installed, rendered, which):
    """With models #undef'd from <asm/cputype.h>, the header's own #ifndef fallbacks take over.
    (Models of a registry newer than the tree are not in its <asm/cputype.h> at all: their
    fallbacks are in use already.)"""
    header = (rendered / KVM).read_text()
    models = fallbacks(header)
    assert len(models) >= 2
    cputype = (installed / "arch/arm64/include/asm/cputype.h").read_text()
    defined = {m for m in models if re.search(rf"^#define\s+{m}\b", cputype, re.M)}
    assert len(defined) >= 2, f"this tree's <asm/cputype.h> defines {sorted(defined)} of {sorted(models)}"
    drop = [newest_model(header, defined)] if which == "newest" else sorted(defined)
    print(f"without {', '.join(drop)}; not in the tree: {', '.join(sorted(set(models) - defined)) or 'none'}")
    name = write_wrapper(installed, f"migrn_errata_fallback_{which}.c",
                         "#include <asm/cputype.h>\n\n"
                         "/* As if <asm/cputype.h> predated these models. */\n"
                         + "".join(f"#undef {m}\n" for m in drop)
                         + "\n#include \"migrn_errata_test.c\"\n\n"
                         + "".join(f"#ifndef {m}\n#error \"{m}: no fallback define\"\n#endif\n"
                                   for m in sorted(models)))
    _, output = kbuild(installed, name, w1=True)
    assert_no_warnings(output)


def test_wrong_model_value_fails_the_build(installed, rendered):
    """The fallback's static_assert is live in the kernel build: a wrong model value is an error."""
    macro = newest_model((rendered / KVM).read_text())
    name = write_wrapper(installed, "migrn_errata_wrong_model.c",
                         "#include <asm/cputype.h>\n\n"
                         f"#undef {macro}\n#define {macro} MIDR_CPU_MODEL(0x41, 0xfff)\n\n"
                         "#include \"migrn_errata_test.c\"\n")
    with pytest.raises(AssertionError) as failed:
        kbuild(installed, name, w1=True)
    message = str(failed.value)
    assert "static assertion failed" in message, message
    assert re.search(rf'static assertion failed: "[^"\n]*\b{macro}\b', message), message


# --- b. checkpatch --------------------------------------------------------------------------------

@pytest.mark.parametrize("header", [GUEST, KVM], ids=["guest", "kvm"])
def test_checkpatch_file(linux_tree, rendered, header):
    """`checkpatch.pl --no-tree -f` on each header, run from the tree root as a maintainer would."""
    checkpatch.assert_clean(checkpatch.run(linux_tree / "scripts/checkpatch.pl", rendered / "linux", "-f",
                                           in_tree(header)))


def test_checkpatch_strict_as_a_patch(linux_tree, rendered, tmp_path):
    """Both headers as a new-file patch, `--strict`: what a submission would get (long lines warn)."""
    body = [
        "From: errata-db <errata-db@example.org>",
        "Subject: [PATCH] KVM: arm64: add the migration-safe errata tables",
        "",
        "Add the headers errata-db generates for the migration-safe errata bits.",
        "",
        "Signed-off-by: errata-db <errata-db@example.org>",
        "---",
    ]
    for rel in (GUEST, KVM):
        lines = (rendered / rel).read_text().splitlines()
        body += ["--- /dev/null", f"+++ b/{in_tree(rel)}", f"@@ -0,0 +1,{len(lines)} @@"]
        body += [f"+{line}" for line in lines]
    patch = tmp_path / "headers.patch"
    patch.write_text("\n".join(body) + "\n")
    checkpatch.assert_clean(checkpatch.run(linux_tree / "scripts/checkpatch.pl", tmp_path, "--strict", patch.name))
