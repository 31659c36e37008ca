"""risk --guest-kernel-tree with Debian's Linux 6.1, 6.12 and 7.3 as the guest kernel (slow tier;
.ci/run sets ERRATA_DB_LINUX_61, ERRATA_DB_LINUX_612 and ERRATA_DB_LINUX_73 to their pristine
sources): its errata ranges, and its own speculation lists."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REGISTRY, path_from_env

pytestmark = pytest.mark.slow


def _tree(name: str, request) -> Path:
    return path_from_env(name, request, usable=Path.is_dir, what="a Linux source tree")


def _risk(tmp_path: Path, tree: Path) -> dict:
    hosts = tmp_path / "fleet.yaml"
    # A Cortex-A55 is outside the SSBS list; Azure Cobalt 100 is in it from Linux 6.12 on.
    hosts.write_text("hosts:\n  - name: a55\n    cpus:\n      - midr: 0x412fd050\n"
                     "  - name: cobalt\n    cpus:\n      - midr: 0x6d0fd490\n")
    done = subprocess.run([sys.executable, "-m", "errata_db", "risk", "--registry", str(REGISTRY),
                           "--hosts", str(hosts), "--guest-kernel-tree", str(tree), "--format", "json"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_linux_6_1_guest_misses_ssbs_on_cobalt_but_under_the_bitmap(tmp_path, request):
    doc = _risk(tmp_path, _tree("ERRATA_DB_LINUX_61", request))
    missing = next(p for p in doc["pairs"] if (p["from"], p["to"]) == ("a55", "cobalt"))["missing"]
    assert "WORKAROUND_SPECULATIVE_SSBS" in missing["none"]
    assert "WORKAROUND_SPECULATIVE_SSBS" in missing["impl-cpus"]
    assert "WORKAROUND_SPECULATIVE_SSBS" not in missing["bitmap"]
    assert {"from": "a55", "to": "cobalt", "cpucaps": ["WORKAROUND_SPECULATIVE_SSBS"]} in doc["learned"]


def test_a_linux_6_12_guest_predates_the_target_list(tmp_path, request):
    doc = _risk(tmp_path, _tree("ERRATA_DB_LINUX_612", request))
    assert doc["guest"]["impl_cpus"] is False
    assert all(p["missing"]["impl-cpus"] == p["missing"]["none"] for p in doc["pairs"])


# --- the speculation mitigations of each tree's own lists (tests/test_risk_speculation.py has the registry's)

A76_A78 = "hosts:\n  - {name: a76, cpus: [{midr: 0x414fd0b0}]}\n  - {name: a78, cpus: [{midr: 0x411fd410}]}\n"
A55_N1 = "hosts:\n  - {name: a55, cpus: [{midr: 0x412fd050}]}\n  - {name: n1, cpus: [{midr: 0x413fd0c1}]}\n"
TREES = {"ERRATA_DB_LINUX_61": False, "ERRATA_DB_LINUX_612": False, "ERRATA_DB_LINUX_73": True}  # target list?


def _guest_risk(tmp_path: Path, tree: Path, hosts: str) -> dict:
    path = tmp_path / "hosts.yaml"
    path.write_text(hosts)
    done = subprocess.run([sys.executable, "-m", "errata_db", "risk", "--registry", str(REGISTRY), "--hosts",
                           str(path), "--guest-kernel-tree", str(tree), "--format", "json"], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _spectre(doc: dict, source: str, target: str) -> dict:
    p = next(p for p in doc["pairs"] if (p["from"], p["to"]) == (source, target))
    return {abi: [doc["speculation"]["findings"][f["finding"]]["text"] for f in p["speculation"][abi]]
            for abi in doc["abis"]}


@pytest.mark.parametrize("env", TREES)
def test_each_tree_s_guest_keeps_a_bhb_loop_too_short_for_an_a78_unless_its_target_list_gives_more(
        tmp_path, request, env):
    doc = _guest_risk(tmp_path, _tree(env, request), A76_A78)
    assert doc["guest"]["impl_cpus"] is TREES[env]
    found = _spectre(doc, "a76", "a78")
    assert found["none"] == found["bitmap"] == ["Spectre-BHB: k=24 kept, k=32 needed"]
    # A 7.3 guest given both CPUs takes k=32 for both; 6.1 and 6.12 have no target list.
    assert found["impl-cpus"] == ([] if TREES[env] else found["none"])


@pytest.mark.parametrize("env", TREES)
def test_each_tree_s_guest_lacks_the_n1_s_mitigations_after_an_a55(tmp_path, request, env):
    doc = _guest_risk(tmp_path, _tree(env, request), A55_N1)
    found = _spectre(doc, "a55", "n1")
    for abi in doc["abis"]:
        assert any(text.startswith("Spectre-BHB: off") for text in found[abi]), (abi, found[abi])
    at_boot = [entry["class"] for entry in doc["speculation"]["impl_cpus_at_boot"]]
    assert at_boot == (["n1"] if TREES[env] else [])
