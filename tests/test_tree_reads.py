"""Every command that reads a Linux tree reads each of its files once, through one reader
(kernel/tree.py's Tree), and reads only the Kconfig files where erratum options are defined,
not every Kconfig file of the tree."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from conftest import REGISTRY
from generated_tree import write_tree

import errata_db.kernel.tree as kernel_tree
from errata_db.cli import main
from errata_db.registry import load_registry

COMMANDS = {
    "audit": ["audit", "--kernel-tree", "{tree}"],
    "import": ["import", "--dry-run", "--kernel-tree", "{tree}"],
    "install": ["install", "--kernel-tree", "{tree}"],
    "install --kernel-tables": ["install", "--kernel-tables", "--check", "--kernel-tree", "{tree}"],
    "risk --guest-kernel-tree": ["risk", "--hosts", str(REGISTRY.parent / "examples/fleet.yaml"),
                                 "--guest-kernel-tree", "{tree}"],
}


@pytest.fixture(scope="module")
def bundled():
    return load_registry(REGISTRY).registry


def full_tree(root: Path, reg) -> Path:
    """A tree every command accepts, with Kconfig files no erratum option lives in."""
    tree = write_tree(root, reg)
    caps = sorted({e.enables for e in reg.errata} | {n.cpucap for n in reg.not_covered})
    files = {
        "Kbuild": "",
        "arch/arm64/kvm/Makefile": "",
        "arch/arm64/tools/cpucaps": "".join(f"{c}\n" for c in caps),
        "drivers/clocksource/Kconfig": "config ARM_ARCH_TIMER\n\tbool\n",
        "drivers/gpu/Kconfig": "config DRM\n\tbool \"DRM\"\n",
        "fs/Kconfig": "config EXT4_FS\n\ttristate \"ext4\"\n",
    }
    for rel, text in files.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(text)
    return tree


@pytest.mark.parametrize("command", COMMANDS)
def test_each_tree_file_is_read_at_most_once_per_command(tmp_path, bundled, monkeypatch, capsys, command):
    tree = full_tree(tmp_path / "linux", bundled)
    reads: Counter[str] = Counter()
    real = kernel_tree.read

    def counting(path: Path) -> str:
        reads[Path(path).relative_to(tree).as_posix()] += 1
        return real(path)

    monkeypatch.setattr(kernel_tree, "read", counting)
    args = [a.format(tree=tree) for a in COMMANDS[command]]
    code = main([*args, "--registry", str(REGISTRY)])
    err = capsys.readouterr().err
    assert code in (0, 1), err
    assert reads, "the command read the tree through another reader"
    assert [rel for rel, n in reads.items() if n > 1] == []
    # The Kconfig files of unrelated subsystems are never opened: no walk of the tree.
    assert not {"drivers/gpu/Kconfig", "fs/Kconfig"} & reads.keys()


def test_audit_and_import_read_the_erratum_kconfig_files_and_find_an_option_there(tmp_path, bundled, capsys):
    tree = full_tree(tmp_path / "linux", bundled)
    kconfig = tree / "arch/arm64/Kconfig"
    block = 'config ARM64_ERRATUM_858921\n\tbool "arm64 erratum 858921"\n\n'
    kconfig.write_text(kconfig.read_text().replace(block, ""))
    (tree / "drivers/clocksource/Kconfig").write_text("menu \"Clocks\"\n\n" + block + "endmenu\n")
    assert main(["audit", "--registry", str(REGISTRY), "--kernel-tree", str(tree)]) in (0, 1)
    out = capsys.readouterr().out
    assert (f"Kconfig symbol ARM64_ERRATUM_858921 ('WORKAROUND_858921') is defined in "
            f"{tree}/drivers/clocksource/Kconfig:3:8, not in {tree}/arch/arm64/Kconfig") in out


def test_a_tree_path_the_system_cannot_look_at_is_a_usage_error_not_a_traceback(tmp_path, capsys):
    code = main(["audit", "--registry", str(REGISTRY), "--kernel-tree", str(tmp_path / ("a" * 5000))])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("errata-db: error: cannot read ") and "Traceback" not in err


def test_a_broken_link_at_a_tree_file_is_said_and_not_taken_for_an_older_tree(tmp_path, bundled, capsys):
    """Without tools/cpucaps a tree reads as older than Linux 5.19, which checks no cpucap
    names: a link there that leads nowhere must not pass for that."""
    tree = full_tree(tmp_path / "linux", bundled)
    cpucaps = tree / "arch/arm64/tools/cpucaps"
    cpucaps.unlink()
    cpucaps.symlink_to(tmp_path / "nowhere")
    code = main(["import", "--dry-run", "--registry", str(REGISTRY), "--kernel-tree", str(tree)])
    assert code == 2 and f"cannot read {cpucaps}" in capsys.readouterr().err
