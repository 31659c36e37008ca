"""The mistakes a new user makes, each written as the user meets it: the input, the exact
advice the tool prints, and then the advice followed, which must work.

Commands run from a directory holding a checkout-like `errata-db/` (a copy of the valid
fixture), so that the advice is followed as printed, without options it does not name.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

import fake_linux
from conftest import FIXTURES, REGISTRY, run_cli
from errata_db.resources import bundled_registry
from errata_db.targets import TARGETS

ACME = FIXTURES / "overlays" / "acme"
NEW_ENTRY = """
  - name: {name}
    bit: {bit}
    vendor: ARM
    errata_ids: ["{eid}"]
    description: A new erratum.
    guest: needed
    impact: corruption
    impact_note: A test entry.
    kconfig: [ARM64_ERRATUM_{eid}]
    affects:
      - cpu: cortex-a53
        revisions: r0p0
{extra}    status: active
"""
# The valid fixture gives bits 0, 2 (retired), 3 and 8.
FIRST_FREE = 1


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A directory holding errata-db/, a copy of the valid fixture, as a checkout would."""
    shutil.copytree(FIXTURES / "valid", tmp_path / "errata-db")
    return tmp_path


def cli(checkout: Path, *args: str):
    return run_cli(*args, cwd=checkout)


def add_entry(checkout: Path, bit: int, name: str = "WORKAROUND_NEW_ONE", eid: str = "9999999",
              extra: str = "") -> int:
    """Append an erratum to errata/a.yaml; the line of its `bit:`."""
    path = checkout / "errata-db" / "errata" / "a.yaml"
    text = path.read_text()
    path.write_text(text + NEW_ENTRY.format(name=name, bit=bit, eid=eid, extra=extra))
    return text.count("\n") + 3


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} must occur once in {path}"
    path.write_text(text.replace(old, new))


def advised(message: str) -> list[str]:
    """The command a message advises, as its words: `errata-db ...` in backquotes, or after 'run: '."""
    found = re.findall(r"`(errata-db [^`]*)`", message) + re.findall(r"run: (errata-db .*)$", message, re.M)
    assert len(found) == 1, f"expected one command in {message!r}"
    words = shlex.split(found[0])
    assert words[0] == "errata-db"
    return words[1:]


def follow(checkout: Path, message: str):
    return cli(checkout, *advised(message))


# --- 1. next-bit answers on a broken registry, and every fix hint works ---------------------


def test_duplicate_bit_advice_next_bit_answers_and_its_bit_validates(checkout):
    line = add_entry(checkout, bit=3)
    result = cli(checkout, "validate")
    advice = (f"errata-db/errata/a.yaml:{line}:10: error: bit 3 of 'WORKAROUND_NEW_ONE' is already given "
              "to 'WORKAROUND_843419' at errata-db/errata/a.yaml:24:10; run `errata-db next-bit` "
              "for a free bit [duplicate-bit]")
    assert result.code == 1 and result.err.splitlines() == [advice]
    free = follow(checkout, advice)
    assert (free.code, free.out) == (0, f"{FIRST_FREE}\n")
    assert free.err == ("errata-db: note: the registry has 1 error(s) (`errata-db validate` lists them); "
                        "every bit its entries and locks hold counts as taken\n")
    edit(checkout / "errata-db/errata/a.yaml", "    bit: 3\n    vendor: ARM\n    errata_ids: [\"9999999\"]",
         f"    bit: {free.out.strip()}\n    vendor: ARM\n    errata_ids: [\"9999999\"]")
    result = cli(checkout, "validate")
    lock_advice = (f"errata-db/errata/a.yaml:{line}:10: error: bit 1 ('WORKAROUND_NEW_ONE') is not in "
                   "bits.lock: run `errata-db lock` [lock]")
    assert result.code == 1 and result.err.splitlines() == [lock_advice]
    assert follow(checkout, lock_advice).code == 0
    assert cli(checkout, "validate").code == 0


