"""The generated kernel headers compile with a host gcc against the kernel-type shim.

Both the freshly rendered headers and the committed ones under generated/ are built with
-std=gnu11 -Wall -Wextra -Werror. The shim's <asm/cputype.h> defines only a few MIDR_* models,
so the KVM header's fallback defines are exercised; a shim that defines a model with a wrong
value must make the build fail (the header's static_assert), which proves the check is real.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import GENERATED

C_DIR = Path(__file__).resolve().parent / "c"
SHIM = C_DIR / "shim"
GUEST = "linux/arch/arm64/include/asm/migrn_errata.h"
KVM = "linux/arch/arm64/kvm/migrn_errata_table.h"
CFLAGS = ["-std=gnu11", "-Wall", "-Wextra", "-Werror"]
CPUCAP_BASE = 100  # cpucap numbers differ from bit numbers, so a mix-up shows

GCC = shutil.which("gcc")
pytestmark = pytest.mark.skipif(GCC is None, reason="needs a host gcc")


@pytest.fixture(scope="module")
def cpucaps(tmp_path_factory, registry) -> tuple[Path, dict[str, int]]:
    """An include dir with the <asm/cpucaps.h> the guest header needs: ARM64_<cpucap> for every
    cpucap the errata enable, named as the newest kernel the registry follows names it (since the
    registry follows Linux 7.3.4: REPEAT_TLBI_SYNC, DISABLE_CNP, which two errata share)."""
    inc = tmp_path_factory.mktemp("cpucaps")
    caps: dict[str, int] = {}
    for e in registry.errata:
        caps.setdefault(e.enables, CPUCAP_BASE + len(caps))
    body = "".join(f"\tARM64_{name} = {value},\n" for name, value in caps.items())
    (inc / "asm").mkdir()
    (inc / "asm" / "cpucaps.h").write_text(
        "#ifndef __ASM_CPUCAPS_H\n#define __ASM_CPUCAPS_H\n"
        f"enum arm64_cpucap {{\n{body}\tARM64_NCAPS\n}};\n#endif\n")
    return inc, caps


def gcc(args: list[str], *, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([GCC, *CFLAGS, *args], capture_output=True, text=True, timeout=60)
    if check:
        assert proc.returncode == 0, f"gcc {' '.join(args)} failed:\n{proc.stderr}"
    return proc


def include_flags(tree: Path, cpucaps_dir: Path, *before: Path) -> list[str]:
    """Wrapper dirs first, then the shim, the generated asm/ dir and the KVM header's dir."""
    dirs = [*before, SHIM, cpucaps_dir, tree / "linux/arch/arm64/include", tree / "linux/arch/arm64/kvm"]
    return [f"-I{d}" for d in dirs]


def shim_models() -> set[str]:
    text = (SHIM / "asm" / "cputype.h").read_text()
    return set(re.findall(r"^#define\s+(MIDR_\w+)\s+MIDR_CPU_MODEL\(", text, re.M))


def kvm_models(header: str) -> dict[str, tuple[int, int]]:
    return {m: (int(imp, 16), int(part, 16)) for imp, part, m in re.findall(
        r"^static_assert\(MIDR_CPU_MODEL\((0x[0-9a-f]+), (0x[0-9a-f]+)\) == (MIDR_\w+)\);", header, re.M)}


@pytest.fixture(params=["fresh", "committed"])
def tree(request, fresh) -> Path:
    return fresh if request.param == "fresh" else GENERATED


def test_shim_is_deliberately_partial(fresh):
    models = kvm_models((fresh / KVM).read_text())
    have = shim_models()
    assert have, "the shim defines no MIDR_* model: the static_asserts would check nothing"
    assert have < set(models), "the shim must define some, not all, of the header's CPU models"


@pytest.mark.parametrize("header", [GUEST, KVM])
def test_header_is_self_contained(tmp_path, tree, cpucaps, header):
    src = tmp_path / "one.c"
    src.write_text(f'#include "{tree / header}"\n')
    gcc(["-fsyntax-only", *include_flags(tree, cpucaps[0]), str(src)])


