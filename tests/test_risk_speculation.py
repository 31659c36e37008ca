"""`risk` and the Spectre and Meltdown mitigations the kernel decides from its own MIDR lists.

Under `none` and `bitmap` (which carries none of them) the boot class decides what the guest
keeps; under `impl-cpus` the kernel matches its lists against every target, a safe list too,
and takes the largest loop count k of the targets'. The fleets are the issue's: Cortex-A76
(Spectre-BHB k=24) and Cortex-A78 (k=32); Cortex-A55 (on the safe lists) and Neoverse-N1
(k=24); and Cortex-A76 with Neoverse-N1, which share every list and k. Their k values are
Linux 7.3.4's, as the bundled speculation.yaml has them (tests/test_speculation_linux.py
checks that file against the tree's build).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import REPO, run_cli

A76 = 0x414FD0B0
A78 = 0x411FD410
A55 = 0x412FD050
N1 = 0x413FD0C1
SPECULATION = ["SPECTRE_V2", "SPECTRE_V3A", "SPECTRE_V4", "SPECTRE_BHB", "UNMAP_KERNEL_AT_EL0"]


def fleet(tmp_path: Path, hosts: dict[str, int]) -> str:
    path = tmp_path / "hosts.json"
    path.write_text(json.dumps({"hosts": [{"name": n, "cpus": [{"midr": f"{m:#x}"}]} for n, m in hosts.items()]}))
    return str(path)


def risk(hosts: str, *args: str, registry: Path = REPO / "errata-db"):
    return run_cli("risk", "--registry", str(registry), "--hosts", hosts, *args)


def as_json(hosts: str, registry: Path = REPO / "errata-db") -> dict:
    r = risk(hosts, "--format", "json", registry=registry)
    assert r.code == 0, r.err
    return json.loads(r.out)


def pair(doc: dict, source: str, target: str) -> dict:
    return next(p for p in doc["pairs"] if (p["from"], p["to"]) == (source, target))


def speculation(missing: list[str]) -> list[str]:
    return [cap for cap in missing if cap in SPECULATION]


def test_a76_to_a78_keeps_too_short_a_bhb_loop_without_a_target_list_and_not_with_one(tmp_path):
    doc = as_json(fleet(tmp_path, {"a76": A76, "a78": A78}))
    moved = pair(doc, "a76", "a78")
    assert {abi: speculation(caps) for abi, caps in moved["missing"].items()} == {
        "none": ["SPECTRE_BHB"], "bitmap": ["SPECTRE_BHB"], "impl-cpus": []}
    (entry,) = moved["speculation"]["none"]
    assert entry == {"finding": entry["finding"], "cpucap": "SPECTRE_BHB", "counted": True,
                     "list": "spectre_bhb_k32_list", "k_kept": 24, "k_needed": 32}
    finding = doc["speculation"]["findings"][entry["finding"]]
    assert finding["text"] == "Spectre-BHB: k=24 kept, k=32 needed"
    assert (finding["kind"], finding["kept"]["k"], finding["needed"]["k"]) == ("less", 24, 32)
    assert doc["speculation"]["depends_on"]["SPECTRE_BHB"]
    assert moved["speculation"]["bitmap"] == moved["speculation"]["none"]
    assert moved["speculation"]["impl-cpus"] == []
    # Booted on the A78 (k=32), the guest keeps more than the A76 needs.
    assert pair(doc, "a78", "a76")["speculation"] == {"none": [], "bitmap": [], "impl-cpus": []}
    assert doc["speculation"]["impl_cpus_at_boot"] == []


def test_a55_to_n1_is_unsafe_under_every_behaviour_and_the_target_list_says_why(tmp_path):
    doc = as_json(fleet(tmp_path, {"a55": A55, "n1": N1}))
    moved = pair(doc, "a55", "n1")
    for abi in doc["abis"]:
        assert "SPECTRE_BHB" in moved["missing"][abi], abi
        assert moved["worst_impact"][abi] == "speculation"
    bhb = next(doc["speculation"]["findings"][f["finding"]] for f in moved["speculation"]["impl-cpus"]
               if f["cpucap"] == "SPECTRE_BHB")
    assert bhb["text"] == ("Spectre-BHB: off, target CPU Cortex-A55 on the safe list (spectre_bhb_safe_list), "
                           "which the kernel takes for every target; k=24 needed")
    assert bhb["kept"] == {"on": False, "k": 0, "list": "spectre_bhb_safe_list", "cpus": ["Cortex-A55"],
                           "target_list": True}
    # Booted on the N1 and never moved, a guest given both as its target list is unmitigated on the N1.
    (at_boot,) = doc["speculation"]["impl_cpus_at_boot"]
    assert at_boot["class"] == "n1"
    assert "SPECTRE_BHB" in [doc["speculation"]["findings"][i]["cpucap"] for i in at_boot["findings"]]
    assert pair(doc, "n1", "a55")["missing"] == {"none": [], "bitmap": [], "impl-cpus": []}
    text = risk(fleet(tmp_path, {"a55": A55, "n1": N1})).out
    assert "      before any migration, on n1 itself\n      after a55 -> n1\n" in text


def test_hosts_that_share_every_list_and_loop_count_have_no_speculation_finding(tmp_path):
    doc = as_json(fleet(tmp_path, {"a76": A76, "n1": N1}))
    assert all(p["speculation"] == {"none": [], "bitmap": [], "impl-cpus": []} for p in doc["pairs"])
    assert all(not speculation(caps) for p in doc["pairs"] for caps in p["missing"].values())
    assert doc["speculation"]["impl_cpus_at_boot"] == []
    assert "No pair lacks one as the lists decide" in risk(fleet(tmp_path, {"a76": A76, "n1": N1})).out


def test_the_gate_counts_a_speculation_mitigation_a_target_list_leaves_off(tmp_path):
    hosts = fleet(tmp_path, {"a76": A76, "a78": A78})
    assert risk(hosts, "--fail-on", "impl-cpus", "--min-impact", "speculation").code == 0
    gate = risk(hosts, "--fail-on", "bitmap", "--min-impact", "speculation")
    assert gate.code == 1 and "  a76 -> a78: SPECTRE_BHB [speculation]" in gate.err
    mixed = fleet(tmp_path, {"a55": A55, "n1": N1})
    gate = risk(mixed, "--fail-on", "impl-cpus", "--min-impact", "speculation")
    assert gate.code == 1 and "a55 -> n1: SPECTRE_V2 [speculation]" in gate.err


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_every_format_says_what_it_assumed_and_what_a_finding_depends_on(tmp_path, fmt):
    out = risk(fleet(tmp_path, {"a76": A76, "a78": A78}), "--format", fmt).out
    plain = out.replace("\\", "")
    assert "the VMM presents the fleet's common baseline of ID registers" in plain.replace("&#x27;", "'")
    assert "ID_AA64PFR0_EL1.CSV2 = 3 (CSV2_3)" in plain
    assert "Spectre-BHB: k=24 kept, k=32 needed" in plain


def test_the_json_names_the_lists_and_the_assumptions(tmp_path):
    doc = as_json(fleet(tmp_path, {"a76": A76, "a78": A78}))
    assert doc["speculation"]["lists"] == "Linux 7.3.4"
    assert doc["speculation"]["assumptions"] == [
        "the VMM presents the fleet's common baseline of ID registers on every host",
        "firmware and KVM answered the guest's SMCCC queries on the host it booted on, once, at boot"]
    assert {e["cpucap"]: e["impact"] for e in doc["errata"]}.get("SPECTRE_BHB") is None  # no erratum entry
    assert "SPECTRE_BHB" in doc["unsafe_by"]["none"]


def test_a_registry_without_speculation_lists_says_it_does_not_compare_them(tmp_path):
    registry = tmp_path / "errata-db"
    shutil.copytree(REPO / "errata-db", registry)
    (registry / "speculation.yaml").unlink()
    doc = as_json(fleet(tmp_path, {"a76": A76, "a78": A78}), registry=registry)
    assert all(not speculation(caps) for p in doc["pairs"] for caps in p["missing"].values())
    assert doc["speculation"]["lists"] is None
    assert {"kind": "speculation", "message": "no speculation lists (speculation.yaml, or the guest kernel's "
            "proton-pack.c and cpufeature.c): the Spectre and Meltdown mitigations are not compared"} in doc["warnings"]


def test_a_big_little_host_alone_fails_the_gate_under_the_target_list_before_any_migration(tmp_path):
    # Cortex-A76 and Cortex-A55 cores in one host: given both as its target list, the guest takes
    # the A55's safe lists for the A76 cores too. No pair, and still an exposure.
    path = tmp_path / "hosts.yaml"
    path.write_text("hosts:\n  - name: devkit\n    cpus: [{midr: 0x414fd0b0}, {midr: 0x412fd050}]\n")
    gate = risk(str(path), "--fail-on", "impl-cpus")
    assert gate.code == 1
    assert gate.err.splitlines()[1] == ("errata-db:   devkit: SPECTRE_V2 [speculation], SPECTRE_V4 [speculation], "
                                        "SPECTRE_BHB [speculation], UNMAP_KERNEL_AT_EL0 [speculation]")
    assert risk(str(path), "--fail-on", "none").code == 0
    assert risk(str(path), "--fail-on", "impl-cpus", "--min-impact", "speculation").code == 1


def test_spectre_v3a_is_shown_and_never_counted_a_guest_at_el1_never_needs_it(tmp_path):
    # Cortex-A72 is on the v3a list, Cortex-A53 is not: its mitigation hardens KVM's own vectors.
    doc = as_json(fleet(tmp_path, {"a53": 0x410FD034, "a72": 0x410FD083}))
    moved = pair(doc, "a53", "a72")
    assert "SPECTRE_V3A" not in moved["missing"]["none"]
    v3a = [f for f in moved["speculation"]["none"] if f["cpucap"] == "SPECTRE_V3A"]
    assert [f["counted"] for f in v3a] == [False]
    assert doc["speculation"]["findings"][v3a[0]["finding"]]["kind"] == "host-only"
    assert "(not counted: host-only, the mitigation hardens KVM's own vectors" in risk(
        fleet(tmp_path, {"a53": 0x410FD034, "a72": 0x410FD083})).out


def test_a_report_of_many_classes_gives_each_finding_once(tmp_path):
    hosts = [{"name": f"n1-{i}", "cpus": [{"midr": f"{N1:#x}", "revidr": f"{i:#x}"}]} for i in range(60)]
    hosts.append({"name": "a55", "cpus": [{"midr": f"{A55:#x}"}]})
    path = tmp_path / "hosts.json"
    path.write_text(json.dumps({"hosts": hosts}))
    doc = as_json(str(path))
    assert len(doc["pairs"]) == 61 * 60
    # Every N1 class lacks the same four mitigations under the target list: four findings in all.
    assert len(doc["speculation"]["findings"]) <= 12
    # A pair names each of its findings by number: five mitigations under three behaviours at most.
    assert max(len(json.dumps(p["speculation"])) for p in doc["pairs"]) < 5 * 3 * 130
    md = risk(str(path), "--format", "markdown").out
    assert md.count("| `impl-cpus` | Spectre\\-BHB\\: off") == 1
