"""stability: every rule as a previous/current pair in a real git repository, and a mutation
sweep over the bundled registry."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REGISTRY, run_cli
from errata_db.model import ALL_REVISIONS
from errata_db.stability import Level, compare


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose first commit holds a copy of the bundled registry."""
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copytree(REGISTRY, root / "errata-db")
    git(root, "init", "-q", "-b", "main")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base", "--allow-empty")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "registry")
    return root


def commit(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message)


def edit(repo: Path, rel: str, old: str, new: str, count: int = 1) -> None:
    path = repo / "errata-db" / rel
    text = path.read_text()
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, count))


def stability(repo: Path, *extra: str) -> tuple[int, list[tuple[str, str]], dict]:
    result = run_cli("stability", "--against", "HEAD", "--format", "json", *extra, cwd=repo)
    doc = json.loads(result.out) if result.out.strip() else {"changes": []}
    return result.code, [(c["level"], c["rule"]) for c in doc["changes"]], doc


ENTRY_1 = """  - name: WORKAROUND_DEVICE_LOAD_ACQUIRE
    bit: 1
"""
NEW_ENTRY = """  - name: WORKAROUND_NEW_ONE
    bit: {bit}
    vendor: ARM
    errata_ids: ["9999999"]
    description: A new erratum.
    guest: needed
    impact: corruption
    impact_note: A test entry.
    kconfig: [ARM64_ERRATUM_9999999]
    affects:
      - cpu: cortex-a53
        revisions: r0p0
    status: active
"""
RETIRED = """    status: retired
    retired:
      since: v6.20
      reason: The last affected part was never shipped.
"""


def _retire_bit_32(repo: Path) -> None:
    path = repo / "errata-db" / "errata" / "ampere.yaml"
    text = path.read_text()
    assert text.rstrip().endswith("status: active")
    path.write_text(text.rstrip()[: -len("    status: active")] + RETIRED)


# --- breaking -------------------------------------------------------------------------------


def test_moving_a_bit_is_breaking_and_names_both_places(repo):
    edit(repo, "errata/arm.yaml", ENTRY_1, ENTRY_1.replace("bit: 1", "bit: 40"))
    code, changes, doc = stability(repo)
    assert code == 1
    assert ("breaking", "bit-moved") in changes
    moved = next(c for c in doc["changes"] if c["rule"] == "bit-moved")
    assert moved["now"].startswith("errata-db/errata/arm.yaml:") and moved["then"].startswith("HEAD:errata-db/errata/arm.yaml:")
    assert "put it back at bit 1" in moved["fix"]


def test_removing_an_entry_without_a_tombstone_is_breaking(repo):
    path = repo / "errata-db" / "errata" / "arm.yaml"
    text = path.read_text()
    start = text.index("  - name: WORKAROUND_834220")
    path.write_text(text[:start] + text[text.index("  - name: WORKAROUND_843419"):])
    code, changes, doc = stability(repo)
    assert code == 1 and ("breaking", "entry-removed") in changes
    assert "status: retired" in next(c["fix"] for c in doc["changes"] if c["rule"] == "entry-removed")


def test_giving_an_active_bit_a_new_name_is_breaking(repo):
    edit(repo, "errata/arm.yaml", "name: WORKAROUND_DEVICE_LOAD_ACQUIRE", "name: WORKAROUND_SOMETHING_ELSE")
    code, changes, _ = stability(repo)
    assert code == 1 and ("breaking", "bit-reused") in changes


def test_reusing_a_retired_bit_is_breaking(repo):
    _retire_bit_32(repo)
    assert run_cli("lock", cwd=repo).code == 0
    commit(repo, "retire 32")
    path = repo / "errata-db" / "errata" / "arm.yaml"
    path.write_text(path.read_text() + NEW_ENTRY.format(bit=32))
    code, changes, _ = stability(repo)
    assert code == 1 and ("breaking", "bit-reused") in changes


def test_changing_an_erratum_id_is_breaking(repo):
    edit(repo, "errata/arm.yaml", 'errata_ids: ["832075"]', 'errata_ids: ["832076"]')
    code, changes, _ = stability(repo)
    assert code == 1 and ("breaking", "identity-changed") in changes