BROKEN_HOLDERS = {
    # An entry left out of the model still holds its bit.
    "unknown_cpu": ("errata/a.yaml", NEW_ENTRY.format(name="WORKAROUND_X", bit=1, eid="1", extra="")
                    .replace("cortex-a53", "cortx-a53")),
    "schema_error": ("errata/a.yaml", NEW_ENTRY.format(name="WORKAROUND_X", bit=1, eid="1", extra="")
                     .replace("    vendor: ARM\n", "")),
    "a_string_bit": ("errata/a.yaml", NEW_ENTRY.format(name="WORKAROUND_X", bit='"1"', eid="1", extra="")),
    # A file YAML cannot read: its `bit:` lines are read from the text.
    "yaml_syntax_error": ("errata/b.yaml", "errata:\n  - name: WORKAROUND_X\n    bit: 1\n   vendor: [\n"),
    # Numbers int() refuses: a leading zero (YAML reads 01 as 1), and thousands of digits.
    "leading_zero_in_broken_yaml": ("errata/b.yaml", "errata:\n  - name: WORKAROUND_X\n    bit: 01\n"
                                    "   vendor: [\n"),
    "endless_bit_in_broken_yaml": ("errata/b.yaml", "errata:\n  - name: WORKAROUND_X\n    bit: 1\n"
                                   f"  - bit: {'9' * 5000}\n   vendor: [\n"),
    # A damaged lock line still records its bit.
    "malformed_lock_line": ("bits.lock", "1   activ   0123 WORKAROUND_X\n"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_HOLDERS))
def test_next_bit_skips_the_bit_of_a_broken_entry_or_lock_line(checkout, case):
    rel, text = BROKEN_HOLDERS[case]
    path = checkout / "errata-db" / rel
    path.write_text((path.read_text() if path.exists() else "") + text)
    assert cli(checkout, "validate").code == 1
    result = cli(checkout, "next-bit")
    assert (result.code, result.out) == (0, "4\n"), result.err


def test_next_bit_skips_the_bit_of_an_overlay_entry_in_the_wrong_range(checkout):
    acme = checkout / "acme"
    shutil.copytree(ACME, acme)
    edit(acme / "errata/acme.yaml", "bit: 192", "bit: 1")
    result = cli(checkout, "next-bit", "--overlay", "acme", "--range", "upstream")
    assert (result.code, result.out) == (0, "4\n"), result.err


def test_next_bit_without_readable_ranges_says_what_it_needs(checkout):
    edit(checkout / "errata-db/registry.yaml", "    last: 191\n", "    last: [191]\n")
    result = cli(checkout, "next-bit")
    assert result.code == 1 and result.out == ""
    assert result.err.splitlines()[-1] == ("errata-db: error: next-bit needs the bit ranges of "
                                           "registry.yaml: fix the errors above")


def test_missing_lock_advice_creates_it(checkout):
    (checkout / "errata-db/bits.lock").unlink()
    result = cli(checkout, "validate")
    advice = ("errata-db/bits.lock: error: errata-db/bits.lock is missing: run `errata-db lock` to "
              "create it [lock]")
    assert result.code == 1 and result.err.splitlines() == [advice]
    assert follow(checkout, advice).code == 0
    assert cli(checkout, "validate").code == 0


def test_retired_without_locking_advice_marks_the_lock(checkout):
    edit(checkout / "errata-db/errata/a.yaml", "    errata_ids: [\"843419\"]\n",
         "    errata_ids: [\"843419\"]\n    retired:\n      since: v6.20\n      reason: Gone.\n")
    a = checkout / "errata-db/errata/a.yaml"
    text = a.read_text()
    cut = text.index("name: WORKAROUND_QCOM_FALKOR_E1003")
    a.write_text(text[:cut].replace("            mask: 0x100\n    status: active\n",
                                    "            mask: 0x100\n    status: retired\n") + text[cut:])
    result = cli(checkout, "validate")
    advice = ("errata-db/errata/a.yaml:41:13: error: bit 3 ('WORKAROUND_843419') is retired but "
              "bits.lock says active: run `errata-db lock` [lock]")
    assert result.code == 1 and result.err.splitlines() == [advice]
    assert follow(checkout, advice).code == 0
    assert cli(checkout, "validate").code == 0
    assert "3   retired b208012ddb45edcc WORKAROUND_843419" in (checkout / "errata-db/bits.lock").read_text()


def test_retired_overlay_entry_advice_names_the_overlay(checkout):
    acme = checkout / "acme"
    shutil.copytree(ACME, acme)
    edit(acme / "errata/acme.yaml", "cortex-a76", "cortex-a53")  # a CPU of the valid fixture
    edit(acme / "errata/acme.yaml", "    status: active\n",
         "    status: retired\n    retired:\n      since: v6.20\n      reason: Gone.\n")
    result = cli(checkout, "validate", "--overlay", "acme")
    advice = ("acme/errata/acme.yaml:17:13: error: bit 192 ('WORKAROUND_ACME_42') is retired but "
              "bits.lock says active: run `errata-db lock --overlay acme` [lock]")
    assert result.code == 1 and result.err.splitlines() == [advice]
    assert follow(checkout, advice).code == 0
    assert cli(checkout, "validate", "--overlay", "acme").code == 0


