"""risk --guest-kernel-tree: one actual guest kernel, given its source tree. Its own ranges decide
`none` and `impl-cpus` (the latter only if it matches over a target list), the registry's bitmap
`bitmap` for every cpucap it has. The trees are written from registries (generated_tree.py), so
what each guest kernel knows is exact; tests/test_risk_guest_linux.py asks Linux 6.1 and 6.12."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from conftest import REGISTRY
from generated_tree import older, write_tree

from errata_db.cli import main
from errata_db.registry import load_registry

A55, COBALT = 0x412FD050, 0x6D0FD490


@pytest.fixture(scope="module")
def bundled():
    return load_registry(REGISTRY).registry


def fleet(tmp_path: Path) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(f"hosts:\n  - name: a55\n    cpus:\n      - midr: {A55:#x}\n"
                    f"  - name: cobalt\n    cpus:\n      - midr: {COBALT:#x}\n")
    return path


def with_target_impl(tree: Path) -> Path:
    """The tree with what Linux 6.15 added for the target implementation list."""
    c_file = tree / "arch/arm64/kernel/cpu_errata.c"
    c_file.write_text(c_file.read_text() + "\nvoid cpu_errata_set_target_impl(u64 num, void *impl_cpus)\n{\n}\n")
    guest = tree / "drivers/firmware/smccc/kvm_guest.c"
    guest.parent.mkdir(parents=True, exist_ok=True)
    guest.write_text("void __init kvm_arm_target_impl_cpu_init(void)\n{\n}\n")
    return tree


def risk(tmp_path: Path, tree: Path, capsys, fmt: str = "json"):
    code = main(["risk", "--registry", str(REGISTRY), "--hosts", str(fleet(tmp_path)),
                 "--guest-kernel-tree", str(tree), "--format", fmt])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out) if fmt == "json" else out.out


def pair(doc: dict, source: str, target: str) -> dict:
    return next(p for p in doc["pairs"] if (p["from"], p["to"]) == (source, target))


def test_an_older_guest_misses_a_range_it_lacks_except_under_the_bitmap(tmp_path, bundled, capsys):
    doc = risk(tmp_path, write_tree(tmp_path / "old", older(bundled)), capsys)
    missing = pair(doc, "a55", "cobalt")["missing"]
    assert "WORKAROUND_SPECULATIVE_SSBS" in missing["none"]
    assert "WORKAROUND_SPECULATIVE_SSBS" in missing["impl-cpus"]
    assert missing["bitmap"] == []
    assert doc["learned"] == [{"from": "a55", "to": "cobalt", "cpucaps": ["WORKAROUND_SPECULATIVE_SSBS"]}]
    assert doc["guest"] == {"kernel": f"Linux 6.99.0 at {tmp_path / 'old'}", "impl_cpus": False,
                            "impl_cpus_missing": "arch/arm64/kernel/cpu_errata.c has no "
                                                 "cpu_errata_set_target_impl()"}


def test_without_the_target_list_impl_cpus_equals_none_and_says_why(tmp_path, bundled, capsys):
    tree = write_tree(tmp_path / "linux", bundled)
    doc = risk(tmp_path, tree, capsys)
    assert all(p["missing"]["impl-cpus"] == p["missing"]["none"] for p in doc["pairs"])
    text = risk(tmp_path, tree, capsys, "text")
    assert ("impl-cpus: equals none: this kernel predates the target implementation list "
            "(arch/arm64/kernel/cpu_errata.c has no cpu_errata_set_target_impl())") in text


def test_a_guest_with_the_target_list_matches_its_ranges_over_the_fleet(tmp_path, bundled, capsys):
    doc = risk(tmp_path, with_target_impl(write_tree(tmp_path / "linux", bundled)), capsys)
    assert doc["guest"]["impl_cpus"] is True
    missing = pair(doc, "a55", "cobalt")["missing"]
    assert "WORKAROUND_SPECULATIVE_SSBS" in missing["none"]
    assert missing["impl-cpus"] == missing["bitmap"] == []
    assert doc["learned"] == []
    old = risk(tmp_path, with_target_impl(write_tree(tmp_path / "old", older(bundled))), capsys)
    assert "WORKAROUND_SPECULATIVE_SSBS" in pair(old, "a55", "cobalt")["missing"]["impl-cpus"]


def test_a_cpucap_the_guest_kernel_lacks_is_missing_under_the_bitmap_too(tmp_path, bundled, capsys):
    without = dataclasses.replace(bundled, errata=tuple(e for e in bundled.errata
                                                       if e.name != "WORKAROUND_SPECULATIVE_SSBS"))
    tree = write_tree(tmp_path / "linux", without)
    doc = risk(tmp_path, tree, capsys)
    assert pair(doc, "a55", "cobalt")["missing"]["bitmap"] == ["WORKAROUND_SPECULATIVE_SSBS"]
    assert {"from": "a55", "to": "cobalt", "cpucaps": ["WORKAROUND_SPECULATIVE_SSBS"]} in doc["unknown_to_guest"]
    text = risk(tmp_path, tree, capsys, "text")
    assert "    bitmap     WORKAROUND_SPECULATIVE_SSBS (unknown to this guest)" in text


def test_a_guest_tree_that_cannot_be_read_is_a_usage_error(tmp_path, capsys):
    code = main(["risk", "--registry", str(REGISTRY), "--hosts", str(fleet(tmp_path)),
                 "--guest-kernel-tree", str(tmp_path / "nowhere")])
    assert code == 2
    assert f"errata-db: error: {tmp_path / 'nowhere'} does not exist" in capsys.readouterr().err


def test_an_unreadable_guest_file_is_a_usage_error(tmp_path, bundled, capsys):
    tree = write_tree(tmp_path / "linux", bundled)
    source = tree / "arch/arm64/kernel/cpu_errata.c"
    source.unlink()
    source.mkdir()
    code = main(["risk", "--registry", str(REGISTRY), "--hosts", str(fleet(tmp_path)),
                 "--guest-kernel-tree", str(tree)])
    assert code == 2
    assert f"cannot read {source}: it is a directory, not a regular file" in capsys.readouterr().err


def test_a_guest_table_that_is_not_text_is_named_at_its_line(tmp_path, bundled, capsys):
    tree = write_tree(tmp_path / "linux", bundled)
    source = tree / "arch/arm64/kernel/cpu_errata.c"
    source.write_bytes(b"\xff\xfe not text")
    code = main(["risk", "--registry", str(REGISTRY), "--hosts", str(fleet(tmp_path)),
                 "--guest-kernel-tree", str(tree)])
    assert code == 1
    assert f"{source}:1:" in capsys.readouterr().err


def test_markdown_and_html_name_the_guest_and_what_it_learned(tmp_path, bundled, capsys):
    tree = write_tree(tmp_path / "old", older(bundled))
    markdown = risk(tmp_path, tree, capsys, "markdown")
    # The name and its path, punctuation escaped: a path is input, and Markdown shows it as is.
    shown = re.sub(r"([!-/:-@[-`{-~])", r"\\\1", f"Linux 6.99.0 at {tmp_path / 'old'}")
    assert f"Guest kernel: {shown}: the errata each class needs" in markdown
    assert "| a55 | cobalt | `WORKAROUND_SPECULATIVE_SSBS` |" in markdown
    page = risk(tmp_path, tree, capsys, "html")
    assert "<h2>Learned from the bitmap</h2>" in page
    assert "<li>a55 &rarr; cobalt: WORKAROUND_SPECULATIVE_SSBS</li>" in page
    assert "<script" not in page and "http" not in page.split("<body>")[1]


def test_the_guest_tree_name_reaches_the_terminal_inert(tmp_path, bundled, capsys):
    tree = write_tree(tmp_path / "lin\x1b[31mux\nfake: ok", bundled)
    text = risk(tmp_path, tree, capsys, "text")
    assert "\x1b" not in text and "\nfake: ok" not in text
    assert "lin\\x1b[31mux\\nfake: ok" in text


def test_a_guest_that_names_a_cpucap_by_its_older_name_has_that_cpucap(tmp_path, bundled, capsys):
    """A 6.12 guest has REPEAT_TLBI where the registry follows 7.3's REPEAT_TLBI_SYNC: the same
    workaround, which Cortex-A55 (2441007) and Azure Cobalt 100 (4118414) both need."""
    from errata_db.kernel.names import TreeNames, for_tree

    caps = {e.enables for e in bundled.errata} - {"WORKAROUND_REPEAT_TLBI_SYNC"} | {"WORKAROUND_REPEAT_TLBI"}
    as_612, _ = for_tree(bundled, TreeNames("6.12.118", frozenset(caps), frozenset({"ARM64_WORKAROUND_REPEAT_TLBI"})))
    assert "WORKAROUND_REPEAT_TLBI" in {e.enables for e in as_612.errata}
    doc = risk(tmp_path, write_tree(tmp_path / "old-names", as_612), capsys)
    assert not any("WORKAROUND_REPEAT_TLBI_SYNC" in u["cpucaps"] for u in doc["unknown_to_guest"])
    for source, target in (("a55", "cobalt"), ("cobalt", "a55")):
        missing = pair(doc, source, target)["missing"]
        assert all("WORKAROUND_REPEAT_TLBI_SYNC" not in missing[abi] for abi in missing), missing