def test_changing_the_vendor_is_breaking(repo):
    edit(repo, "errata/nvidia.yaml", "vendor: NVIDIA", "vendor: Nvidia Corp")
    code, changes, _ = stability(repo)
    assert code == 1 and ("breaking", "identity-changed") in changes


def test_shrinking_the_owner_range_under_an_entry_is_breaking(repo):
    edit(repo, "registry.yaml", "    first: 0\n    last: 191\n", "    first: 0\n    last: 20\n")
    code, changes, _ = stability(repo)
    assert code == 1 and ("breaking", "owner-range") in changes


def test_editing_a_lock_line_is_breaking(repo):
    path = repo / "errata-db" / "bits.lock"
    lines = path.read_text().splitlines(keepends=True)
    idx = next(i for i, line in enumerate(lines) if line.startswith("5 "))
    fields = lines[idx].split()
    lines[idx] = lines[idx].replace(fields[2], "0" * 16)
    path.write_text("".join(lines))
    code, changes, _ = stability(repo)
    assert code == 1 and ("breaking", "lock-line-edited") in changes


def test_deleting_a_lock_line_is_breaking(repo):
    path = repo / "errata-db" / "bits.lock"
    path.write_text("".join(line for line in path.read_text().splitlines(keepends=True)
                            if not line.startswith("7 ")))
    code, changes, _ = stability(repo)
    assert code == 1 and ("breaking", "lock-line-deleted") in changes


def test_changing_a_cpus_part_number_is_breaking(repo):
    edit(repo, "cpus.yaml", "part: 0xd03", "part: 0xd02")
    code, changes, _ = stability(repo)
    assert code == 1 and ("breaking", "cpu-changed") in changes


def test_making_a_retired_entry_active_again_is_breaking(repo):
    _retire_bit_32(repo)
    assert run_cli("lock", cwd=repo).code == 0
    commit(repo, "retire 32")
    path = repo / "errata-db" / "errata" / "ampere.yaml"
    text = path.read_text()
    path.write_text(text[: text.index("    status: retired")] + "    status: active\n")
    code, changes, _ = stability(repo)
    assert code == 1 and ("breaking", "entry-unretired") in changes


def test_changing_a_cpus_macro_is_breaking(repo):
    edit(repo, "cpus.yaml", "macro: MIDR_CORTEX_A57", "macro: MIDR_CORTEX_A57_NEW")
    code, changes, _ = stability(repo)
    assert code == 1 and ("breaking", "cpu-changed") in changes


def test_reordering_the_registers_is_breaking(repo):
    edit(repo, "registry.yaml", "registers: [R0, R1, R2, R3]", "registers: [R3, R2, R1, R0]")
    code, changes, doc = stability(repo)
    assert code == 1 and changes == [("breaking", "bit-space-changed")]
    assert doc["changes"][0]["now"].startswith("errata-db/registry.yaml:")


def test_renaming_the_hypercall_is_breaking(repo):
    edit(repo, "registry.yaml", "name: ARM_SMCCC_VENDOR_HYP_KVM_MIGRN_ERRATA", "name: ARM_SMCCC_OTHER")
    code, changes, _ = stability(repo)
    assert code == 1 and changes == [("breaking", "hypercall-changed")]


def test_giving_upstream_bits_to_downstream_is_breaking(repo):
    edit(repo, "registry.yaml", "    first: 0\n    last: 191\n", "    first: 0\n    last: 100\n")
    edit(repo, "registry.yaml", "    first: 192\n    last: 239\n", "    first: 101\n    last: 239\n")
    code, changes, _ = stability(repo)
    assert code == 1 and changes == [("breaking", "range-changed")]


def test_growing_a_range_into_reserved_bits_is_not_breaking(repo):
    edit(repo, "registry.yaml", "    first: 192\n    last: 239\n", "    first: 192\n    last: 247\n")
    edit(repo, "registry.yaml", "    first: 240\n    last: 255\n", "    first: 248\n    last: 255\n")
    code, changes, _ = stability(repo)
    assert (code, changes) == (0, [])