def test_identity_change_advice_gives_new_ids_their_own_bit(checkout):
    a = checkout / "errata-db/errata/a.yaml"
    edit(a, 'errata_ids: ["843419"]', 'errata_ids: ["843419", "9999999"]')
    result = cli(checkout, "validate")
    advice = ("errata-db/errata/a.yaml:26:17: error: the identity of 'WORKAROUND_843419' (bit 3) "
              "changed: bits.lock (errata-db/bits.lock:7:1) has fingerprint b208012ddb45edcc, the "
              "registry's vendor and errata_ids give 0641d54cf0e4860c; restore them, and give new "
              "erratum ids an entry of their own at `errata-db next-bit`, with `cpucap: "
              "WORKAROUND_843419` [lock]")
    assert result.code == 1 and result.err.splitlines() == [advice]
    free = follow(checkout, advice)
    assert (free.code, free.out, free.err) == (0, f"{FIRST_FREE}\n", "")
    edit(a, 'errata_ids: ["843419", "9999999"]', 'errata_ids: ["843419"]')
    add_entry(checkout, bit=int(free.out), name="WORKAROUND_843419_9999999",
              extra="    cpucap: WORKAROUND_843419\n")
    assert cli(checkout, "lock").code == 0
    assert cli(checkout, "validate").code == 0


def test_removed_entry_advice_restores_it_as_retired(checkout):
    a = checkout / "errata-db/errata/a.yaml"
    text = a.read_text()
    start = text.index("  - name: WORKAROUND_QCOM_FALKOR_E1003\n")
    end = text.index("  - name: WORKAROUND_834220\n")
    entry = text[start:end]
    a.write_text(text[:start] + text[end:])
    result = cli(checkout, "validate")
    advice = ("errata-db/bits.lock:8:1: error: bit 8 ('WORKAROUND_QCOM_FALKOR_E1003') is in bits.lock but no "
              "erratum has it: restore the entry, with `status: retired` if it is gone [lock]")
    assert result.code == 1 and advice in result.err.splitlines(), result.err
    retired = entry.replace("    status: active\n", "    status: retired\n    retired:\n      since: v6.20\n"
                            "      reason: The workaround was removed.\n")
    a.write_text(a.read_text().replace("  - name: WORKAROUND_834220\n", retired + "  - name: WORKAROUND_834220\n"))
    result = cli(checkout, "validate")
    lock_advice = ("errata-db/errata/a.yaml:55:13: error: bit 8 ('WORKAROUND_QCOM_FALKOR_E1003') is retired "
                   "but bits.lock says active: run `errata-db lock` [lock]")
    assert result.code == 1 and result.err.splitlines() == [lock_advice]
    assert follow(checkout, lock_advice).code == 0
    assert cli(checkout, "validate").code == 0


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(checkout: Path) -> Path:
    """The checkout as a git repository, its registry committed on main."""
    git(checkout, "init", "-q", "-b", "main")
    git(checkout, "add", "-A")
    git(checkout, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "registry")
    return checkout


def stability_lines(repo: Path, *args: str) -> tuple[int, list[str]]:
    result = cli(repo, "stability", "--against", "HEAD", *args)
    return result.code, result.out.splitlines()


def test_reused_bit_advice_in_stability_gives_a_bit_that_passes(repo):
    line = add_entry(repo, bit=3)
    code, lines = stability_lines(repo)
    advice = (f"errata-db/errata/a.yaml:{line}:10: breaking: bit 3 was 'WORKAROUND_843419' (active) at "
              "the base and is now given to 'WORKAROUND_NEW_ONE' (was HEAD:errata-db/errata/a.yaml:24:10); "
              "fix: give the new entry the bit `errata-db next-bit` prints; bits are never "
              "reused [bit-reused]")
    assert code == 1 and advice in lines, lines
    free = follow(repo, advice)
    assert (free.code, free.out) == (0, f"{FIRST_FREE}\n")
    edit(repo / "errata-db/errata/a.yaml", "    bit: 3\n    vendor: ARM\n    errata_ids: [\"9999999\"]",
         f"    bit: {free.out.strip()}\n    vendor: ARM\n    errata_ids: [\"9999999\"]")
    assert cli(repo, "lock").code == 0
    code, lines = stability_lines(repo)
    assert code == 0 and lines[0].endswith("safe: new entry 'WORKAROUND_NEW_ONE' at never-used bit 1 "
                                           "[entry-added]"), lines


