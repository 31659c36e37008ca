"""The proof that the bundled registry's kernel table is Linux 7.3's own: build
arch/arm64/kernel/cpu_errata.o from the pristine 7.3 tree and from the tree after `errata-db install
--kernel-tables`, in three configurations, and compare the two arm64_errata symbols deep-equal
(tests/elf_deep_equal.py). Then widen one range of the registry: the rebuilt table must differ, and
the test says where. The headers `errata-db install` writes (generated/'s) build in the same tree.

Slow, and deselected by default: run with `-m slow`. The trees come from $ERRATA_DB_LINUX_PROOF_73,
prepared by tests/kernel/prepare-proof.sh (a pristine extraction, a hard-link copy the tables are
installed in, and one prepared out-of-tree build directory per configuration):

    tests/kernel/fetch-linux-7.3.sh /path/to/fetch
    tests/kernel/prepare-proof.sh /path/to/proof /path/to/fetch/linux-source-7.3.tar.xz
    ERRATA_DB_LINUX_PROOF_73=/path/to/proof python -m pytest -m slow tests/test_kernel_tables_linux.py

The copy keeps one path, so each build directory serves the pristine and the converted sources
and only cpu_errata.o is rebuilt; the copy gets its pristine files back afterwards.
tests/test_import_proof_linux.py builds with the same helpers (Proof, open_proof) on 6.1, 6.12
and 7.3 after `errata-db import`.
"""

from __future__ import annotations

import difflib
import fcntl
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import checkpatch
from conftest import REPO, path_from_env, run_cli, skip_loudly

pytestmark = pytest.mark.slow

PROOF_ENV = "ERRATA_DB_LINUX_PROOF_73"
PROOF_VERSION = "7.3"
CONFIGS = ("errata-on", "errata-off", "defconfig")
CROSS_COMPILE = os.environ.get("CROSS_COMPILE", "aarch64-linux-gnu-")
KERNEL = "arch/arm64/kernel"
CPU_ERRATA = f"{KERNEL}/cpu_errata.c"
HEADER = f"{KERNEL}/cpu_errata_table.h"
OBJECT = f"{KERNEL}/cpu_errata.o"
CORESIGHT = ("CORESIGHT", "CORESIGHT_SOURCE_ETM4X", "CORESIGHT_TRBE")  # the TRBE errata depend on them
# The headers plain `install` writes, and the test translation unit tests/test_kernel_tree.py builds.
GUEST_HEADER = "arch/arm64/include/asm/migrn_errata.h"
KVM_DIR = "arch/arm64/kvm"
KVM_HEADER = f"{KVM_DIR}/migrn_errata_table.h"
KERNEL_TESTS = Path(__file__).resolve().parent / "kernel"
# The range widened for the second check: Neoverse-N1 of erratum 1418040, r0p0..r3p1 -> r0p0..r4p0.
NARROW = "      - cpu: neoverse-n1\n        revisions: r0p0..r3p1\n"
WIDE = "      - cpu: neoverse-n1\n        revisions: r0p0..r4p0\n"


def tree_version(tree: Path) -> str:
    """VERSION.PATCHLEVEL of a Linux tree, from its top Makefile."""
    text = (tree / "Makefile").read_text()
    return ".".join(re.search(rf"^{k} = (\d+)$", text, re.M).group(1) for k in ("VERSION", "PATCHLEVEL"))


# One flock() per proof directory for the whole process: test modules that build in the same proof
# share it (a second flock() on another descriptor of this process would wait for ever).
_LOCKS: dict[Path, list] = {}


def _lock(root: Path) -> None:
    held = _LOCKS.setdefault(root, [None, 0])
    if held[1] == 0:
        held[0] = open(root / ".proof-lock", "w")  # noqa: SIM115 - held until the last user is done
        fcntl.flock(held[0], fcntl.LOCK_EX)
    held[1] += 1


def _unlock(root: Path) -> None:
    held = _LOCKS[root]
    held[1] -= 1
    if held[1] == 0:
        held[0].close()