def test_lock_refuses_to_lock_a_moved_bit(repo):
    edit(repo, "errata/arm.yaml", ENTRY_1, ENTRY_1.replace("bit: 1", "bit: 40"))
    before = (repo / "errata-db" / "bits.lock").read_text()
    result = run_cli("lock", cwd=repo)
    assert result.code == 1 and "a bit never moves" in result.err
    assert (repo / "errata-db" / "bits.lock").read_text() == before


def test_a_hand_added_lock_line_for_a_moved_bit_is_caught(repo):
    edit(repo, "errata/arm.yaml", ENTRY_1, ENTRY_1.replace("bit: 1", "bit: 40"))
    path = repo / "errata-db" / "bits.lock"
    line = next(x for x in path.read_text().splitlines() if x.startswith("1 "))
    path.write_text(path.read_text() + "40" + line[1:] + "\n")
    result = run_cli("validate", cwd=repo)
    assert result.code == 1
    assert "'WORKAROUND_DEVICE_LOAD_ACQUIRE' is locked at bit 1" in result.err
    assert "and again at bit 40" in result.err


# --- needs review --------------------------------------------------------------------------


def test_narrowing_a_range_needs_review_but_passes(repo):
    edit(repo, "errata/arm.yaml", "revisions: r0p0..r1p2", "revisions: r0p0..r1p1")
    code, changes, _ = stability(repo)
    assert code == 0 and ("needs review", "ranges-narrowed") in changes


def test_adding_a_revidr_fix_needs_review(repo):
    edit(repo, "errata/arm.yaml", "        revisions: r0p0..r1p2\n",
         "        revisions: r0p0..r1p2\n        revidr_fixes:\n          - revision: r1p2\n            mask: 0x1\n")
    code, changes, _ = stability(repo)
    assert code == 0 and ("needs review", "revidr-fix-added") in changes


def test_retiring_an_entry_needs_review(repo):
    _retire_bit_32(repo)
    assert run_cli("lock", cwd=repo).code == 0
    code, changes, _ = stability(repo)
    assert code == 0 and changes == [("needs review", "entry-retired")]


# --- safe ---------------------------------------------------------------------------------


def test_a_new_entry_at_next_bit_is_safe(repo):
    bit = int(run_cli("next-bit", cwd=repo).out)
    path = repo / "errata-db" / "errata" / "arm.yaml"
    path.write_text(path.read_text() + NEW_ENTRY.format(bit=bit))
    assert run_cli("lock", cwd=repo).code == 0
    code, changes, _ = stability(repo)
    assert code == 0 and changes == [("safe", "entry-added")]


def test_next_bit_counts_an_entry_not_yet_locked(repo):
    path = repo / "errata-db" / "errata" / "arm.yaml"
    # The bundled registry (Linux 7.3.4) uses bits 0-37.
    path.write_text(path.read_text() + NEW_ENTRY.format(bit=38))
    result = run_cli("next-bit", cwd=repo)
    assert (result.code, result.out) == (0, "39\n")


def test_a_new_erratum_id_for_an_existing_cpucap_gets_its_own_bit_safely(repo, tmp_path):
    """The path the identity-change advice points to: the old bit keeps its meaning."""
    entry = (NEW_ENTRY.format(bit=38).replace("WORKAROUND_NEW_ONE", "WORKAROUND_SPECULATIVE_UNPRIV_LOAD_9999999")
             .replace("    status: active\n", "    cpucap: WORKAROUND_SPECULATIVE_UNPRIV_LOAD\n    status: active\n"))
    path = repo / "errata-db" / "errata" / "arm.yaml"
    path.write_text(path.read_text() + entry)
    assert run_cli("lock", cwd=repo).code == 0
    code, changes, _ = stability(repo)
    assert code == 0 and changes == [("safe", "entry-added")]
    assert run_cli("generate", "--out", str(tmp_path / "gen"), cwd=repo).code == 0
    header = (tmp_path / "gen/linux/arch/arm64/include/asm/migrn_errata.h").read_text()
    assert "\t{ MIGRN_SAFE_CAP_WORKAROUND_SPECULATIVE_UNPRIV_LOAD_9999999,\n\t  ARM64_WORKAROUND_SPECULATIVE_UNPRIV_LOAD },\n" in header