def test_identity_change_advice_in_stability_passes(repo):
    a = repo / "errata-db/errata/a.yaml"
    edit(a, 'errata_ids: ["843419"]', 'errata_ids: ["843419", "9999999"]')
    code, lines = stability_lines(repo)
    advice = ("errata-db/errata/a.yaml:26:17: breaking: identity of 'WORKAROUND_843419' (bit 3) changed: "
              "errata_ids ['843419'] -> ['843419', '9999999'] (was HEAD:errata-db/errata/a.yaml:26:17); "
              "fix: restore the identity; new erratum ids get an entry of their own at `errata-db "
              "next-bit`, with `cpucap: WORKAROUND_843419` to enable the same cpucap [identity-changed]")
    assert code == 1 and advice in lines, lines
    free = follow(repo, advice)
    assert (free.code, free.out) == (0, f"{FIRST_FREE}\n")
    edit(a, 'errata_ids: ["843419", "9999999"]', 'errata_ids: ["843419"]')
    add_entry(repo, bit=int(free.out), name="WORKAROUND_843419_9999999", extra="    cpucap: WORKAROUND_843419\n")
    assert cli(repo, "lock").code == 0
    code, lines = stability_lines(repo)
    assert code == 0 and "[entry-added]" in lines[0], lines


def test_unretire_advice_in_stability_passes(repo):
    a = repo / "errata-db/errata/a.yaml"
    retired = ("    status: retired\n    retired:\n      since: v6.13\n"
               "      reason: Kept as a retired bit so that the tests cover retirement.\n")
    edit(a, retired, "    status: active\n")
    code, lines = stability_lines(repo)
    advice = ("errata-db/errata/a.yaml:69:13: breaking: retired 'WORKAROUND_834220' (bit 2) was made "
              "active (was HEAD:errata-db/errata/a.yaml:69:13); fix: a retired bit stays retired: add "
              "a new entry at `errata-db next-bit` [entry-unretired]")
    assert code == 1 and advice in lines, lines
    free = follow(repo, advice)
    assert (free.code, free.out) == (0, f"{FIRST_FREE}\n")
    edit(a, "      - cpu: cortex-a57\n        revisions: r0p0..r1p2\n    status: active\n",
         "      - cpu: cortex-a57\n        revisions: r0p0..r1p2\n" + retired)
    add_entry(repo, bit=int(free.out), name="WORKAROUND_834220_AGAIN", eid="834220",
              extra="    shares_ids_with: [WORKAROUND_834220]\n")
    edit(a, "    status: retired\n", "    shares_ids_with: [WORKAROUND_834220_AGAIN]\n    status: retired\n")
    assert cli(repo, "lock").code == 0, cli(repo, "validate").err
    code, lines = stability_lines(repo)
    assert code == 0 and "[entry-added]" in lines[0], lines


def test_stale_generated_files_advice_regenerates_them(checkout):
    assert cli(checkout, "generate").code == 0
    edit(checkout / "errata-db/errata/a.yaml", "Cortex-A53 load or store", "A Cortex-A53 load or store")
    result = cli(checkout, "generate", "--check")
    assert result.code == 1
    advice = result.err.splitlines()[-1]
    assert advice == "errata-db: 4 generated file(s) out of date; run: errata-db generate --out generated"
    assert follow(checkout, advice).code == 0
    assert cli(checkout, "generate", "--check").code == 0


def test_stale_installed_headers_advice_reinstalls_them(repo_registry_tree):
    checkout, tree = repo_registry_tree
    result = cli(checkout, "install", "--kernel-tree", "linux", "--check")
    assert result.code == 1
    advice = result.err.splitlines()[-1]
    assert advice == "errata-db: 2 installed header(s) missing; run: errata-db install --kernel-tree linux"
    assert follow(checkout, advice).code == 0
    assert cli(checkout, "install", "--kernel-tree", "linux", "--check").code == 0