class Proof:
    """The prepared trees, and cpu_errata.o built from the copy in a given state."""

    def __init__(self, root: Path, work: Path):
        self.root, self.src, self.pristine, self.work = root, root / "src", root / "pristine", work

    def restore(self) -> None:
        """The copy's pristine cpu_errata.c back, and no generated table or header."""
        (self.src / HEADER).unlink(missing_ok=True)
        (self.src / CPU_ERRATA).unlink(missing_ok=True)
        os.link(self.pristine / CPU_ERRATA, self.src / CPU_ERRATA)
        (self.src / GUEST_HEADER).unlink(missing_ok=True)
        for pattern in ("migrn_errata*", ".migrn_errata*"):
            for path in (self.src / KVM_DIR).glob(pattern):
                path.unlink()

    def install(self, registry: Path) -> str:
        result = run_cli("install", "--kernel-tree", str(self.src), "--registry", str(registry),
                         "--kernel-tables", cwd=REPO)
        assert result.code == 0, result.out + result.err
        return result.out

    def make(self, config: str, target: str, *flags: str) -> subprocess.CompletedProcess:
        return subprocess.run(["make", "-C", str(self.src), f"O={self.root / f'o-{config}'}", "ARCH=arm64",
                               f"CROSS_COMPILE={CROSS_COMPILE}", "KCFLAGS=-Werror", *flags, target],
                              capture_output=True, text=True, timeout=900,
                              env={**os.environ, "LC_ALL": "C", "LANG": "C"})

    def build(self, config: str, label: str) -> Path:
        out = self.root / f"o-{config}"
        (out / OBJECT).unlink(missing_ok=True)
        run = self.make(config, OBJECT)
        assert run.returncode == 0, f"make {OBJECT} ({config}, {label}) failed:\n{run.stdout[-3000:]}{run.stderr[-3000:]}"
        dest = self.work / f"{config}-{label}.o"
        shutil.copyfile(out / OBJECT, dest)
        return dest


def open_proof(env: str, configs: tuple[str, ...], version: str, request, work: Path):
    """The proof directory $env names, checked, locked and restored; a generator for a fixture.
    Skips out loud when it is not set or not prepared with `configs`."""
    root = path_from_env(env, request, how="prepare one with tests/kernel/prepare-proof.sh DIR").resolve()
    missing = [p for p in ("pristine/Makefile", "src/Makefile", *(f"o-{c}/.proof-ready" for c in configs),
                           *(["o-errata-on/.proof-off"] if "errata-on" in configs else []))
               if not (root / p).is_file()]
    if missing:
        skip_loudly(f"{root} is not prepared (missing {', '.join(missing)}): run "
                    f"tests/kernel/prepare-proof.sh {root}", request)
    if shutil.which(f"{CROSS_COMPILE}gcc") is None:
        skip_loudly(f"{CROSS_COMPILE}gcc not found", request)
    found = tree_version(root / "pristine")
    assert found == version, f"${env}={os.environ[env]} is Linux {found}, not {version}"
    _lock(root)
    try:
        p = Proof(root, work)
        p.restore()
        yield p
        p.restore()
    finally:
        _unlock(root)


@pytest.fixture(scope="session")
def proof(request, tmp_path_factory):
    yield from open_proof(PROOF_ENV, CONFIGS, PROOF_VERSION, request, tmp_path_factory.mktemp("objects"))


@pytest.fixture(scope="session")
def objects(proof, tmp_path_factory) -> dict[tuple[str, str], Path]:
    """cpu_errata.o of every configuration, pristine and converted, and errata-on with a
    widened range. Built in this order, since the copy holds one state at a time."""
    built = {(c, "pristine"): proof.build(c, "pristine") for c in CONFIGS}
    proof.install(REPO / "errata-db")
    built |= {(c, "converted"): proof.build(c, "converted") for c in CONFIGS}
    widened = tmp_path_factory.mktemp("widened") / "errata-db"
    shutil.copytree(REPO / "errata-db", widened)
    arm = widened / "errata" / "arm.yaml"
    text = arm.read_text()
    assert text.count(NARROW) == 1
    arm.write_text(text.replace(NARROW, WIDE))
    proof.install(widened)
    built[("errata-on", "widened")] = proof.build("errata-on", "widened")
    proof.restore()
    return built


