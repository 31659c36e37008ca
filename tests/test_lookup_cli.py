"""`errata-db lookup` and `errata-db bitmap`: output on known CPUs, and bad numbers."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import pytest

from conftest import REGISTRY, REPO, run_cli
from errata_db.lookup import lookup_module, unknown_cpu

A53_R0P4 = "0x410fd034"
A76_R0P0 = "0x410fd0b0"
# Linux 6.12: a Cortex-A53 r0p4 has 843419 (unless REVIDR bit 8) and 845719; a Cortex-A76
# r0p0 has REPEAT_TLBI (1286807), 1418040, SPECULATIVE_AT, 1463225 and SPECULATIVE_SSBS.
A53_BITS = {3: "WORKAROUND_843419", 4: "WORKAROUND_845719"}
A76_BITS = {9: "WORKAROUND_REPEAT_TLBI", 11: "WORKAROUND_1418040", 12: "WORKAROUND_SPECULATIVE_AT",
            13: "WORKAROUND_1463225", 30: "WORKAROUND_SPECULATIVE_SSBS"}


def cli(*args: str):
    return run_cli(*args, "--registry", str(REGISTRY))


def test_lookup_text():
    r = cli("lookup", "--midr", A53_R0P4)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == "MIDR 0x410fd034 REVIDR 0x00000000 (Cortex-A53 r0p4): 2 errata"
    assert [line.split()[:4] for line in lines[1:]] == \
        [["bit", str(b), "R0", name] for b, name in A53_BITS.items()]
    assert "ARM 843419" in lines[1]


def test_lookup_json():
    r = cli("lookup", "--midr", A53_R0P4, "--format", "json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert (doc["midr"], doc["revidr"]) == (0x410FD034, 0)
    assert {e["bit"]: e["name"] for e in doc["errata"]} == A53_BITS
    first = doc["errata"][0]
    assert set(first) == {"name", "bit", "register", "register_bit", "status", "vendor", "errata_ids",
                          "description"}
    assert (first["register"], first["register_bit"], first["vendor"], first["errata_ids"], first["status"]) == \
        ("R0", 3, "ARM", ["843419"], "active")


def test_lookup_revidr_fix_and_unknown_cpu():
    r = cli("lookup", "--midr", A53_R0P4, "--revidr", "0x100", "--format", "json")
    assert r.code == 0
    assert [e["name"] for e in json.loads(r.out)["errata"]] == ["WORKAROUND_845719"]
    r = cli("lookup", "--midr", "0x00000000")
    assert r.code == 0
    assert r.out.splitlines() == [
        "MIDR 0x00000000 REVIDR 0x00000000: not in cpus.yaml",
        "  warning: MIDR 0x00000000 (implementer 0x00, part 0x000) is not in cpus.yaml: the registry "
        "knows no errata for it, which does not mean it has none [unknown-cpu]"]
    # Decimal works too.
    assert cli("lookup", "--midr", str(0x410FD034), "--format", "json").out == \
        cli("lookup", "--midr", A53_R0P4, "--format", "json").out


def test_lookup_of_a_kryo_part_missing_from_cpus_yaml_lists_its_family_errata():
    r = cli("lookup", "--midr", "0x510f2010")
    assert r.code == 0
    lines = r.out.splitlines()
    assert lines[0] == "MIDR 0x510f2010 REVIDR 0x00000000: 2 errata, not in cpus.yaml"
    assert [line.split()[3] for line in lines[1:3]] == ["WORKAROUND_QCOM_FALKOR_E1003", "WORKAROUND_REPEAT_TLBI"]
    assert "it matches the part family of Kryo" in lines[3]


def test_the_part_family_an_unknown_cpu_matches_is_the_lookup_module_s_match(registry):
    """The words for an unknown CPU take the module's model_mask, not a copy of it: with another
    mask in the module, they change with it."""
    module = lookup_module(registry)
    assert "it matches the part family of Kryo" in unknown_cpu(registry, module, 0x510F2010)
    whole_part = types.SimpleNamespace(model_mask=lambda part_mask: module.model_mask(0xFFF))
    assert "part family" not in unknown_cpu(registry, whole_part, 0x510F2010)


def test_lookup_uses_the_checkout_registry_by_default():
    r = run_cli("lookup", "--midr", A53_R0P4, "--format", "json", cwd=REPO)
    assert r.code == 0
    assert r.out == cli("lookup", "--midr", A53_R0P4, "--format", "json").out


def test_bitmap_json_registers():
    r = cli("bitmap", "--cpu", A53_R0P4, "--cpu", f"{A76_R0P0}:0x1", "--format", "json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    bits = {**A53_BITS, **A76_BITS}
    bitmap = sum(1 << b for b in bits)
    assert doc["cpus"] == [{"midr": 0x410FD034, "revidr": 0}, {"midr": 0x410FD0B0, "revidr": 1}]
    assert doc["bitmap"] == hex(bitmap) == "0x40003a18"
    assert doc["registers"] == {"R0": f"{bitmap:#018x}", "R1": "0x" + "0" * 16,
                                "R2": "0x" + "0" * 16, "R3": "0x" + "0" * 16}
    assert {e["bit"]: e["name"] for e in doc["errata"]} == bits


def test_bitmap_text():
    r = cli("bitmap", "--cpu", A53_R0P4, "--cpu", f"{A76_R0P0}:0x1")
    assert r.code == 0
    lines = r.out.splitlines()
    assert lines[:4] == ["R0 = 0x0000000040003a18", "R1 = 0x0000000000000000",
                         "R2 = 0x0000000000000000", "R3 = 0x0000000000000000"]
    assert lines[4] == "7 errata for 2 CPU(s)"


def test_bitmap_revidr_fix_applies_per_cpu():
    """A fixed A53 next to an unfixed one: the VM may run on the unfixed one, so the bit is set."""
    fixed = json.loads(cli("bitmap", "--cpu", f"{A53_R0P4}:0x100", "--format", "json").out)
    both = json.loads(cli("bitmap", "--cpu", f"{A53_R0P4}:0x100", "--cpu", A53_R0P4, "--format", "json").out)
    assert fixed["bitmap"] == hex(1 << 4)
    assert both["bitmap"] == hex(1 << 3 | 1 << 4)


@pytest.mark.parametrize("args, message", [
    (["lookup", "--midr", "zz"], "--midr 'zz' is not a number"),
    (["lookup", "--midr", "0x1ffffffff"], "--midr '0x1ffffffff' does not fit in 32 bits"),
    (["lookup", "--midr", "-1"], "--midr '-1' does not fit in 32 bits"),
    (["lookup", "--midr", ""], "--midr '' is not a number"),
    (["lookup", "--midr", A53_R0P4, "--revidr", "0x100000000"], "--revidr '0x100000000' does not fit"),
    (["lookup", "--midr", A53_R0P4, "--revidr", "1.5"], "--revidr '1.5' is not a number"),
    (["bitmap", "--cpu", "0x41:zz"], "--cpu REVIDR 'zz' is not a number"),
    (["bitmap", "--cpu", "zz:0x1"], "--cpu MIDR 'zz' is not a number"),
    (["bitmap", "--cpu", A53_R0P4, "--cpu", "0x100000000"], "--cpu MIDR '0x100000000' does not fit"),
    (["bitmap", "--cpu", "0x41:1:2"], "--cpu REVIDR '1:2' is not a number"),
])
def test_bad_numbers_exit_2(args, message):
    r = cli(*args)
    assert r.code == 2
    assert r.err.startswith("errata-db: error: ") and message in r.err, r.err
    assert "Traceback" not in r.err and r.out == ""


@pytest.mark.parametrize("args", [
    ["lookup"],
    ["bitmap"],
    ["lookup", "--midr", A53_R0P4, "--format", "yaml"],
])
def test_usage_errors_exit_2(args):
    r = cli(*args)
    assert r.code == 2 and "usage:" in r.err and "Traceback" not in r.err


def test_a_retired_erratum_is_still_reported_for_guests_that_use_it():
    """Retirement freezes a bit's meaning; an older guest may still work around the erratum."""
    fixture = str(REPO / "tests" / "fixtures" / "valid")
    r = run_cli("lookup", "--registry", fixture, "--midr", "0x410fd070", "--format", "json")
    assert r.code == 0
    assert [(e["name"], e["bit"], e["status"]) for e in json.loads(r.out)["errata"]] == \
        [("WORKAROUND_834220", 2, "retired")]
    text = run_cli("lookup", "--registry", fixture, "--midr", "0x410fd070")
    assert "WORKAROUND_834220" in text.out and "(retired)" in text.out


def test_generate_with_an_empty_out_is_a_usage_error(tmp_path):
    r = run_cli("generate", "--out", "", cwd=tmp_path)
    assert r.code == 2 and "--out needs a directory" in r.err
    assert list(tmp_path.iterdir()) == []


def test_format_choices_match_the_formatters_of_modules_imported_late():
    from errata_db import cli, fleet, risk, stability

    assert sorted(cli.FLEET_FORMATS) == sorted(fleet.FORMATS)
    assert sorted(cli.RISK_FORMATS) == sorted(risk.FORMATS)
    assert cli.RISK_ABIS == risk.ABIS
    assert sorted(cli.STABILITY_FORMATS) == sorted(stability.FORMATS)


def test_generate_imports_no_module_of_other_commands():
    # They are imported by their commands: generate, run by every pre-commit hook, does not pay for them.
    code = ("import sys; from errata_db import cli; assert cli.main(['generate', '--check']) == 0; "
            "late = {'errata_db.' + m for m in ('fleet', 'gitio', 'risk', 'stability')} | {'subprocess'}; "
            "print(sorted(m for m in sys.modules if m in late or m.startswith('errata_db.kernel')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert proc.stdout.strip() == "[]", proc.stderr