@pytest.fixture
def repo_registry_tree(tmp_path: Path, registry):
    """A checkout holding the bundled registry, and a small Linux tree beside it."""
    shutil.copytree(REGISTRY, tmp_path / "errata-db")
    return tmp_path, fake_linux.write_tree(tmp_path / "linux", registry)


def test_no_main_branch_advice_compares_with_the_ref_given(repo):
    git(repo, "branch", "-m", "main", "topic")
    result = cli(repo, "stability")
    assert result.code == 2
    assert result.err == ("errata-db: error: no main branch found (tried origin/HEAD, origin/main, "
                          "origin/master, main, master): pass --against REF\n")
    followed = cli(repo, "stability", "--against", "HEAD")
    assert followed.code == 0 and followed.out == "0 breaking, 0 need review, 0 safe change(s) against HEAD\n"


def test_shallow_clone_advice_fetches_what_stability_needs(repo, tmp_path):
    base = git(repo, "rev-parse", "HEAD").strip()
    edit(repo / "errata-db/errata/a.yaml", "Cortex-A53 load or store", "A Cortex-A53 load or store")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "text")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    result = cli(clone, "stability", "--against", base)
    assert result.code == 2
    advice = re.search(r"run `(git [^`]*)`", result.err)
    assert advice is not None and advice.group(1) == "git fetch --unshallow", result.err
    git(clone, *shlex.split(advice.group(1))[1:])
    followed = cli(clone, "stability", "--against", base)
    assert followed.code == 0 and "[description-changed]" in followed.out


# --- 2. an ARM64_ prefix on a name or a cpucap ----------------------------------------------


@pytest.mark.parametrize("old, new, advice", [
    ("  - name: WORKAROUND_843419\n", "  - name: ARM64_WORKAROUND_843419\n",
     "errata-db/errata/a.yaml:23:11: error: name 'ARM64_WORKAROUND_843419' starts with ARM64_, which the "
     "generated code adds (it would read ARM64_ARM64_WORKAROUND_843419): write `name: WORKAROUND_843419` "
     "[arm64-prefix]"),
    ("  - name: WORKAROUND_843419\n", "  - name: WORKAROUND_843419\n    cpucap: ARM64_WORKAROUND_843419\n",
     "errata-db/errata/a.yaml:24:13: error: cpucap 'ARM64_WORKAROUND_843419' starts with ARM64_, which the "
     "generated code adds (it would read ARM64_ARM64_WORKAROUND_843419): write `cpucap: WORKAROUND_843419` "
     "[arm64-prefix]"),
])
def test_arm64_prefix_advice_names_it_without_the_prefix(checkout, old, new, advice):
    a = checkout / "errata-db/errata/a.yaml"
    edit(a, old, new)
    result = cli(checkout, "validate")
    assert result.code == 1 and advice in result.err.splitlines(), result.err
    # Nothing can lock the mistake in.
    assert cli(checkout, "lock").code == 1
    fixed = re.search(r"write `(\w+): (\w+)`", advice)
    edit(a, new, new.replace(f"{fixed.group(1)}: ARM64_", f"{fixed.group(1)}: "))
    assert cli(checkout, "validate").code == 0


# --- 3. a CPU the registry does not know is not a CPU without errata ------------------------


def bundled(*args: str):
    return run_cli(*args, "--registry", str(REGISTRY))


UNKNOWN_CPU = ("MIDR 0x12345678 (implementer 0x12, part 0x567) is not in cpus.yaml: the registry knows "
               "no errata for it, which does not mean it has none")


def test_lookup_of_a_cpu_not_in_cpus_yaml_says_so_in_text_and_json():
    text = bundled("lookup", "--midr", "0x12345678")
    assert (text.code, text.out) == (0, "MIDR 0x12345678 REVIDR 0x00000000: not in cpus.yaml\n"
                                        f"  warning: {UNKNOWN_CPU} [unknown-cpu]\n")
    doc = json.loads(bundled("lookup", "--midr", "0x12345678", "--format", "json").out)
    assert (doc["cpu"], doc["errata"]) == (None, [])
    assert doc["warnings"] == [{"kind": "unknown-cpu", "message": UNKNOWN_CPU}]