def config_options(proof: Proof, config: str) -> dict[str, str]:
    values = {}
    for line in (proof.root / f"o-{config}" / ".config").read_text().splitlines():
        if line.startswith("CONFIG_") and "=" in line:
            name, _, value = line.partition("=")
            values[name.removeprefix("CONFIG_")] = value
    return values


def test_the_configurations_are_the_ones_the_proof_needs(proof):
    options = (proof.root / "o-errata-on" / ".proof-options").read_text().split()
    assert len(options) > 60 and "ARM64_ERRATUM_1418040" in options and "AMPERE_ERRATUM_AC03_CPU_38" in options
    on, off = config_options(proof, "errata-on"), config_options(proof, "errata-off")
    # Every erratum option is on but those prepare-proof.sh found it could not turn on: none in 7.3,
    # where ARM64_ERRATUM_4193714 no longer depends on a BROKEN option as in 6.12.
    cannot = (proof.root / "o-errata-on" / ".proof-off").read_text().split()
    assert [o for o in (*options, *CORESIGHT) if on.get(o) != "y"] == cannot
    assert "ARM64_ERRATUM_4193714" in options and on.get("ARM64_ERRATUM_4193714") == "y"
    assert [o for o in options if o in off] == []
    assert config_options(proof, "defconfig").get("ARM64_ERRATUM_1418040") == "y"


@pytest.mark.parametrize("config", CONFIGS)
def test_the_converted_tree_builds_the_same_arm64_errata(objects, config):
    from elf_deep_equal import Object, first_difference

    pristine, converted = Object(objects[(config, "pristine")]), Object(objects[(config, "converted")])
    assert first_difference(pristine, converted, "arm64_errata") is None
    assert pristine.symbol("arm64_errata").size > 0


def test_a_widened_range_changes_the_built_table_and_the_proof_says_where(objects):
    from elf_deep_equal import Object, first_difference

    found = first_difference(Object(objects[("errata-on", "pristine")]),
                             Object(objects[("errata-on", "widened")]), "arm64_errata")
    assert found is not None
    # rv_max of MIDR_RANGE(MIDR_NEOVERSE_N1, 0, 0, 3, 1) -> (4, 0): 0x00300001 -> 0x00400000, in the
    # second range of the list of the row "ARM erratum 1418040".
    assert "(in the row of 'ARM erratum 1418040')" in found, found
    assert " -> erratum_1418040_list+" in found and "byte 0x01 against 0x00" in found, found


def test_the_conversion_is_a_checkpatch_clean_patch(proof, objects, tmp_path):
    proof.install(REPO / "errata-db")
    try:
        old = (proof.pristine / CPU_ERRATA).read_text().splitlines(keepends=True)
        new = (proof.src / CPU_ERRATA).read_text().splitlines(keepends=True)
        header = (proof.src / HEADER).read_text().splitlines(keepends=True)
    finally:
        proof.restore()
    patch = tmp_path / "0001-kernel-tables.patch"
    patch.write_text(
        "From: errata-db <errata-db@example.org>\n"
        "Subject: [PATCH] arm64: errata: generate the errata tables from the registry\n\n"
        "Replace the MIDR lists and arm64_errata[] by the table errata-db generates.\n"
        "No functional change: the built table is the same.\n\n"
        "Signed-off-by: errata-db <errata-db@example.org>\n---\n"
        f"diff --git a/{CPU_ERRATA} b/{CPU_ERRATA}\n"
        + "".join(difflib.unified_diff(old, new, f"a/{CPU_ERRATA}", f"b/{CPU_ERRATA}"))
        + f"diff --git a/{HEADER} b/{HEADER}\nnew file mode 100644\n"
        + "".join(difflib.unified_diff([], header, "/dev/null", f"b/{HEADER}")))
    report = checkpatch.run(proof.pristine / "scripts/checkpatch.pl", proof.pristine, "--strict", str(patch))
    assert report.findings, report.output
    # A new file always asks whether MAINTAINERS needs updating; arch/arm64/ is the ARM64 PORT's.
    assert [(f.level, f.code) for f in report.findings if f.type == "FILE_PATH_CHANGES"] == [("WARNING", "")]
    # Anything else is about a line the kernel's own cpu_errata.c has as it is (7.3: the CamelCase
    # ARM64_WORKAROUND_GICv3_BROKEN_SEIS, the spelling "acknowledgement" of a .desc): the same
    # table has the same text; the generated code adds no finding of its own.
    own = {line.strip() for line in old}
    checkpatch.assert_clean(report, lambda f: f.type == "FILE_PATH_CHANGES" or f.code.strip() in own)
    assert "\nF:\tarch/arm64/\n" in (proof.pristine / "MAINTAINERS").read_text()


