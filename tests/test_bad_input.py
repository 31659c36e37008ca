"""Hostile or broken input gives a diagnostic and exit 1, never a traceback or a hang.

Each bad file goes in as errata/x.yaml next to a valid registry. Problems with the environment
(no registry there, a file that cannot be read, bad command line) exit 2 instead.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, REGISTRY, run_cli
from cost import Work, counted
from errata_db.load import MAX_BYTES

VALID = FIXTURES / "valid"
X = "reg/errata/x.yaml"


def _billion_laughs(levels: int = 9) -> bytes:
    lines = ['l0: &l0 "lol"']
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    lines.append(f"errata: *l{levels}")
    return ("\n".join(lines) + "\n").encode()


# name -> (file bytes, rule, line, col)
BAD_FILES = {
    "python_object_tag": (b'errata: !!python/object/apply:os.system ["touch PWNED"]\n',
                          "yaml-tag", 1, 9),
    "python_name_tag_on_a_key": (b"!!python/name:os.system x: 1\n", "yaml-tag", 1, 1),
    "billion_laughs": (_billion_laughs(), "yaml-alias", 1, 5),
    "lone_alias": (b"errata: *nowhere\n", "yaml-alias", 1, 9),
    "binary_with_nul_bytes": (b"errata:\n  - name: \x00\x01\x02\xff\n", "file-binary", 2, 11),
    "not_utf8": (b"errata:\n  - name: caf\xe9\n", "file-encoding", 2, 14),
    "utf16_with_bom": ("errata: []\n".encode("utf-16"), "file-binary", 1, 4),
    "lone_surrogate_escape": (b'errata:\n  - name: "A\\ud800"\n', "file-encoding", 2, 11),
    "control_character": (b"errata:\n  - name: a\x01b\n", "yaml-syntax", 2, 12),
    "empty_file": (b"", "file-empty", 1, 1),
    "only_comments": (b"# nothing here\n", "file-empty", 1, 1),
    "top_level_list": (b"- errata\n- more\n", "file-top-level", 1, 1),
    "top_level_scalar": (b"errata\n", "file-top-level", 1, 1),
    "ten_megabytes": (b"errata: []\n#" + b"x" * (10 << 20) + b"\n", "file-too-large", 1, 1),
    "deeply_nested_flow_sequences": (b"errata: " + b"[" * 100_000 + b"\n", "yaml-too-deep", 1, 40),
    "deeply_nested_flow_mappings": (b"errata: " + b"{a: " * 50_000 + b"\n", "yaml-too-deep", 1, 133),
    "syntax_error": (b"errata:\n  - name: X\n    bit: [1, 2\n", "yaml-syntax", 4, 1),
    "bad_indentation": (b"errata:\n  - name: X\n   bit: 1\n", "yaml-syntax", 3, 4),
    "tab_indentation": (b"errata:\n\t- name: X\n", "yaml-syntax", 2, 1),
    "two_documents": (b"errata: []\n---\nerrata: []\n", "yaml-multiple-documents", 2, 1),
    "impossible_date": (b"errata:\n  when: 2001-13-45\n", "yaml-syntax", 2, 9),
    "unsupported_yaml_version": (b"%YAML 1.3\n---\nerrata: []\n", "yaml-syntax", 1, 1),
    "collection_as_a_key": (b"errata: []\n? [a, b]\n: c\n", "yaml-complex-key", 2, 3),
}


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "reg"
    shutil.copytree(VALID, root)
    return root


@pytest.fixture(scope="module")
def valid_work(tmp_path_factory) -> Work:
    """What checking the valid registry costs, beside which each bad file goes."""
    cwd = tmp_path_factory.mktemp("valid")
    _copy(cwd)
    with counted(10**6) as work:
        assert run_cli("validate", "--registry", "reg", cwd=cwd).code == 0
    return work


def _refused_cheaply(cwd: Path, valid_work: Work):
    """`validate` of the registry in cwd, which holds one bad file, held to the cost of checking
    the valid registry twice over, and to reading no more of the bad file than the limit: what
    the file holds is refused before anything is built of it. An alias bomb expanded, a nesting
    walked by recursion, a 10 MB file read whole would each cost far more."""
    with counted(2 * valid_work.calls) as work:
        result = run_cli("validate", "--registry", "reg", cwd=cwd)
    assert work.bytes_read <= valid_work.bytes_read + MAX_BYTES + 1, work
    return result


@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_file_gives_a_diagnostic_with_file_and_line(tmp_path: Path, name: str, valid_work) -> None:
    data, rule, line, col = BAD_FILES[name]
    root = _copy(tmp_path)
    (root / "errata" / "x.yaml").write_bytes(data)
    result = _refused_cheaply(tmp_path, valid_work)
    assert result.code == 1
    assert "Traceback" not in result.err
    ours = [d for d in result.err.splitlines() if d.startswith(X + ":")]
    assert ours, result.err
    assert re.fullmatch(rf"{re.escape(X)}:{line}:{col}: error: [^\n]+ \[{rule}\]", ours[0]), ours
    # Nothing was constructed from the file.
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("tree, rel, text", [
    ("overlay", "cpus.yaml", "implementers: 5\ncpus: 240\n"),
    ("overlay", "errata/acme.yaml", "errata: 7\n"),
    ("upstream", "cpus.yaml", "implementers: {a: 1}\ncpus: x\n"),
    ("upstream", "errata/arm.yaml", "errata: 3\n"),
])
def test_a_section_that_is_not_a_list_is_a_schema_error_not_a_crash(tmp_path: Path, tree, rel, text):
    shutil.copytree(REGISTRY, tmp_path / "up")
    shutil.copytree(FIXTURES / "overlays" / "acme", tmp_path / "ov")
    (tmp_path / ("ov" if tree == "overlay" else "up") / rel).write_text(text)
    r = run_cli("validate", "--registry", str(tmp_path / "up"), "--overlay", str(tmp_path / "ov"))
    assert r.code == 1
    assert re.search(rf"{re.escape(rel)}:\d+:\d+: error: '\w+': .* is not of type 'array' \[schema-type\]", r.err), r.err


def test_alias_bomb_is_refused_at_its_first_anchor_unexpanded(tmp_path: Path, valid_work) -> None:
    root = _copy(tmp_path)
    (root / "errata" / "x.yaml").write_bytes(_billion_laughs(9))
    result = _refused_cheaply(tmp_path, valid_work)
    assert result.code == 1
    assert ("reg/errata/x.yaml:1:5: error: anchor '&l0' refused: the registry does not use "
            "anchors or aliases [yaml-alias]") in result.err.splitlines()


def test_python_tag_is_refused_out_of_process(tmp_path: Path) -> None:
    """The real entry point, as CI runs it: no traceback on stderr, nothing executed."""
    root = _copy(tmp_path)
    (root / "errata" / "x.yaml").write_bytes(BAD_FILES["python_object_tag"][0])
    proc = subprocess.run([sys.executable, "-m", "errata_db", "validate", "--registry", "reg"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert ("reg/errata/x.yaml:1:9: error: explicit YAML tag "
            "'tag:yaml.org,2002:python/object/apply:os.system' refused [yaml-tag]") in proc.stderr.splitlines()
    assert not (tmp_path / "PWNED").exists()


def test_bad_registry_yaml_is_reported_not_raised(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "registry.yaml").write_bytes(b"- not a mapping\n")
    result = run_cli("validate", "--registry", "reg", cwd=tmp_path)
    assert result.code == 1
    assert ("reg/registry.yaml:1:1: error: top level is a list: expected a YAML mapping "
            "[file-top-level]") in result.err.splitlines()


def test_missing_cpus_yaml_is_reported_once_by_name(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "cpus.yaml").unlink()
    result = run_cli("validate", "--registry", "reg", cwd=tmp_path)
    assert result.code == 1
    assert "reg/cpus.yaml: error: cpus.yaml is missing [file-missing]" in result.err.splitlines()


def test_a_yml_file_is_reported_not_silently_skipped(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "errata" / "new.yml").write_text("errata: []\n")
    result = run_cli("validate", "--registry", "reg", cwd=tmp_path)
    assert result.code == 0
    assert ("reg/errata/new.yml: warning: file is not part of the registry format (registry files "
            "end in .yaml); ignored [unknown-file]") in result.err.splitlines()


def test_a_nested_errata_directory_is_an_error_not_skipped(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "errata" / "extra").mkdir()
    (root / "errata" / "extra" / "new.yaml").write_text("errata: []\n")
    (root / "errata" / ".cache").mkdir()
    (root / "errata" / ".cache" / "x").write_text("")
    (root / "errata" / "empty").mkdir()
    result = run_cli("validate", "--registry", "reg", cwd=tmp_path)
    assert result.code == 1
    assert result.err.splitlines() == [
        "reg/errata/extra: error: a directory inside errata/ is not read: errata files sit "
        "directly in errata/ [unknown-file]"]


def test_bad_lock_bytes_are_reported_not_raised(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "bits.lock").write_bytes(b"\xff\xfe\x00garbage\n")
    result = run_cli("validate", "--registry", "reg", cwd=tmp_path)
    assert result.code == 1
    assert "reg/bits.lock:1:1: error: bits.lock is not valid UTF-8 [lock-syntax]" in result.err.splitlines()


# --- environment problems: exit 2 -----------------------------------------------------------


def test_missing_registry_directory_exits_2(tmp_path: Path) -> None:
    result = run_cli("validate", "--registry", "nowhere", cwd=tmp_path)
    assert result.code == 2
    assert result.err == "errata-db: error: nowhere: no such directory\n"


def test_directory_without_registry_yaml_exits_2(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run_cli("validate", "--registry", "empty", cwd=tmp_path)
    assert result.code == 2
    assert result.err == "errata-db: error: empty: not a registry directory (it has no registry.yaml)\n"


PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


def _as_root_without_reading_every_file() -> None:
    """In the child, before exec: root drops the capabilities that let it read a file whatever
    its mode, from the set exec hands down. CI runs as root, and the test must run there."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), f"prctl(PR_CAPBSET_DROP, {cap})")


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "errata" / "a.yaml").chmod(0)
    proc = subprocess.run([sys.executable, "-m", "errata_db", "validate", "--registry", "reg"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60,
                          preexec_fn=_as_root_without_reading_every_file)
    assert proc.returncode == 2, proc.stderr
    assert "reg/errata/a.yaml" in proc.stderr
    assert "Permission denied" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_directory_in_place_of_a_file_exits_2(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "errata" / "x.yaml").mkdir()
    result = run_cli("validate", "--registry", "reg", cwd=tmp_path)
    assert result.code == 2
    assert result.err.startswith("errata-db: error: reg/errata/x.yaml")
    assert "cannot read file" in result.err


def test_dangling_symlink_exits_2(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "errata" / "x.yaml").symlink_to(tmp_path / "gone.yaml")
    result = run_cli("validate", "--registry", "reg", cwd=tmp_path)
    assert result.code == 2
    assert result.err.startswith("errata-db: error: reg/errata/x.yaml")
    assert "is a symbolic link" in result.err


def test_a_symlinked_errata_file_is_refused_since_git_would_record_the_link(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "errata" / "a.yaml").rename(tmp_path / "a.yaml")
    (root / "errata" / "a.yaml").symlink_to(tmp_path / "a.yaml")
    result = run_cli("validate", "--registry", "reg", cwd=tmp_path)
    assert result.code == 2 and "reg/errata/a.yaml: is a symbolic link" in result.err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_in_place_of_a_file_does_not_hang(tmp_path: Path) -> None:
    """Opening a FIFO with no writer blocks forever: run out of process, under a timeout."""
    root = _copy(tmp_path)
    os.mkfifo(root / "errata" / "x.yaml")
    proc = subprocess.run([sys.executable, "-m", "errata_db", "validate", "--registry", "reg"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "reg/errata/x.yaml" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_subcommand_exits_2() -> None:
    result = run_cli("frobnicate")
    assert result.code == 2
    assert "invalid choice: 'frobnicate'" in result.err


def test_unknown_option_exits_2() -> None:
    result = run_cli("validate", "--format", "xml")
    assert result.code == 2
    assert "invalid choice: 'xml'" in result.err


def test_no_subcommand_exits_2() -> None:
    result = run_cli()
    assert result.code == 2
    assert "usage: errata-db" in result.err
