"""The generated Python module: stdlib only, its API, and its matching against the kernel's rule.

Every test runs on the module rendered now from errata-db/ and on the committed
generated/python/migrn_errata.py.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import GENERATED

MODULE = "python/migrn_errata.py"
EXPORT = "json/errata.json"
A53_R0P4 = 0x410FD034
A76_R0P0 = 0x410FD0B0


def import_by_path(path: Path, name: str):
    """The plain recipe, without registering the module in sys.modules first."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=["fresh", "committed"])
def tree(request, fresh) -> Path:
    return fresh if request.param == "fresh" else GENERATED


@pytest.fixture(scope="module")
def mod(tree):
    return import_by_path(tree / MODULE, f"_test_migrn_errata_{abs(hash(str(tree)))}")


def bit_of(mod, name: str) -> int:
    return next(e.bit for e in mod.ERRATA if e.name == name)


def names(errata) -> set[str]:
    return {e.name for e in errata}


# --- stdlib only ----------------------------------------------------------------------------

BLOCKED = ("errata_db", "jinja2", "markupsafe", "ruamel", "jsonschema", "yaml")

STDLIB_ONLY = textwrap.dedent(f"""
    import importlib.abc, importlib.util, sys

    BLOCKED = {BLOCKED!r}

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError("blocked: " + name)
            return None

    sys.meta_path.insert(0, Block())
    spec = importlib.util.spec_from_file_location("migrn_errata", sys.argv[1])
    mod = importlib.util.module_from_spec(spec)
    sys.modules["migrn_errata"] = mod
    spec.loader.exec_module(mod)
    print(len(mod.ERRATA), [e.name for e in mod.errata_for_cpu({A53_R0P4:#x})][:2],
          mod.registers(mod.bitmap_for_cpus([({A53_R0P4:#x}, 0)]))[0])
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not loaded, loaded
""")


