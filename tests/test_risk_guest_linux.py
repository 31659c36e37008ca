"""risk --guest-kernel-tree with Debian's Linux 6.1 and 6.12 as the guest kernel (slow tier;
.ci/run sets ERRATA_DB_LINUX_61 and ERRATA_DB_LINUX_612 to their pristine sources)."""

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