def test_bitmap_with_a_cpu_not_in_cpus_yaml_says_so_in_text_and_json():
    text = bundled("bitmap", "--cpu", "0x12345678", "--cpu", "0x410fd034")
    assert text.code == 0
    assert text.out.splitlines()[4:] == [
        "2 errata for 2 CPU(s)",
        "  bit   3  R0  WORKAROUND_843419                        ARM 843419",
        "  bit   4  R0  WORKAROUND_845719                        ARM 845719",
        f"  warning: {UNKNOWN_CPU} [unknown-cpu]"]
    doc = json.loads(bundled("bitmap", "--cpu", "0x12345678", "--format", "json").out)
    assert doc["warnings"] == [{"kind": "unknown-cpu", "message": UNKNOWN_CPU}]


@pytest.mark.parametrize("typed, advice, midr", [
    # r9p4: a variant mistyped for r0p4.
    ("0x419fd034", "Cortex-A53 r9p4: no erratum of the registry names a Cortex-A53 revision above r0p4; "
     "if the MIDR's variant or revision is mistyped, the closest known CPU is Cortex-A53 r0p4, "
     "MIDR 0x410fd034 [unknown-revision]", "0x410fd034"),
    # The architecture field left out.
    ("0x4100d034", "MIDR 0x4100d034 has architecture 0x0, not 0xf as every arm64 CPU: the kernel matches "
     "no errata for it; Cortex-A53 r0p4 is MIDR 0x410fd034 [unknown-architecture]", "0x410fd034"),
])
def test_lookup_of_a_known_cpu_at_an_unknown_revision_suggests_the_closest(typed, advice, midr):
    result = bundled("lookup", "--midr", typed)
    assert result.code == 0
    assert result.out.splitlines()[-1] == f"  warning: {advice}"
    assert re.search(r"MIDR (0x[0-9a-f]{8}) \[", advice).group(1) == midr
    followed = bundled("lookup", "--midr", midr)
    assert followed.out.splitlines()[0] == f"MIDR {midr} REVIDR 0x00000000 (Cortex-A53 r0p4): 2 errata"
    assert "warning" not in followed.out
    doc = json.loads(bundled("lookup", "--midr", typed, "--format", "json").out)
    assert doc["cpu"] == "Cortex-A53" and doc["warnings"][0]["message"] == advice.rsplit(" [", 1)[0]