def test_imports_by_path_with_only_the_stdlib(tree, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    proc = subprocess.run([sys.executable, "-I", "-c", STDLIB_ONLY, str(tree / MODULE)],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=30)
    assert proc.returncode == 0, proc.stderr
    count, rest = proc.stdout.split(" ", 1)
    assert int(count) > 0 and "WORKAROUND_CLEAN_CACHE" not in rest  # r0p4 is past CLEAN_CACHE
    assert "WORKAROUND_843419" in rest


def test_source_imports_only_stdlib_modules(tree):
    text = (tree / MODULE).read_text()
    imported = {line.split()[1].split(".")[0] for line in text.splitlines()
                if line.startswith(("import ", "from "))}
    assert imported <= {"__future__", "bisect", "dataclasses", "typing", "collections", "functools", "re"}, imported


# --- API semantics on kernel facts ----------------------------------------------------------


def test_errata_match_the_registry(mod, registry):
    assert [(e.name, e.bit, e.status) for e in mod.ERRATA] == \
        [(e.name, e.bit, e.status) for e in registry.errata]
    assert list(mod.REGISTERS) == ["R0", "R1", "R2", "R3"]
    assert mod.REGISTER_BITS == 64
    for name in mod.__all__:
        assert hasattr(mod, name), name
    e = mod.ERRATA[0]
    assert e.register == e.bit // 64
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.bit = 1


def test_843419_revidr_fix(mod):
    bit = bit_of(mod, "WORKAROUND_843419")
    assert "WORKAROUND_843419" in names(mod.errata_for_cpu(A53_R0P4))
    assert "WORKAROUND_843419" in names(mod.errata_for_cpu(A53_R0P4, 0))
    assert "WORKAROUND_843419" not in names(mod.errata_for_cpu(A53_R0P4, 1 << 8))
    assert "WORKAROUND_843419" not in names(mod.errata_for_cpu(A53_R0P4, 0xFFFFFFFF))
    assert "WORKAROUND_843419" in names(mod.errata_for_cpu(A53_R0P4, 0xFFFFFEFF))
    # The fix is of r0p4 only: on r0p3 the same REVIDR bit changes nothing.
    assert "WORKAROUND_843419" in names(mod.errata_for_cpu(0x410FD033, 1 << 8))
    # r0p5 is past the range.
    assert "WORKAROUND_843419" not in names(mod.errata_for_cpu(0x410FD035))
    assert mod.bitmap_for_cpus([(A53_R0P4, 0x100)]) >> bit & 1 == 0
    assert mod.bitmap_for_cpus([A53_R0P4]) >> bit & 1 == 1


def test_a53_revision_ranges(mod):
    # 826319 and friends: r0p0..r0p2.
    assert "WORKAROUND_CLEAN_CACHE" in names(mod.errata_for_cpu(0x410FD032))
    assert "WORKAROUND_CLEAN_CACHE" not in names(mod.errata_for_cpu(0x410FD033))
    # Architecture field other than 0xf: not an A53 at all.
    assert mod.errata_for_cpu(0x410ED034) == []
    assert mod.errata_for_cpu(0x420FD034) == []


def test_kryo_part_family(mod):
    """Kryo: any QCOM part 0x2xx, any revision (the kernel's is_kryo_midr)."""
    kryo = {"WORKAROUND_QCOM_FALKOR_E1003", "WORKAROUND_REPEAT_TLBI"}
    for part in (0x200, 0x201, 0x211, 0x2FF):
        for vr in (0x000000, 0x00F0000F, 0x00A00004):
            midr = 0x510F0000 | part << 4 | vr
            assert names(mod.errata_for_cpu(midr)) == kryo, hex(midr)
    for part in (0x100, 0x300, 0x600, 0xA00):
        assert mod.errata_for_cpu(0x510F0000 | part << 4) == [], hex(part)
    # Another implementer's 0x2xx is not a Kryo.
    assert mod.errata_for_cpu(0x410F2110) == []
    # Falkor v1 (0x800) r0p0 has E1003 by its own entry, r0p1 does not.
    assert "WORKAROUND_QCOM_FALKOR_E1003" in names(mod.errata_for_cpu(0x510F8000))
    assert "WORKAROUND_QCOM_FALKOR_E1003" not in names(mod.errata_for_cpu(0x510F8001))
    # Kryo 2xx Silver r10p4 has 845719.
    assert "WORKAROUND_845719" in names(mod.errata_for_cpu(0x51AF8014))
    assert "WORKAROUND_845719" not in names(mod.errata_for_cpu(0x51AF8013))


def test_model_mask_is_the_midr_bits_an_entry_of_that_part_mask_compares(mod):
    assert mod.model_mask(0xFFF) == 0xFF0FFFF0
    assert mod.model_mask(0xF00) == 0xFF0FF000  # is_kryo_midr: implementer, architecture, 0x2xx
    kryo = 0x510F2000
    for midr in (0x510F2010, 0x51AF2FF4):
        assert midr & mod.model_mask(0xF00) == kryo & mod.model_mask(0xF00)
        assert names(mod.errata_for_cpu(midr)) == {"WORKAROUND_QCOM_FALKOR_E1003", "WORKAROUND_REPEAT_TLBI"}
    assert 0x410F2010 & mod.model_mask(0xF00) != kryo & mod.model_mask(0xF00)


def test_bitmap_is_union_over_cpus(mod):
    a53 = mod.bitmap_for_cpus([A53_R0P4])
    a76 = mod.bitmap_for_cpus([(A76_R0P0, 1)])
    assert a53 and a76 and a53 & a76 == 0
    assert mod.bitmap_for_cpus([A53_R0P4, (A76_R0P0, 1)]) == a53 | a76
    assert mod.bitmap_for_cpus([]) == 0
    assert mod.bitmap_for_cpus(iter([A53_R0P4, A53_R0P4])) == a53


def test_registers_split(mod):
    assert mod.registers(0) == (0, 0, 0, 0)
    assert mod.registers(1 << 70) == (0, 1 << 6, 0, 0)
    assert mod.registers(1 << 0 | 1 << 63 | 1 << 64 | 1 << 191 | 1 << 255) == \
        (1 | 1 << 63, 1, 1 << 63, 1 << 63)
    assert mod.registers((1 << 256) - 1) == (2**64 - 1,) * 4


def test_errata_from_registers_round_trip(mod):
    rng = random.Random(7)
    known = [e.bit for e in mod.ERRATA]
    for _ in range(200):
        chosen = rng.sample(known, rng.randint(0, len(known)))
        bitmap = sum(1 << b for b in chosen)
        got = mod.errata_from_registers(*mod.registers(bitmap))
        assert [e.bit for e in got] == sorted(chosen)
    # Unknown bits are ignored.
    assert mod.errata_from_registers(0, 1 << 6, 0, 1 << 63) == []
    e = mod.errata_from_registers(*mod.registers(mod.bitmap_for_cpus([A53_R0P4])))
    assert e == mod.errata_for_cpu(A53_R0P4)


@pytest.mark.parametrize("call", [
    lambda m: m.errata_for_cpu(-1),
    lambda m: m.errata_for_cpu(1 << 32),
    lambda m: m.errata_for_cpu("0x410fd034"),
    lambda m: m.errata_for_cpu(1.0),
    lambda m: m.errata_for_cpu(True),
    lambda m: m.errata_for_cpu(A53_R0P4, -1),
    lambda m: m.errata_for_cpu(A53_R0P4, 1 << 32),
    lambda m: m.errata_for_cpu(A53_R0P4, None),
    lambda m: m.bitmap_for_cpus([1 << 32]),
    lambda m: m.bitmap_for_cpus([(A53_R0P4, -1)]),
    lambda m: m.bitmap_for_cpus([(A53_R0P4, "1")]),
    lambda m: m.registers(-1),
    lambda m: m.registers(1 << 256),
    lambda m: m.registers(True),
    lambda m: m.registers(1.5),
    lambda m: m.errata_from_registers(0, 0, 0),
    lambda m: m.errata_from_registers(0, 0, 0, 0, 0),
    lambda m: m.errata_from_registers(1 << 64, 0, 0, 0),
    lambda m: m.errata_from_registers(0, -1, 0, 0),
    lambda m: m.errata_from_registers(0, 0, False, 0),
])
def test_bad_inputs_raise_value_error(mod, call):
    with pytest.raises(ValueError):
        call(mod)


# --- an independent reference matcher from the JSON export ----------------------------------


def fields(midr: int) -> dict[str, int]:
    return {"implementer": midr >> 24 & 0xFF, "variant": midr >> 20 & 0xF,
            "architecture": midr >> 16 & 0xF, "part": midr >> 4 & 0xFFF, "revision": midr & 0xF}


def reference_bits(export: dict, midr: int, revidr: int) -> set[int]:
    """The kernel's rule, spelled field by field from the JSON export."""
    cpu = fields(midr)
    bits = set()
    for e in export["errata"]:
        if e["status"] != "active":
            continue
        for a in e["affects"]:
            model = fields(a["model"])
            mask = 0xFFF if a["part_mask"] is None else a["part_mask"]
            if (cpu["implementer"], cpu["architecture"]) != (model["implementer"], 0xF):
                continue
            if cpu["part"] & mask != model["part"] & mask:
                continue
            low = (a["rv_min"] >> 20, a["rv_min"] & 0xF)
            high = (a["rv_max"] >> 20, a["rv_max"] & 0xF)
            rev = (cpu["variant"], cpu["revision"])
            if not low <= rev <= high:
                continue
            if any(f"r{rev[0]}p{rev[1]}" == fix["revision"] and revidr & fix["mask"]
                   for fix in a["revidr_fixes"]):
                continue
            bits.add(e["bit"])
    return bits


def test_module_matches_reference_matcher(tree, mod):
    export = json.loads((tree / EXPORT).read_text())
    rng = random.Random(0xA53)
    models = [c["model"] for c in export["cpus"]] + [0x510F2000 | p << 4 for p in (0x01, 0x55, 0xFF)]
    masks = [f["mask"] for e in export["errata"] for a in e["affects"] for f in a["revidr_fixes"]]
    cases = [(rng.getrandbits(32), rng.getrandbits(32)) for _ in range(1500)]
    for _ in range(3000):
        midr = rng.choice(models) | rng.randrange(16) << 20 | rng.randrange(16)
        if rng.random() < 0.1:
            midr ^= 1 << rng.randrange(32)
        cases.append((midr, rng.choice([0, rng.getrandbits(32), rng.choice(masks)])))
    affected = 0
    for midr, revidr in cases:
        want = reference_bits(export, midr, revidr)
        got = {e.bit for e in mod.errata_for_cpu(midr, revidr)}
        assert got == want, f"MIDR {midr:#010x} REVIDR {revidr:#010x}"
        affected += bool(want)
    assert affected > 500


def test_lookup_by_pieces_matches_a_scan_of_every_range(mod, monkeypatch):
    """The module bisects a model's precomputed pieces; a scan of its ranges must agree, also
    where ranges of one bit overlap or abut and where REVIDR fixes apply."""
    rng = random.Random(0xD03)
    model = 0x410FD030
    compared = set()
    for _ in range(150):
        rows = []
        for _ in range(rng.randrange(1, 10)):
            bit = rng.randrange(6)  # few bits, so that one bit's ranges often overlap
            lo, hi = sorted(rng.randrange(4) << 20 | rng.randrange(6) for _ in range(2))
            fixes = ()
            if rng.random() < 0.3:
                fixes = ((rng.choice([lo, hi]), rng.choice([1, 2])),)
            rows.append((bit, lo, hi, fixes))
        monkeypatch.setattr(mod, "_MODEL_MASKS", ((0xFF0FFFF0, {model: tuple(sorted(rows))}, {}),))
        for v in range(5):
            for r in range(7):
                rv = v << 20 | r
                for revidr in (0, 1, 2):
                    want = 0
                    for bit, lo, hi, fixes in rows:
                        if lo <= rv <= hi and not any(rv == f and revidr & m for f, m in fixes):
                            want |= 1 << bit
                    assert mod.bitmap_for_cpus([(model | rv, revidr)]) == want, (rows, rv, revidr)
                    compared.add(want)
    assert len(compared) > 30


def test_export_describes_the_module(tree, mod):
    export = json.loads((tree / EXPORT).read_text())
    assert [(e["name"], e["bit"]) for e in export["errata"]] == [(e.name, e.bit) for e in mod.ERRATA]
    assert export["bit_space"]["registers"] == list(mod.REGISTERS)
    for e in export["errata"]:
        assert e["register"] == f"R{e['bit'] // 64}" and e["register_bit"] == e["bit"] % 64
