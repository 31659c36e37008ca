"""Differential test: the generated KVM walker (C) and the generated Python module agree.

tests/c/walk.c runs kvm_migrn_errata_fill() from a freshly rendered KVM header on CPUs read
from stdin; the freshly rendered Python module computes the same R0-R3 for the same CPUs.
The CPUs are the edges of every range of every active erratum (bounds and their neighbours in
variant/revision space, REVIDR fix masks, part-family members and non-members, implementer and
architecture mismatches) and a few thousand seeded random values.
"""

from __future__ import annotations

import importlib.util
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from errata_db.model import Registry

C_DIR = Path(__file__).resolve().parent / "c"
SHIM = C_DIR / "shim"
SEED = 0x5EED_E22A
RANDOM_PAIRS = 2500
BIASED_PAIRS = 2500
MULTI_SETS = 1500
U32 = 0xFFFFFFFF

GCC = shutil.which("gcc")
pytestmark = pytest.mark.skipif(GCC is None, reason="needs a host gcc")


# --- fixtures: render, compile, import ------------------------------------------------------


@pytest.fixture(scope="module")
def cpucaps_dir(tmp_path_factory, registry) -> Path:
    """An include dir with the <asm/cpucaps.h> the guest header needs."""
    out = tmp_path_factory.mktemp("cpucaps")
    (out / "asm").mkdir()
    (out / "asm" / "cpucaps.h").write_text(
        "enum arm64_cpucap {\n"
        + "".join(f"\tARM64_{name},\n" for name in dict.fromkeys(e.enables for e in registry.errata)) + "};\n")
    return out


@pytest.fixture(scope="module")
def walk(fresh, cpucaps_dir, tmp_path_factory) -> Path:
    exe = tmp_path_factory.mktemp("walk") / "walk"
    cmd = [GCC, "-std=gnu11", "-O1", "-Wall", "-Wextra", "-Werror", f"-I{SHIM}", f"-I{cpucaps_dir}",
           f"-I{fresh / 'linux/arch/arm64/include'}", f"-I{fresh / 'linux/arch/arm64/kvm'}",
           "-o", str(exe), str(C_DIR / "walk.c")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return exe


@pytest.fixture(scope="module")
def pymod(fresh):
    path = fresh / "python" / "migrn_errata.py"
    name = "_differential_migrn_errata"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(name, None)


def run_walk(exe: Path, mode: str, lines: list[str]) -> list[tuple[int, int, int, int]]:
    proc = subprocess.run([str(exe), mode], input="".join(lines), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert len(out) == len(lines)
    return [tuple(int(v, 16) for v in line.split()) for line in out]


# --- the CPUs compared ----------------------------------------------------------------------


def midr_of(model: int, variant: int, revision: int) -> int:
    return model | variant << 20 | revision


def neighbours(rev: tuple[int, int]) -> list[tuple[int, int]]:
    """The revisions just before and after rev in MIDR variant/revision order (r0p15 -> r1p0)."""
    index = rev[0] * 16 + rev[1]
    return [divmod(i, 16) for i in (index - 1, index + 1) if 0 <= i <= 0xFF]


def edge_pairs(reg: Registry, rng: random.Random) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int]] = []
    for e in reg.errata:
        if not e.active:
            continue
        for a in e.affects:
            model = a.cpu.model
            bounds = [a.low, a.high]
            revs = {*bounds, *(n for b in bounds for n in neighbours(b))}
            for v, r in sorted(revs):
                pairs += [(midr_of(model, v, r), 0), (midr_of(model, v, r), rng.getrandbits(32))]
            for fix in a.revidr_fixes:
                at = [fix.revision, *neighbours(fix.revision)]
                for v, r in at:
                    midr = midr_of(model, v, r)
                    other = U32 & ~fix.mask
                    pairs += [(midr, 0), (midr, fix.mask), (midr, other), (midr, U32),
                              (midr, fix.mask | (rng.getrandbits(32) & other)),
                              (midr, rng.getrandbits(32) & other)]
                    pairs += [(midr, 1 << b) for b in range(32) if fix.mask >> b & 1]
            for v, r in bounds:
                base = midr_of(model, v, r)
                # Every other part number one bit away, and every other implementer one bit away.
                pairs += [(base ^ (1 << (4 + b)), 0) for b in range(12)]
                pairs += [(base ^ (1 << (24 + b)), 0) for b in range(8)]
                # The architecture field must be 0xf.
                pairs += [((base & ~(0xF << 16)) | arch << 16, 0) for arch in range(0xF)]
                if a.part_mask is not None:
                    part = a.cpu.part
                    free = 0xFFF & ~a.part_mask
                    inside = {part, part | free, part & ~free, *(part & ~free | rng.getrandbits(12) & free
                                                                 for _ in range(8))}
                    outside = {p ^ (1 << b) for p in inside for b in range(12) if a.part_mask >> b & 1}
                    for p in sorted(inside | outside):
                        pairs.append(((base & ~(0xFFF << 4)) | p << 4, 0))
    return pairs