# --- 4. the writing commands never fall back to the bundled registry --------------------------


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A directory with no errata-db/ in it or above it."""
    root = tmp_path / "elsewhere"
    root.mkdir()
    assert not any((p / "errata-db" / "registry.yaml").is_file() for p in (root, *root.parents))
    assert bundled_registry().is_dir()
    return root


def bundled_note() -> str:
    return (f"errata-db: note: no errata-db/ in this directory or its parents: using the registry "
            f"bundled with the package, {bundled_registry()}\n")


@pytest.mark.parametrize("command", [["generate"], ["install", "--kernel-tree", "linux"]])
def test_writing_commands_outside_a_checkout_say_what_they_need_and_write_nothing(
        elsewhere, registry, command):
    fake_linux.write_tree(elsewhere / "linux", registry)
    before = sorted(p.relative_to(elsewhere) for p in elsewhere.rglob("*"))
    result = run_cli(*command, cwd=elsewhere)
    assert (result.code, result.out) == (2, "")
    assert result.err == (f"errata-db: error: no errata-db/ registry in this directory or its parents, and "
                          f"{command[0]} does not work on the copy bundled with the package: run it in "
                          "the checkout that holds errata-db/, or pass --registry DIR (that copy is "
                          f"--registry {bundled_registry()})\n")
    assert sorted(p.relative_to(elsewhere) for p in elsewhere.rglob("*")) == before
    advice = re.search(r"\(that copy is (--registry \S+)\)", result.err).group(1)
    followed = run_cli(*command, *shlex.split(advice), cwd=elsewhere)
    assert followed.code == 0 and followed.err == "", followed.err


def test_lock_outside_a_checkout_says_to_pass_the_registry_and_that_works(elsewhere):
    result = run_cli("lock", cwd=elsewhere)
    assert (result.code, result.err) == (2, "errata-db: error: no errata-db/ registry in this directory or "
                                            "its parents, and lock does not work on the copy bundled with "
                                            "the package: run it in the checkout that holds errata-db/, or "
                                            "pass --registry DIR\n")
    checkout = elsewhere.parent / "work"
    shutil.copytree(FIXTURES / "valid", checkout / "errata-db")
    add_entry(checkout, bit=FIRST_FREE)
    followed = run_cli("lock", "--registry", str(checkout / "errata-db"), cwd=elsewhere)
    assert followed.code == 0 and "WORKAROUND_NEW_ONE" in (checkout / "errata-db/bits.lock").read_text()


@pytest.mark.parametrize("command", [["validate"], ["lookup", "--midr", "0x410fd034"],
                                     ["next-bit"], ["generate", "--check"]])
def test_read_only_commands_outside_a_checkout_use_the_bundled_registry_and_say_so(elsewhere, command):
    result = run_cli(*command, cwd=elsewhere)
    assert result.err.startswith(bundled_note())
    assert result.err.count("\n") == 1 or command == ["generate", "--check"]


def test_generate_check_outside_a_checkout_advises_a_command_that_works(elsewhere):
    result = run_cli("generate", "--check", cwd=elsewhere)
    assert result.code == 1
    advice = result.err.splitlines()[-1]
    assert advice == (f"errata-db: {len(TARGETS)} generated file(s) missing; run: errata-db generate --registry "
                      f"{bundled_registry()} --out generated")
    assert follow(elsewhere, advice).code == 0
    assert run_cli("generate", "--check", cwd=elsewhere).code == 0


# --- 5. smaller things a user notices ---------------------------------------------------------


def test_generate_says_how_many_files_it_left_unchanged(checkout):
    assert cli(checkout, "generate").out.count("new       generated/") == len(TARGETS)
    again = cli(checkout, "generate")
    assert (again.code, again.out) == (0, f"0 of {len(TARGETS)} file(s) changed\n")
    edit(checkout / "errata-db/errata/a.yaml", "Cortex-A53 load or store", "A Cortex-A53 load or store")
    some = cli(checkout, "generate")
    changed = some.out.count("updated   generated/")
    assert 0 < changed < len(TARGETS)
    assert some.out.splitlines()[-1] == f"{changed} of {len(TARGETS)} file(s) changed"


def test_a_misspelt_cpu_gets_the_closest_id_not_a_list_of_all(tmp_path):
    shutil.copytree(REGISTRY, tmp_path / "errata-db")
    arm = tmp_path / "errata-db/errata/arm.yaml"
    text = arm.read_text()
    line = text[:text.index("      - cpu: cortex-a57\n")].count("\n") + 1
    arm.write_text(text.replace("      - cpu: cortex-a57\n", "      - cpu: cortx-a57\n", 1))
    result = cli(tmp_path, "validate")
    advice = (f"errata-db/errata/arm.yaml:{line}:14: error: unknown CPU 'cortx-a57': not defined in "
              "cpus.yaml; did you mean 'cortex-a57'? [unknown-cpu]")
    assert result.code == 1 and result.err.splitlines() == [advice]
    arm.write_text(arm.read_text().replace("cortx-a57", re.search(r"did you mean '(.*)'\?", advice).group(1)))
    assert cli(tmp_path, "validate").code == 0


def test_bitmap_json_names_an_erratum_register_as_its_registers_do():
    doc = json.loads(bundled("bitmap", "--cpu", "0x410fd034", "--cpu", "0x413fd0c1", "--format", "json").out)
    assert doc["errata"]
    for e in doc["errata"]:
        assert e["register"] in doc["registers"], e
        assert int(doc["registers"][e["register"]], 16) >> e["register_bit"] & 1, e
        assert e["bit"] == int(e["register"][1:]) * 64 + e["register_bit"]
    fleet_errata = json.loads(bundled("fleet", "--hosts", str(REGISTRY.parent / "examples/fleet.yaml"), "--format", "json").out)["errata"]
    exported = json.loads((REGISTRY.parent / "generated/json/errata.json").read_text())["errata"]
    assert {e["register"] for e in fleet_errata} | {e["register"] for e in exported} <= set(doc["registers"])


def test_a_moved_bit_is_reported_as_moved_and_putting_it_back_works(checkout):
    a = checkout / "errata-db/errata/a.yaml"
    edit(a, "    bit: 8\n", "    bit: 40\n")
    result = cli(checkout, "validate")
    advice = ("errata-db/errata/a.yaml:41:10: error: 'WORKAROUND_QCOM_FALKOR_E1003' moved from bit 8 to "
              "bit 40: bits.lock (errata-db/bits.lock:8:1) locks it at bit 8, and a bit never moves; put "
              "it back at bit 8 [lock]")
    assert result.code == 1 and result.err.splitlines() == [advice]
    assert "missing" not in result.err and "restore the entry" not in result.err
    back = re.search(r"put it back at bit (\d+)", advice).group(1)
    edit(a, "    bit: 40\n", f"    bit: {back}\n")
    assert cli(checkout, "validate").code == 0


def test_a_schema_error_names_the_entry_by_its_name(tmp_path):
    shutil.copytree(REGISTRY, tmp_path / "errata-db")
    arm = tmp_path / "errata-db/errata/arm.yaml"
    text = arm.read_text()
    start = text.index("  - name: WORKAROUND_843419\n")
    line = text[:text.index("    bit: 3\n", start)].count("\n") + 1
    arm.write_text(text[:start] + text[start:].replace("    bit: 3\n", "    bit: three\n", 1))
    result = cli(tmp_path, "validate")
    advice = (f"errata-db/errata/arm.yaml:{line}:10: error: 'errata[WORKAROUND_843419].bit': 'three' is not "
              "of type 'integer' [schema-type]")
    assert result.code == 1 and result.err.splitlines() == [advice]
    # The name leads to the entry without counting entries.
    name = re.search(r"'errata\[(\w+)\]", advice).group(1)
    assert arm.read_text().splitlines()[line - 2] == f"  - name: {name}"


def test_a_schema_error_in_an_entry_without_a_usable_name_keeps_its_index(checkout):
    edit(checkout / "errata-db/errata/a.yaml", "  - name: WORKAROUND_843419\n    bit: 3\n",
         "  - name: [WORKAROUND_843419]\n    bit: 3\n")
    result = cli(checkout, "validate")
    assert "error: 'errata.1.name': ['WORKAROUND_843419'] is not of type 'string' [schema-type]" in result.err


def test_a_tab_used_as_indentation_says_to_indent_with_spaces(checkout):
    a = checkout / "errata-db/errata/a.yaml"
    edit(a, "    bit: 3\n", "\tbit: 3\n")
    result = cli(checkout, "validate")
    advice = ("errata-db/errata/a.yaml:24:1: error: YAML syntax error: found character '\\t' that cannot "
              "start any token; indent with spaces: YAML does not allow tabs for indentation [yaml-syntax]")
    assert result.code == 1 and result.err.splitlines() == [advice]
    edit(a, "\tbit: 3\n", "    bit: 3\n")
    assert cli(checkout, "validate").code == 0


# --- 6. the system tools the tests use are documented and installed --------------------------


def _tools_table() -> list[list[str]]:
    readme = (REGISTRY.parent / "docs/tests.md").read_text()
    start = readme.index("System tools the tests use")
    rows = re.findall(r"^\|(.*)\|$", readme[start:readme.index("\n\n", readme.index("|", start))], re.M)
    return [[cell.strip() for cell in row.split("|")] for row in rows[2:]]


def test_readme_names_each_test_file_that_skips_without_a_tool_and_ci_installs_the_packages():
    table = _tools_table()
    documented = " ".join(" ".join(row) for row in table)
    for test in sorted((REGISTRY.parent / "tests").glob("test_*.py")):
        if test.name == Path(__file__).name:
            continue  # this test spells the patterns it looks for
        text = test.read_text()
        tools = set(re.findall(r'shutil\.which\("([\w.-]+)"\)', text))
        if "CROSS_COMPILE}gcc" in text:
            tools.add("aarch64-linux-gnu-gcc")
        if tools or "TREE_ENV" in text:
            assert f"`tests/{test.name}`" in documented, f"docs/tests.md does not say {test.name} needs a tool"
        for tool in tools:
            assert f"`{tool}`" in documented, f"docs/tests.md does not name {tool}, which {test.name} uses"
    packages = {p for row in table for p in re.findall(r"\(`([\w.+-]+)`\)", row[0])}
    packages |= {p for row in table for p in re.findall(r"`([\w.+-]+)`", row[0])
                 if p in ("make", "perl", "bc", "flex", "bison", "libssl-dev", "libelf-dev", "git")}
    assert {"gcc", "gcc-aarch64-linux-gnu", "linux-source-6.12"} <= packages
    ci = (REGISTRY.parent / ".ci/run").read_text()
    install = ci[ci.index("apt-get install"):]
    install = install[:install.index(">/dev/null")]
    assert ci.index("apt-get install") < ci.index("python3 -m pytest"), "the tools must be there for the fast tier"
    assert packages <= set(install.replace("\\\n", " ").split()), packages - set(install.split())