def test_following_a_cpucap_rename_needs_review(repo):
    edit(repo, "errata/arm.yaml", "  - name: WORKAROUND_DEVICE_LOAD_ACQUIRE\n",
         "  - name: WORKAROUND_DEVICE_LOAD_ACQUIRE\n    cpucap: WORKAROUND_DEVICE_LOAD_ACQ\n")
    code, changes, _ = stability(repo)
    assert code == 0 and changes == [("needs review", "cpucap-changed")]


def test_pointing_a_bit_at_another_bits_cpucap_is_breaking(repo):
    edit(repo, "errata/arm.yaml", "  - name: WORKAROUND_DEVICE_LOAD_ACQUIRE\n",
         "  - name: WORKAROUND_DEVICE_LOAD_ACQUIRE\n    cpucap: WORKAROUND_CLEAN_CACHE\n")
    code, changes, _ = stability(repo)
    assert code == 1 and changes == [("breaking", "cpucap-changed")]


def test_widening_a_range_is_safe(repo):
    edit(repo, "errata/arm.yaml", "revisions: r0p0..r1p2", "revisions: r0p0..r2p2")
    code, changes, _ = stability(repo)
    assert code == 0 and changes == [("safe", "ranges-widened")]


def test_description_and_kconfig_edits_are_safe(repo):
    edit(repo, "errata/arm.yaml", "Cortex-A57 may deadlock", "Cortex-A57 can deadlock")
    edit(repo, "errata/arm.yaml", "kconfig: [ARM64_ERRATUM_832075]", "kconfig: [ARM64_ERRATUM_832075, ARM64_X]")
    code, changes, _ = stability(repo)
    assert code == 0 and sorted(changes) == [("safe", "description-changed"), ("safe", "kconfig-changed")]


def test_an_unchanged_tree_reports_nothing(repo):
    code, changes, _ = stability(repo)
    assert (code, changes) == (0, [])


# --- refs and formats -----------------------------------------------------------------------


def test_an_unknown_ref_exits_2_with_an_explanation(repo):
    result = run_cli("stability", "--against", "no-such-ref", cwd=repo)
    assert result.code == 2 and "unknown git ref 'no-such-ref'" in result.err


def test_a_shallow_clone_missing_the_ref_says_so(repo, tmp_path):
    commit_count = 3
    for i in range(commit_count):
        edit(repo, "errata/arm.yaml", "Cortex-A57 may", f"Cortex-A57 may{i}")
        commit(repo, f"c{i}")
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(clone)], check=True)
    base = git(repo, "rev-list", "--max-parents=0", "HEAD").strip()
    result = run_cli("stability", "--against", base, cwd=clone)
    assert result.code == 2 and "shallow clone" in result.err and "--unshallow" in result.err


def test_default_base_is_the_merge_base_with_main(repo):
    git(repo, "checkout", "-q", "-b", "topic")
    edit(repo, "errata/arm.yaml", ENTRY_1, ENTRY_1.replace("bit: 1", "bit: 40"))
    commit(repo)
    result = run_cli("stability", cwd=repo)
    assert result.code == 1 and "moved from bit 1 to bit 40" in result.out


def test_running_from_a_subdirectory_finds_the_registry_above(repo):
    edit(repo, "errata/arm.yaml", ENTRY_1, ENTRY_1.replace("bit: 1", "bit: 40"))
    (repo / "sub" / "dir").mkdir(parents=True)
    result = run_cli("stability", "--against", "HEAD", cwd=repo / "sub" / "dir")
    assert result.code == 1 and "moved from bit 1 to bit 40" in result.out
    assert "../../errata-db/errata/arm.yaml:" in result.out