def known_models(reg: Registry) -> list[int]:
    models = {c.model for c in reg.cpus}
    for e in reg.errata:
        for a in e.affects:
            if a.part_mask is not None:
                models |= {a.cpu.model | (p << 4) for p in range(0x1000) if p & a.part_mask == a.cpu.part}
    return sorted(models)


def biased_cpu(reg: Registry, models: list[int], rng: random.Random) -> tuple[int, int]:
    model = rng.choice(models)
    midr = midr_of(model, rng.randrange(16), rng.randrange(16))
    masks = [f.mask for e in reg.errata for a in e.affects for f in a.revidr_fixes]
    revidr = rng.choice([0, 0, rng.getrandbits(32), rng.choice(masks), rng.choice(masks) | rng.getrandbits(32)])
    if rng.random() < 0.3:  # a fix's exact revision
        fix = rng.choice([(a.cpu.model, f) for e in reg.errata for a in e.affects for f in a.revidr_fixes])
        midr = midr_of(fix[0], *fix[1].revision)
    return midr, revidr


def all_pairs(reg: Registry) -> list[tuple[int, int]]:
    rng = random.Random(SEED)
    pairs = edge_pairs(reg, rng)
    pairs += [(rng.getrandbits(32), rng.getrandbits(32)) for _ in range(RANDOM_PAIRS)]
    models = known_models(reg)
    pairs += [biased_cpu(reg, models, rng) for _ in range(BIASED_PAIRS)]
    # The extremes.
    pairs += [(0, 0), (U32, 0), (0, U32), (U32, U32)]
    return pairs


# --- tests ----------------------------------------------------------------------------------


def test_single_cpu_walker_matches_python_module(registry, walk, pymod, record_property):
    pairs = all_pairs(registry)
    c_regs = run_walk(walk, "single", [f"{m:x} {r:x}\n" for m, r in pairs])
    mismatches = []
    affected = 0
    for (midr, revidr), got in zip(pairs, c_regs):
        bitmap = pymod.bitmap_for_cpus([(midr, revidr)])
        want = pymod.registers(bitmap)
        affected += bool(bitmap)
        if got != want:
            mismatches.append(f"MIDR {midr:#010x} REVIDR {revidr:#010x}: C {[hex(v) for v in got]} "
                              f"Python {[hex(v) for v in want]}")
        # errata_for_cpu is the same lookup, seen as a list.
        assert [e.bit for e in pymod.errata_for_cpu(midr, revidr)] == \
            [b for b in range(256) if bitmap >> b & 1]
    n = len(pairs)
    print(f"differential: {n} (MIDR, REVIDR) pairs compared ({len(set(pairs))} distinct, "
          f"{affected} with errata)")
    record_property("differential_pairs", n)
    assert not mismatches, f"{len(mismatches)} of {n} pairs differ:\n" + "\n".join(mismatches[:20])
    assert n > 3000
    # The inputs must exercise both sides: many CPUs with errata, many without.
    assert affected > 1000 and n - affected > 1000


def test_multi_cpu_walker_matches_python_module(registry, walk, pymod, record_property):
    rng = random.Random(SEED + 1)
    models = known_models(registry)
    sets = []
    for _ in range(MULTI_SETS):
        cpus = [biased_cpu(registry, models, rng) if rng.random() < 0.8 else (rng.getrandbits(32), rng.getrandbits(32))
                for _ in range(rng.randint(2, 4))]
        sets.append(cpus)
    lines = [f"{len(cpus)} " + " ".join(f"{m:x} {r:x}" for m, r in cpus) + "\n" for cpus in sets]
    c_regs = run_walk(walk, "multi", lines)
    bad = [(cpus, got) for cpus, got in zip(sets, c_regs)
           if got != pymod.registers(pymod.bitmap_for_cpus(cpus))]
    print(f"differential: {len(sets)} multi-CPU sets compared")
    record_property("differential_sets", len(sets))
    assert not bad, f"{len(bad)} sets differ, first: {bad[0]}"
    # A set's bitmap is the union of its CPUs' bitmaps.
    for cpus in sets[:200]:
        union = 0
        for cpu in cpus:
            union |= pymod.bitmap_for_cpus([cpu])
        assert pymod.bitmap_for_cpus(cpus) == union


def test_walker_sets_known_bits(walk, pymod):
    """Anchor the comparison on kernel facts, so that two equally wrong sides cannot agree."""
    a53_r0p4 = 0x410FD034
    regs = run_walk(walk, "single", [f"{a53_r0p4:x} 0\n", f"{a53_r0p4:x} 100\n", "0 0\n"])
    bit = next(e.bit for e in pymod.ERRATA if e.name == "WORKAROUND_843419")
    assert regs[0][bit // 64] >> (bit % 64) & 1
    assert not regs[1][bit // 64] >> (bit % 64) & 1
    assert regs[2] == (0, 0, 0, 0)
    # An empty set has no errata, and the walker clears poisoned registers.
    assert pymod.bitmap_for_cpus([]) == 0


def test_walker_rejects_malformed_input(walk):
    proc = subprocess.run([str(walk), "single"], input="410fd034 zz\n", capture_output=True, text=True,
                          timeout=10)
    assert proc.returncode == 2 and "malformed" in proc.stderr
