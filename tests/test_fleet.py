"""`errata-db fleet`: hosts from files or fake sysfs trees -> target CPUs, R0-R3, guest errata.

The answers are checked against `errata-db bitmap` and the generated Python module, and the
file and sysfs inputs against each other, so the three ways in agree on one fleet.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BAD_HOSTS, NO_HOSTS, REGISTRY, REPO, assert_hosts_refused, run_cli
from errata_db import fleet
from errata_db.load import SourceFile
from errata_db.lookup import lookup_module

SAMPLE = REPO / "examples" / "fleet.yaml"
A53_R0P4 = 0x410FD034
N1_R3P1 = 0x413FD0C1
A76_R3P0 = 0x413FD0B0
UNKNOWN = 0x410FFFF0  # Arm Ltd, part 0xfff: no such CPU in cpus.yaml


def run_fleet(*args: str, cwd: Path = REPO):
    return run_cli("fleet", "--registry", str(REPO / "errata-db"), *args, cwd=cwd)


def as_json(*args: str, cwd: Path = REPO) -> dict:
    result = run_fleet(*args, "--format", "json", cwd=cwd)
    assert result.code == 0, result.err
    return json.loads(result.out)


def write_sysfs(root: Path, cpus: list[tuple[int, int] | None]) -> Path:
    """root/sys/devices/system/cpu/cpuN/regs/identification/{midr,revidr}_el1; None: offline."""
    base = root / "sys/devices/system/cpu"
    base.mkdir(parents=True)
    (base / "online").write_text("0-3\n")  # not a cpuN directory: ignored
    for n, cpu in enumerate(cpus):
        ident = base / f"cpu{n}" / "regs/identification"
        if cpu is None:
            (base / f"cpu{n}").mkdir()
            continue
        ident.mkdir(parents=True)
        (ident / "midr_el1").write_text(f"0x{cpu[0]:016x}\n")
        (ident / "revidr_el1").write_text(f"0x{cpu[1]:016x}\n")
    return root


def test_the_sample_fleet_matches_the_bitmap_command_for_its_cpus():
    result = run_fleet("--hosts", str(SAMPLE))
    assert result.code == 0, result.err
    doc = as_json("--hosts", str(SAMPLE))
    cpus = [f"{t['midr']:#x}:{t['revidr']:#x}" for t in doc["targets"]]
    bitmap = run_cli("bitmap", "--registry", "errata-db", *(a for c in cpus for a in ("--cpu", c)), cwd=REPO)
    registers = [line for line in bitmap.out.splitlines() if line.startswith("R")]
    assert registers == [line.strip() for line in result.out.splitlines() if line.startswith("  R")]
    assert len(registers) == 4
    assert "KVM: the hypercall returns (bitmap " in result.out


def test_targets_are_the_distinct_pairs_with_their_hosts_and_counts():
    doc = as_json("--hosts", str(SAMPLE))
    assert [(t["midr"], t["revidr"]) for t in doc["targets"]] == sorted({
        (0x412FD050, 0), (N1_R3P1, 0), (0x414FD0B0, 0), (0xC00FAC30, 0)})
    n1 = next(t for t in doc["targets"] if t["midr"] == N1_R3P1)
    assert n1 == {"midr": N1_R3P1, "revidr": 0, "cpu": "Neoverse-N1", "revision": "r3p1", "count": 160,
                  "hosts": ["altra-01", "altra-02"], "bits": n1["bits"]}


def test_bitmap_registers_and_errata_are_one_answer(registry):
    doc = as_json("--hosts", str(SAMPLE))
    bitmap = int(doc["bitmap"], 16)
    regs = [int(doc["registers"][f"R{i}"], 16) for i in range(4)]
    assert sum(r << (64 * i) for i, r in enumerate(regs)) == bitmap
    assert sum(1 << e["bit"] for e in doc["errata"]) == bitmap
    assert set().union(*(t["bits"] for t in doc["targets"])) == {e["bit"] for e in doc["errata"]}
    module = lookup_module(registry)
    assert bitmap == module.bitmap_for_cpus([(t["midr"], t["revidr"]) for t in doc["targets"]])
    # enables is the cpucap as the newest kernel the registry follows names it: since Linux 7.3
    # the entry WORKAROUND_REPEAT_TLBI enables WORKAROUND_REPEAT_TLBI_SYNC.
    by_name = {e.name: e for e in registry.errata}
    for e in doc["errata"]:
        assert e["register"] == f"R{e['bit'] // 64}" and e["enables"] == by_name[e["name"]].enables
        assert e["needed_by"], e


def test_json_input_with_hex_strings_gives_the_same_plan_as_yaml(tmp_path):
    yaml_hosts = tmp_path / "hosts.yaml"
    yaml_hosts.write_text(f"hosts:\n  - name: a\n    cpus:\n      - midr: {A53_R0P4:#x}\n        revidr: 0x100\n"
                          f"      - midr: {N1_R3P1}\n")
    json_hosts = tmp_path / "hosts.json"
    json_hosts.write_text(json.dumps({"hosts": [{"name": "a", "cpus": [
        {"midr": f"{A53_R0P4:#x}", "revidr": "0x100"}, {"midr": str(N1_R3P1)}]}]}))
    assert as_json("--hosts", str(yaml_hosts)) == as_json("--hosts", str(json_hosts))


def test_a_revidr_fix_drops_the_erratum_for_that_cpu_only(registry):
    """Cortex-A53 r0p4 with REVIDR bit 8 set is not affected by 843419; without it, it is."""
    hosts = "hosts:\n  - name: fixed\n    cpus: [{midr: 0x410fd034, revidr: 0x100}]\n"
    fixed = fleet_plan_from_text(hosts, registry)
    plain = fleet_plan_from_text(hosts.replace("revidr: 0x100", "revidr: 0x0"), registry)
    assert "WORKAROUND_843419" not in {n.name for n in fixed.errata}
    assert "WORKAROUND_843419" in {n.name for n in plain.errata}


def fleet_plan_from_text(text: str, reg) -> fleet.Plan:
    hosts, diags = fleet.parse_hosts(SourceFile("hosts.yaml", text.encode()))
    assert not diags
    return fleet.plan(reg, lookup_module(reg), hosts)


def test_hosts_can_come_from_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(SAMPLE.read_bytes())))
    assert as_json("--hosts", "-") == as_json("--hosts", str(SAMPLE))


def test_sysfs_trees_give_the_same_answer_as_the_equivalent_file(tmp_path):
    a = write_sysfs(tmp_path / "host-a", [(A53_R0P4, 0x100), (A53_R0P4, 0x100), (N1_R3P1, 0), None])
    b = write_sysfs(tmp_path / "host-b", [(A76_R3P0, 0)])
    result = run_fleet("--sysfs", str(a), "--sysfs", str(b), "--format", "json")
    assert result.code == 0, result.err
    assert result.err == (f"{a}/sys/devices/system/cpu/cpu3: note: no regs/identification/midr_el1 "
                          "(offline CPU?): skipped [fleet-sysfs]\n")
    from_sysfs = json.loads(result.out)
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text(f"hosts:\n  - name: '{a}'\n    cpus:\n      - {{midr: {A53_R0P4}, revidr: 0x100, count: 2}}\n"
                     f"      - {{midr: {N1_R3P1}}}\n  - name: '{b}'\n    cpus:\n      - {{midr: {A76_R3P0}}}\n")
    from_file = as_json("--hosts", str(hosts))
    for key in ("targets", "bitmap", "registers", "errata", "warnings"):
        assert from_sysfs[key] == from_file[key], key
    assert [t["count"] for t in from_sysfs["targets"]] == [2, 1, 1]


def test_a_sysfs_root_can_be_given_a_host_name(tmp_path):
    root = write_sysfs(tmp_path / "a=b", [(A53_R0P4, 0)])
    named = as_json("--sysfs", f"altra-07={root}")
    assert [h["name"] for h in named["hosts"]] == ["altra-07"]
    # A path with '=' in it stays a path: a name never holds '/'.
    assert [h["name"] for h in as_json("--sysfs", str(root))["hosts"]] == [str(root)]


def test_warnings_name_unknown_cpus_conditions_and_what_the_guest_decides_alone(tmp_path):
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text(f"hosts:\n  - name: h\n    cpus: [{{midr: {UNKNOWN}}}, {{midr: {A76_R3P0}}}]\n")
    doc = as_json("--hosts", str(hosts))
    kinds = [w["kind"] for w in doc["warnings"]]
    assert kinds == ["unknown-cpu", "condition", "not-covered"]
    assert doc["warnings"][0]["message"].startswith("MIDR 0x410ffff0 (implementer 0x41, part 0xfff, on h) "
                                                    "is not in cpus.yaml")
    assert "WORKAROUND_1463225" in doc["warnings"][1]["message"]
    assert "enables it only if the kernel runs at EL2 with VHE" in doc["warnings"][1]["message"]
    assert "SPECTRE_V2" in doc["warnings"][2]["message"]
    unknown = next(t for t in doc["targets"] if t["midr"] == UNKNOWN)
    assert unknown["cpu"] is None and unknown["bits"] == []
    text = run_fleet("--hosts", str(hosts)).out
    assert "Warnings (3)" in text and "unknown CPU r0p0" in text


def test_a_retired_bit_is_reported_as_enabling_nothing(registry):
    retired = tuple(dataclasses.replace(e, status="retired", retired_since="v6.20",
                                        retired_reason="fixed in all shipped silicon")
                    if e.name == "WORKAROUND_843419" else e for e in registry.errata)
    reg = dataclasses.replace(registry, errata=retired)
    hosts = [fleet.Host("h", (fleet.HostCpu(A53_R0P4, 0, 1),), None)]
    p = fleet.plan(reg, lookup_module(reg), hosts)
    needed = next(n for n in p.errata if n.name == "WORKAROUND_843419")
    assert needed.cpucap is None and needed.status == "retired"
    assert ("retired", "bit 3 (WORKAROUND_843419) is retired (fixed in all shipped silicon): KVM sets it "
            "for guests built before the retirement; guests built from this registry enable nothing "
            "for it") in p.warnings
    assert "(retired: enables nothing)" in fleet.format_text(p)


# --- bad input ---------------------------------------------------------------------------------


def test_no_hosts_at_all_is_a_usage_error():
    result = run_fleet()
    assert result.code == 2
    assert result.err == NO_HOSTS


@pytest.mark.parametrize("text, expected", BAD_HOSTS)
def test_bad_hosts_files_get_positioned_errors_and_exit_1(tmp_path, text, expected):
    (tmp_path / "hosts.yaml").write_text(text)
    assert_hosts_refused(run_fleet("--hosts", "hosts.yaml", cwd=tmp_path), expected)


def test_a_missing_hosts_file_is_a_usage_error(tmp_path):
    result = run_fleet("--hosts", str(tmp_path / "nope.yaml"))
    assert result.code == 2
    assert result.err == f"errata-db: error: cannot read {tmp_path}/nope.yaml: No such file or directory\n"


@pytest.mark.parametrize("content, message", [
    ("garbage\n", "the file (8 bytes, not shown) is not a register value like 0x00000000410fd034"),
    ("410fd034\n", "'410fd034' is not a register value like 0x00000000410fd034"),
    ("0x0000000100000000\n", "0x0000000100000000 has bits set above bit 31, which are RES0 in this register"),
    ("", "'' is not a register value like 0x00000000410fd034"),
])
def test_garbage_in_midr_el1_is_an_error_at_that_file(tmp_path, content, message):
    root = write_sysfs(tmp_path / "h", [(A53_R0P4, 0)])
    midr = root / "sys/devices/system/cpu/cpu0/regs/identification/midr_el1"
    midr.write_text(content)
    result = run_fleet("--sysfs", str(root))
    assert result.code == 1
    assert result.err.splitlines()[0] == f"{midr}:1:1: error: {message} [fleet-sysfs]"


def test_a_missing_revidr_el1_is_an_error(tmp_path):
    root = write_sysfs(tmp_path / "h", [(A53_R0P4, 0)])
    revidr = root / "sys/devices/system/cpu/cpu0/regs/identification/revidr_el1"
    revidr.unlink()
    result = run_fleet("--sysfs", str(root))
    assert result.code == 1
    assert result.err == f"{revidr}: error: cannot read: No such file or directory [fleet-sysfs]\n"


def test_a_sysfs_root_without_cpus_is_an_error_and_a_missing_root_a_usage_error(tmp_path):
    empty = write_sysfs(tmp_path / "empty", [None])
    result = run_fleet("--sysfs", str(empty))
    assert result.code == 1
    assert (f"{empty}/sys/devices/system/cpu: error: no CPU here has regs/identification/midr_el1: "
            "not a sysfs tree of an arm64 host [fleet-sysfs]") in result.err
    missing = run_fleet("--sysfs", str(tmp_path / "nowhere"))
    assert missing.code == 2
    assert missing.err == f"errata-db: error: {tmp_path}/nowhere has no sys/devices/system/cpu directory\n"


def test_the_same_host_from_two_places_is_an_error(tmp_path):
    root = write_sysfs(tmp_path / "h", [(A53_R0P4, 0)])
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text(f"hosts:\n  - name: '{root}'\n    cpus: [{{midr: 1}}]\n")
    result = run_fleet("--hosts", str(hosts), "--sysfs", str(root))
    assert result.code == 1
    assert "[fleet-duplicate-host]" in result.err


def test_the_readme_fleet_example_is_what_the_command_prints():
    text = (REPO / "docs/fleets-and-risk.md").read_text()
    m = re.search(r"^    \$ errata-db fleet --hosts examples/fleet.yaml\n((?:    (?!\$).*\n|\n)+?)\n(?!    )",
                  text, re.M)
    assert m, "docs/fleets-and-risk.md has no `$ errata-db fleet --hosts examples/fleet.yaml` example"
    expected = "".join(line[4:] + "\n" for line in m.group(1).splitlines())
    assert run_fleet("--hosts", "examples/fleet.yaml").out == expected


def test_a_decimal_string_with_a_leading_zero_is_decimal(tmp_path):
    hosts = tmp_path / "hosts.json"
    hosts.write_text(json.dumps({"hosts": [{"name": "a", "cpus": [{"midr": "0123", "revidr": "0x0"}]}]}))
    assert as_json("--hosts", str(hosts))["targets"][0]["midr"] == 123


def test_only_cpu_directories_with_ascii_numbers_are_cpus(tmp_path):
    root = write_sysfs(tmp_path / "h", [(A53_R0P4, 0)])
    for name in ("cpu\u00b2", "cpu\u0663", "cpufreq", "cpuidle"):
        (root / "sys/devices/system/cpu" / name).mkdir()
    result = run_fleet("--sysfs", str(root), "--format", "json")
    assert result.code == 0 and result.err == ""
    assert [t["midr"] for t in json.loads(result.out)["targets"]] == [A53_R0P4]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_in_place_of_a_register_is_an_error_not_a_hang(tmp_path):
    root = write_sysfs(tmp_path / "h", [(A53_R0P4, 0)])
    revidr = root / "sys/devices/system/cpu/cpu0/regs/identification/revidr_el1"
    revidr.unlink()
    os.mkfifo(revidr)
    result = run_fleet("--sysfs", str(root))
    assert result.code == 1
    assert result.err == f"{revidr}: error: cannot read: is a FIFO (named pipe), not a regular file [fleet-sysfs]\n"


def test_a_dangling_midr_el1_link_is_an_error_not_an_offline_cpu(tmp_path):
    root = write_sysfs(tmp_path / "h", [(A53_R0P4, 0)])
    midr = root / "sys/devices/system/cpu/cpu0/regs/identification/midr_el1"
    midr.unlink()
    midr.symlink_to(tmp_path / "nowhere")
    result = run_fleet("--sysfs", str(root))
    assert result.code == 1
    assert result.err.startswith(f"{midr}: error: cannot read: No such file or directory [fleet-sysfs]\n")


@pytest.mark.parametrize("content", ["0x_1\n", "0x0000_410fd034\n", "0x\n", "0x00000000000000000\n"])
def test_register_values_are_plain_hex_of_at_most_64_bits(tmp_path, content):
    root = write_sysfs(tmp_path / "h", [(A53_R0P4, 0)])
    midr = root / "sys/devices/system/cpu/cpu0/regs/identification/midr_el1"
    midr.write_text(content)
    result = run_fleet("--sysfs", str(root))
    assert result.code == 1
    assert "is not a register value like 0x00000000410fd034 [fleet-sysfs]" in result.err


# --- the target implementation list (Linux 6.15+ guests) ----------------------------------------


def test_the_target_implementation_list_is_the_distinct_cpus_in_numeric_order():
    doc = as_json("--hosts", str(SAMPLE))
    impl = doc["target_impl"]
    assert (impl["version"], impl["version_r1"], impl["count"]) == ("1.0", 0x00010000, 4)
    assert [(c["index"], c["midr"], c["revidr"], c["aidr"]) for c in impl["cpus"]] == [
        (0, 0x412FD050, 0, 0), (1, N1_R3P1, 0, 0), (2, 0x414FD0B0, 0, 0), (3, 0xC00FAC30, 0, 0)]
    assert impl["cpus"][1]["hosts"] == ["altra-01", "altra-02"]
    text = run_fleet("--hosts", str(SAMPLE)).out
    assert "  DISCOVER_IMPL_VER      R1 = 0x00010000 (version 1.0)  R2 = 4 (count)\n" in text
    assert ("  DISCOVER_IMPL_CPUS(3)  R1 = MIDR 0xc00fac30  R2 = REVIDR 0x00000000  R3 = AIDR 0x00000000  "
            "AmpereOne r0p0\n") in text


def test_the_order_of_the_hosts_does_not_change_the_indexes(tmp_path):
    hosts = [f"  - name: h{i}\n    cpus: [{{midr: {midr}, aidr: {aidr}}}]\n"
             for i, (midr, aidr) in enumerate([(N1_R3P1, 2), (A53_R0P4, 0), (N1_R3P1, 1)])]
    forward, backward = tmp_path / "f.yaml", tmp_path / "b.yaml"
    forward.write_text("hosts:\n" + "".join(hosts))
    backward.write_text("hosts:\n" + "".join(reversed(hosts)))
    cpus = [[(c["midr"], c["aidr"]) for c in as_json("--hosts", str(f))["target_impl"]["cpus"]]
            for f in (forward, backward)]
    assert cpus[0] == cpus[1] == [(A53_R0P4, 0), (N1_R3P1, 1), (N1_R3P1, 2)]


def test_aidr_makes_a_target_implementation_but_not_a_kvm_target(tmp_path):
    hosts = tmp_path / "hosts.json"
    hosts.write_text(json.dumps({"hosts": [
        {"name": "a", "cpus": [{"midr": f"{N1_R3P1:#x}", "aidr": "0x5"}]},
        {"name": "b", "cpus": [{"midr": f"{N1_R3P1:#x}"}]}]}))
    doc = as_json("--hosts", str(hosts))
    assert [(t["midr"], t["hosts"]) for t in doc["targets"]] == [(N1_R3P1, ["a", "b"])]
    assert [(c["aidr"], c["hosts"]) for c in doc["target_impl"]["cpus"]] == [(0, ["b"]), (5, ["a"])]
    assert [c["aidr"] for h in doc["hosts"] for c in h["cpus"]] == [5, 0]


def test_aidr_comes_from_sysfs_where_the_kernel_shows_it(tmp_path):
    with_aidr = write_sysfs(tmp_path / "new", [(N1_R3P1, 0)])
    (with_aidr / "sys/devices/system/cpu/cpu0/regs/identification/aidr_el1").write_text("0x0000000000000007\n")
    without = write_sysfs(tmp_path / "old", [(N1_R3P1, 0)])
    doc = as_json("--sysfs", f"new={with_aidr}", "--sysfs", f"old={without}")
    assert [(c["aidr"], c["hosts"]) for c in doc["target_impl"]["cpus"]] == [(0, ["old"]), (7, ["new"])]


def test_garbage_in_aidr_el1_is_an_error_at_that_file(tmp_path):
    root = write_sysfs(tmp_path / "h", [(N1_R3P1, 0)])
    aidr = root / "sys/devices/system/cpu/cpu0/regs/identification/aidr_el1"
    aidr.write_text("seven\n")
    result = run_fleet("--sysfs", str(root))
    assert result.code == 1
    assert result.err == (f"{aidr}:1:1: error: the file (6 bytes, not shown) is not a register value like "
                          "0x00000000410fd034 [fleet-sysfs]\n")


def test_hosts_from_a_closed_stdin_is_a_usage_error_not_a_traceback():
    proc = subprocess.run([sys.executable, "-m", "errata_db", "fleet", "--registry", str(REGISTRY), "--hosts", "-"],
                          capture_output=True, text=True, preexec_fn=lambda: os.close(0), timeout=60)
    assert (proc.returncode, proc.stderr) == (2, "errata-db: error: cannot read --hosts -: standard input is closed\n")
