"""The benchmark's synthetic registries are valid, and its script runs (figures unchecked)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO
from errata_db.registry import load_registry

BENCH = REPO / "bench"

pytestmark = pytest.mark.skipif(not (BENCH / "run.py").is_file() or not (REPO / ".git").exists(),
                                reason="needs the checkout's bench/ and git history")


@pytest.mark.parametrize("bits, ranges, overlays", [(16, 1, 4), (32, 3, 0), (256, 2, 4)])
def test_synthetic_registry_is_valid(tmp_path, bits, ranges, overlays):
    sys.path.insert(0, str(BENCH))
    try:
        from make_registry import write_registry
    finally:
        sys.path.remove(str(BENCH))
    registry, overlay_dirs = write_registry(tmp_path, bits, ranges, overlays)
    result = load_registry(registry, tuple(overlay_dirs))
    assert result.diagnostics == ()
    assert len(result.registry.errata) == bits
    assert {len(e.affects) for e in result.registry.errata} == {ranges}
    assert len(overlay_dirs) == overlays


@pytest.mark.slow  # 4 s of whole processes: the fast tier stays under a minute
def test_quick_run_prints_the_tables(tmp_path, registry):
    from test_renames import write_linux

    tree = write_linux(tmp_path / "linux", registry, "6.12.7")  # a small tree audit and import both read
    proc = subprocess.run([sys.executable, str(BENCH / "run.py"), "--quick", "--kernel-tree", str(tree)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for heading in ("| `errata-db generate --check` |", "| `errata-db risk`, 10,000 hosts of 20 kinds (JSON) |",
                    "| `errata-db audit --kernel-tree DIR`, Linux 6.12.7 |",
                    "| `errata-db import --kernel-tree DIR --dry-run`, Linux 6.12.7 |",
                    "| 64 | 1 | 4 | 64 |", "| errata_for_cpu |"):
        assert heading in proc.stdout