def test_headers_compile_and_match_registry(tmp_path, tree, cpucaps, registry):
    exe = tmp_path / "headers"
    gcc([*include_flags(tree, cpucaps[0]), "-o", str(exe), str(C_DIR / "headers.c")])
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True, timeout=10).stdout
    caps = cpucaps[1]
    active = [e for e in registry.errata if e.active]

    got_caps = [tuple(map(int, line.split()[1:])) for line in out.splitlines() if line.startswith("cap ")]
    assert got_caps == [(e.bit, caps[e.enables]) for e in active]
    got_kvm = [int(line.split()[1]) for line in out.splitlines() if line.startswith("kvm ")]
    assert got_kvm == [e.bit for e in active]
    regs = {int(b): (int(r), int(m, 16)) for _, b, r, m in
            (line.split() for line in out.splitlines() if line.startswith("reg "))}
    assert regs == {b: (b // 64, 1 << (b % 64)) for b in (0, 63, 64, 70, 191, 255)}


def test_fallback_defines_give_registry_values(tmp_path, fresh, cpucaps, registry):
    """Every model the shim lacks is defined by the header itself, with the registry's value."""
    models = kvm_models((fresh / KVM).read_text())
    missing = sorted(set(models) - shim_models())
    assert missing
    src = tmp_path / "values.c"
    src.write_text('#include <stdio.h>\n#include "migrn_errata_table.h"\nint main(void)\n{\n'
                   + "".join(f'\tprintf("{m} %x\\n", (unsigned int){m});\n' for m in sorted(models))
                   + "\treturn 0;\n}\n")
    exe = tmp_path / "values"
    gcc([*include_flags(fresh, cpucaps[0]), "-o", str(exe), str(src)])
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True, timeout=10).stdout
    got = {name: int(value, 16) for name, value in (line.split() for line in out.splitlines())}
    by_macro = {c.macro: c.model for c in registry.cpus}
    assert got == {m: by_macro[m] for m in models}
    assert got == {m: (imp << 24) | (0xF << 16) | (part << 4) for m, (imp, part) in models.items()}


def _wrapper(tmp_path: Path, defines: str) -> Path:
    """An <asm/cputype.h> that is the shim plus extra model defines, found before the shim."""
    d = tmp_path / "wrap"
    (d / "asm").mkdir(parents=True)
    (d / "asm" / "cputype.h").write_text(
        "#ifndef WRAP_ASM_CPUTYPE_H\n#define WRAP_ASM_CPUTYPE_H\n"
        f"#include_next <asm/cputype.h>\n{defines}#endif\n")
    return d


def test_correct_extra_model_in_cputype_compiles(tmp_path, tree, cpucaps):
    """A cputype.h that already has a model (with its right value) skips the fallback cleanly."""
    wrap = _wrapper(tmp_path, "#define MIDR_CORTEX_A72 MIDR_CPU_MODEL(0x41, 0xd08)\n"
                              "#define MIDR_QCOM_KRYO MIDR_CPU_MODEL(0x51, 0x200)\n")
    gcc(["-fsyntax-only", *include_flags(tree, cpucaps[0], wrap), str(C_DIR / "headers.c")])


@pytest.mark.parametrize("defines, macro", [
    # The shim's own model, redefined with another part number.
    ("#undef MIDR_CORTEX_A57\n#define MIDR_CORTEX_A57 MIDR_CPU_MODEL(0x41, 0xd08)\n", "MIDR_CORTEX_A57"),
    # A model the shim lacks, defined with the wrong implementer.
    ("#define MIDR_CORTEX_A72 MIDR_CPU_MODEL(0x42, 0xd08)\n", "MIDR_CORTEX_A72"),
])
def test_wrong_model_value_fails_the_build(tmp_path, tree, cpucaps, defines, macro):
    wrap = _wrapper(tmp_path, defines)
    proc = gcc(["-fsyntax-only", *include_flags(tree, cpucaps[0], wrap), str(C_DIR / "headers.c")],
               check=False)
    assert proc.returncode != 0, "a wrong MIDR value in <asm/cputype.h> compiled"
    assert "static assertion failed" in proc.stderr
    assert re.search(rf'== {macro}"', proc.stderr), proc.stderr


def test_guest_header_needs_every_cpucap(tmp_path, fresh, registry):
    """The cpucap table really names ARM64_<name>: a cpucaps.h missing one fails."""
    inc = tmp_path / "inc"
    (inc / "asm").mkdir(parents=True)
    names = list(dict.fromkeys(e.enables for e in registry.errata))[1:]
    (inc / "asm" / "cpucaps.h").write_text(
        "enum arm64_cpucap {\n" + "".join(f"\tARM64_{n},\n" for n in names) + "};\n")
    proc = gcc(["-fsyntax-only", *include_flags(fresh, inc), str(C_DIR / "headers.c")], check=False)
    assert proc.returncode != 0
    assert f"ARM64_{registry.errata[0].enables}" in proc.stderr
