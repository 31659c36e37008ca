"""The proof that the registry's kernel table is 6.12's own: build arch/arm64/kernel/cpu_errata.o
from the pristine Linux 6.12 tree and from the tree after `errata-db install --kernel-tables`, in
three configurations, and compare the two arm64_errata symbols deep-equal (tests/elf_deep_equal.py).
Then widen one range of the registry: the rebuilt table must differ, and the test says where.

Slow, and deselected by default: run with `-m slow`. The trees come from $ERRATA_DB_LINUX_PROOF,
prepared by tests/kernel/prepare-proof.sh (a pristine extraction, a hard-link copy the tables are
installed in, and one prepared out-of-tree build directory per configuration):

    tests/kernel/prepare-proof.sh /path/to/proof
    ERRATA_DB_LINUX_PROOF=/path/to/proof python -m pytest -m slow tests/test_kernel_tables_linux.py

The copy keeps one path, so each build directory serves the pristine and the converted sources
and only cpu_errata.o is rebuilt; the copy gets its pristine files back afterwards.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from conftest import REPO, run_cli

pytestmark = pytest.mark.slow

PROOF_ENV = "ERRATA_DB_LINUX_PROOF"
CONFIGS = ("errata-on", "errata-off", "defconfig")
CROSS_COMPILE = os.environ.get("CROSS_COMPILE", "aarch64-linux-gnu-")
KERNEL = "arch/arm64/kernel"
CPU_ERRATA = f"{KERNEL}/cpu_errata.c"
HEADER = f"{KERNEL}/cpu_errata_table.h"
OBJECT = f"{KERNEL}/cpu_errata.o"
CORESIGHT = ("CORESIGHT", "CORESIGHT_SOURCE_ETM4X", "CORESIGHT_TRBE")  # the TRBE errata depend on them
# Options no configuration can turn on: 6.12 marks ARM64_SME, which this one depends on, BROKEN.
CANNOT_BE_ON = {"ARM64_ERRATUM_4193714"}
# The range widened for the second check: Neoverse-N1 of erratum 1418040, r0p0..r3p1 -> r0p0..r4p0.
NARROW = "      - cpu: neoverse-n1\n        revisions: r0p0..r3p1\n"
WIDE = "      - cpu: neoverse-n1\n        revisions: r0p0..r4p0\n"


class ProofSkipped(pytest.PytestWarning):
    """The kernel table proof did not run (shown in pytest's warnings summary)."""


def _loud_skip(reason: str, config: pytest.Config) -> None:
    text = f"SKIPPING the kernel table proof ({__name__}): {reason}"
    capture = config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\n*** {text}", file=sys.stderr, flush=True)
    warnings.warn(ProofSkipped(text), stacklevel=2)
    pytest.skip(reason)


class Proof:
    """The prepared trees, and cpu_errata.o built from the copy in a given state."""

    def __init__(self, root: Path, work: Path):
        self.root, self.src, self.pristine, self.work = root, root / "src", root / "pristine", work

    def restore(self) -> None:
        """The copy's pristine cpu_errata.c back, and no generated table."""
        (self.src / HEADER).unlink(missing_ok=True)
        (self.src / CPU_ERRATA).unlink(missing_ok=True)
        os.link(self.pristine / CPU_ERRATA, self.src / CPU_ERRATA)

    def install(self, registry: Path) -> None:
        result = run_cli("install", "--kernel-tree", str(self.src), "--registry", str(registry),
                         "--kernel-tables", cwd=REPO)
        assert result.code == 0, result.err

    def build(self, config: str, label: str) -> Path:
        out = self.root / f"o-{config}"
        (out / OBJECT).unlink(missing_ok=True)
        run = subprocess.run(["make", "-C", str(self.src), f"O={out}", "ARCH=arm64",
                              f"CROSS_COMPILE={CROSS_COMPILE}", "KCFLAGS=-Werror", OBJECT],
                             capture_output=True, text=True, timeout=900)
        assert run.returncode == 0, f"make {OBJECT} ({config}, {label}) failed:\n{run.stdout[-3000:]}{run.stderr[-3000:]}"
        dest = self.work / f"{config}-{label}.o"
        shutil.copyfile(out / OBJECT, dest)
        return dest


@pytest.fixture(scope="session")
def proof(request, tmp_path_factory):
    value = os.environ.get(PROOF_ENV)
    if not value:
        _loud_skip(f"${PROOF_ENV} is not set (prepare one with tests/kernel/prepare-proof.sh DIR)", request.config)
    root = Path(value).resolve()
    missing = [p for p in ("pristine/Makefile", "src/Makefile", *(f"o-{c}/.proof-ready" for c in CONFIGS))
               if not (root / p).is_file()]
    if missing:
        _loud_skip(f"{root} is not prepared (missing {', '.join(missing)}): run "
                   f"tests/kernel/prepare-proof.sh {root}", request.config)
    if shutil.which(f"{CROSS_COMPILE}gcc") is None:
        _loud_skip(f"{CROSS_COMPILE}gcc not found", request.config)
    lock = open(root / ".proof-lock", "w")  # noqa: SIM115 - held for the session
    fcntl.flock(lock, fcntl.LOCK_EX)
    p = Proof(root, tmp_path_factory.mktemp("objects"))
    p.restore()
    yield p
    p.restore()
    lock.close()


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
    assert [o for o in (*options, *CORESIGHT) if on.get(o) != "y"] == sorted(CANNOT_BE_ON)
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
    run = subprocess.run(["perl", str(proof.pristine / "scripts/checkpatch.pl"), "--strict", "--no-tree",
                          "--show-types", str(patch)], capture_output=True, text=True, cwd=proof.pristine,
                         env={**os.environ, "LC_ALL": "C"}, timeout=300)
    found = re.findall(r"^(ERROR|WARNING|CHECK):(\w+):", run.stdout, re.M)
    # A new file always asks whether MAINTAINERS needs updating; arch/arm64/ is the ARM64 PORT's.
    assert found == [("WARNING", "FILE_PATH_CHANGES")], run.stdout
    assert "\nF:\tarch/arm64/\n" in (proof.pristine / "MAINTAINERS").read_text()