def test_a_moved_registry_directory_is_compared_with_where_it_was(repo):
    git(repo, "mv", "errata-db", "reg")
    result = run_cli("stability", "--registry", "reg", "--against", "HEAD", cwd=repo)
    assert result.code == 0 and "reg was at errata-db in HEAD" in result.err
    path = repo / "reg" / "errata" / "arm.yaml"
    path.write_text(path.read_text().replace(ENTRY_1, ENTRY_1.replace("bit: 1", "bit: 40")))
    lock = repo / "reg" / "bits.lock"
    lock.write_text(lock.read_text().replace("\n1   active", "\n40  active"))
    result = run_cli("stability", "--registry", "reg", "--against", "HEAD", cwd=repo)
    assert result.code == 1 and "moved from bit 1 to bit 40" in result.out


def test_a_registry_that_never_existed_at_the_ref_is_a_usage_error(repo):
    base = git(repo, "rev-list", "--max-parents=0", "HEAD").strip()
    result = run_cli("stability", "--against", base, cwd=repo)
    assert result.code == 2 and "does not exist at" in result.err


def test_a_symlinked_registry_is_refused(repo):
    git(repo, "mv", "errata-db", "v1")
    (repo / "errata-db").symlink_to("v1")
    commit(repo, "link")
    result = run_cli("stability", "--against", "HEAD", cwd=repo)
    assert result.code == 2 and "goes through a symbolic link" in result.err


def test_a_symlink_higher_up_the_registry_path_is_refused(repo):
    (repo / "rel").mkdir()
    git(repo, "mv", "errata-db", "rel/errata-db")
    (repo / "current").symlink_to("rel")
    commit(repo, "link")
    result = run_cli("stability", "--registry", "current/errata-db", "--against", "HEAD", cwd=repo)
    assert result.code == 2 and "goes through a symbolic link" in result.err


def test_a_moved_registry_is_not_confused_with_another_one_still_there(repo):
    shutil.copytree(repo / "errata-db", repo / "fixtures" / "errata-db")
    commit(repo, "second registry")
    git(repo, "mv", "errata-db", "reg")
    result = run_cli("stability", "--registry", "reg", "--against", "HEAD", cwd=repo)
    assert result.code == 0 and "reg was at errata-db in HEAD" in result.err


def test_a_registry_outside_the_repository_has_no_history(repo, tmp_path):
    outside = tmp_path / "outside"
    shutil.copytree(repo / "errata-db", outside)
    result = run_cli("stability", "--registry", str(outside), "--against", "HEAD", cwd=repo)
    assert result.code == 2 and "no history to compare with" in result.err


def test_stability_and_lock_never_fall_back_to_the_bundled_registry(tmp_path):
    git(tmp_path, "init", "-q")
    for command in ("stability", "lock"):
        result = run_cli(command, cwd=tmp_path)
        assert result.code == 2 and "no errata-db/ registry in this directory" in result.err


def test_an_errata_file_with_a_non_ascii_name_is_read_at_the_ref(repo):
    (repo / "errata-db" / "errata" / "arm.yaml").rename(repo / "errata-db" / "errata" / "\u00e4rm.yaml")
    commit(repo, "rename")
    code, changes, _ = stability(repo)
    assert (code, changes) == (0, [])


def test_files_at_a_ref_are_read_by_one_git_process_with_odd_names_too(repo):
    from errata_db import gitio

    files = {"errata/a b.yaml": b"spaces\n", "errata/na\u00efve.yaml": b"\xc3\xafn\n\n",
             "errata/line\nbreak.yaml": b"", "errata/empty.yaml": b""}
    for name, data in files.items():
        (repo / "errata-db" / name).write_bytes(data)
    commit(repo)
    head = gitio.resolve(repo, "HEAD")
    names = [f"errata-db/{n}" for n in files]
    batch = [n for n in names if "\n" not in n] + ["errata-db/registry.yaml"]
    assert gitio.blobs(repo, head, batch) == [files[n.removeprefix("errata-db/")] for n in batch[:-1]] + [
        (repo / "errata-db" / "registry.yaml").read_bytes()]
    assert gitio.blobs(repo, head, names) == list(files.values())  # a line break: one by one
    with pytest.raises(gitio.GitProblem, match="cannot read errata-db/missing.yaml"):
        gitio.blobs(repo, head, ["errata-db/registry.yaml", "errata-db/missing.yaml"])