def test_install_writes_generated_s_files_in_linux_7_3(proof):
    """`install` and `install --kernel-tables` write generated/'s files into the 7.3 tree (so the
    builds here are about the committed files), and a second run changes nothing."""
    try:
        for extra in ((), ("--kernel-tables",)):
            args = ("install", "--kernel-tree", str(proof.src), "--registry", "errata-db", *extra)
            first, again = run_cli(*args, cwd=REPO), run_cli(*args, cwd=REPO)
            assert first.code == 0 and first.out.endswith("2 of 2 file(s) changed\n"), first.out + first.err
            assert again.code == 0 and again.out.endswith("0 of 2 file(s) changed\n"), again.out + again.err
        for rel in (GUEST_HEADER, KVM_HEADER, HEADER):
            assert (proof.src / rel).read_bytes() == (REPO / "generated/linux" / rel).read_bytes(), (
                f"install wrote another {rel} than generated/'s")
    finally:
        proof.restore()


@pytest.fixture(scope="module")
def headers_installed(proof):
    """generated/'s two headers in the copy, where `install` puts them, with the test translation
    unit of tests/test_kernel_tree.py next to the KVM one; removed afterwards."""
    try:
        for rel in (GUEST_HEADER, KVM_HEADER):
            shutil.copyfile(REPO / "generated/linux" / rel, proof.src / rel)
        for name in ("migrn_errata_test.c", "migrn_errata_test.h"):
            shutil.copyfile(KERNEL_TESTS / name, proof.src / KVM_DIR / name)
        yield proof
    finally:
        proof.restore()


@pytest.mark.parametrize("w1", [False, True], ids=["plain", "W=1"])
def test_the_generated_headers_build_in_linux_7_3(headers_installed, w1):
    """generated/'s two headers, as `install` puts them in a 7.3 tree, build with the kernel's flags
    and -Werror (defconfig, out of tree), without a warning, and their tables are in the object."""
    proof = headers_installed
    obj = proof.root / "o-defconfig" / KVM_DIR / "migrn_errata_test.o"
    obj.unlink(missing_ok=True)
    try:
        run = proof.make("defconfig", f"{KVM_DIR}/migrn_errata_test.o", *(["W=1"] if w1 else []))
        output = run.stdout + run.stderr
        assert run.returncode == 0, output
        noise = [line for line in output.splitlines() if re.search(r"warning|error", line, re.I)]
        assert noise == [], output
        nm = subprocess.run([shutil.which(f"{CROSS_COMPILE}nm") or "nm", str(obj)], capture_output=True,
                            text=True, check=True).stdout
        assert {"migrn_safe_caps", "kvm_migrn_errata", "migrn_errata_test_fill"} <= {
            line.split()[-1] for line in nm.splitlines() if line.strip()}
    finally:
        for path in obj.parent.glob("*migrn_errata*"):
            path.unlink()