@pytest.mark.parametrize("fmt, marker", [("text", "breaking: 'WORKAROUND_DEVICE_LOAD_ACQUIRE' moved"),
                                         ("github", "::error file=errata-db/errata/arm.yaml,line="),
                                         ("markdown", "#### Breaking (1)")])
def test_output_formats(repo, fmt, marker):
    edit(repo, "errata/arm.yaml", ENTRY_1, ENTRY_1.replace("bit: 1", "bit: 40"))
    result = run_cli("stability", "--against", "HEAD", "--format", fmt, cwd=repo)
    assert result.code == 1 and marker in result.out


# --- mutation sweep over the bundled registry ------------------------------------------------


def _with(reg, errata):
    return dataclasses.replace(reg, errata=tuple(sorted(errata, key=lambda e: e.bit)))


def _mutations(reg):
    """(description, old registry, new registry, should break) for every entry."""
    errata = list(reg.errata)
    free = max(e.bit for e in errata) + 1
    for i, e in enumerate(errata):
        rest = errata[:i] + errata[i + 1:]
        other = errata[(i + 1) % len(errata)]
        yield f"move {e.name}", reg, _with(reg, rest + [dataclasses.replace(e, bit=free)]), True
        swapped = [dataclasses.replace(x, bit=other.bit if x is e else e.bit) if x in (e, other) else x
                   for x in errata]
        yield f"swap {e.name}/{other.name}", reg, _with(reg, swapped), True
        yield f"delete {e.name}", reg, _with(reg, rest), True
        yield f"rename {e.name}", reg, _with(reg, rest + [dataclasses.replace(e, name=e.name + "_X")]), True
        changed_id = dataclasses.replace(e, errata_ids=(*e.errata_ids[:-1], e.errata_ids[-1] + "0"))
        yield f"change id {e.name}", reg, _with(reg, rest + [changed_id]), True
        retired = _with(reg, rest + [dataclasses.replace(e, status="retired", retired_since="v7",
                                                        retired_reason="gone")])
        reuse = dataclasses.replace(e, name="WORKAROUND_REUSED", errata_ids=("1",))
        yield f"reuse retired bit {e.bit}", retired, _with(reg, list(retired.errata) + [reuse]), True
        new = dataclasses.replace(e, name="WORKAROUND_BRAND_NEW", bit=free, errata_ids=("777",))
        yield f"add at next-bit after {e.name}", reg, _with(reg, errata + [new]), False
        a = e.affects[0]
        if (a.low, a.high) != ALL_REVISIONS:
            wider = dataclasses.replace(a, low=(0, 0), high=(15, 15))
        else:
            wider = dataclasses.replace(a, cpu=next(c for c in reg.cpus if c.id != a.cpu.id))
        widened = dataclasses.replace(e, affects=(wider, *e.affects[1:]) if wider.cpu == a.cpu
                                      else (*e.affects, wider))
        yield f"widen {e.name}", reg, _with(reg, rest + [widened]), False
        yield (f"describe {e.name}", reg,
               _with(reg, rest + [dataclasses.replace(e, description=e.description + " More.")]), False)


def test_mutation_sweep_catches_every_breaking_change_and_flags_no_safe_one(registry):
    mutations = list(_mutations(registry))
    failures = []
    for label, old, new, should_break in mutations:
        changes = compare(old, new)
        if any(c.level is Level.BREAKING for c in changes) != should_break:
            failures.append((label, [(c.level.value, c.rule) for c in changes]))
    breaking = sum(1 for *_, should_break in mutations if should_break)
    print(f"mutation sweep: {len(mutations)} mutations, {breaking} breaking, "
          f"{len(failures)} misclassified")
    assert failures == []
    assert breaking == 6 * len(registry.errata) and len(mutations) == 9 * len(registry.errata)
