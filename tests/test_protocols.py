"""The protocols the commands run, called as functions, without the command line: updating the
lock (registry.relock), importing a tree into a registry (kernel/importer.into, into_empty),
resolving stability's base (history) and reading a guest tree (kernel/guest)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import REGISTRY
from generated_tree import older, write_tree
from test_stability import commit, edit, repo  # noqa: F401 - repo is a fixture

from errata_db import history, lock
from errata_db.kernel import importer
from errata_db.kernel.facts import read_facts
from errata_db.kernel.guest import read_guest
from errata_db.kernel.tree import IMPORT_MARKERS, Tree
from errata_db.registry import assemble, load_registry, read_directory, relock


@pytest.fixture(scope="module")
def bundled():
    return load_registry(REGISTRY).registry


def registry_copy(tmp_path: Path) -> Path:
    root = tmp_path / "reg"
    shutil.copytree(REGISTRY, root)
    return root


def test_relock_appends_the_line_of_a_bit_the_lock_lacks_and_nothing_else(tmp_path):
    root = registry_copy(tmp_path)
    path = root / lock.LOCK_NAME
    full = path.read_text()
    path.write_text("".join(line for line in full.splitlines(keepends=True) if not line.startswith("37 ")))
    update = relock(read_directory(root, str(root)), ())
    assert update.valid and not update.new_meaning
    [(tree, old, new)] = update.locks
    assert tree.root == str(root) and old != full and new == full


def test_relock_refuses_a_lock_that_gives_a_locked_bit_a_new_meaning(tmp_path):
    root = registry_copy(tmp_path)
    arm = root / "errata/arm.yaml"
    # Bit 0's identity (name, vendor, ids) changes: its lock line would then mean another erratum.
    arm.write_text(arm.read_text().replace("    vendor: ARM\n", "    vendor: Arm\n", 1))
    update = relock(read_directory(root, str(root)), ())
    assert not update.valid and update.new_meaning and update.locks == ()
    assert any(d.rule == "lock" for d in update.diagnostics)


def test_importing_the_tree_a_registry_describes_into_it_changes_no_file(tmp_path, bundled):
    tree = Tree.open(write_tree(tmp_path / "linux", bundled), "linux", IMPORT_MARKERS)
    upstream = read_directory(REGISTRY, str(REGISTRY))
    imported = importer.into(upstream, (), bundled, read_facts(tree))
    assert imported.valid and imported.changed == {}
    assert len(imported.plan.unchanged) == len(bundled.errata)


@pytest.mark.slow
def test_importing_an_older_tree_narrows_and_the_result_validates_before_anything_is_written(tmp_path, bundled):
    tree = Tree.open(write_tree(tmp_path / "linux", older(bundled)), "linux", IMPORT_MARKERS)
    upstream = read_directory(REGISTRY, str(REGISTRY))
    imported = importer.into(upstream, (), bundled, read_facts(tree))
    assert imported.valid
    assert [c.erratum.name for c in imported.plan.changed if c.lost] == [
        "WORKAROUND_SPECULATIVE_SSBS", "WORKAROUND_SPECULATIVE_UNPRIV_LOAD"]
    # What would be written is exactly what the trial registry was loaded from.
    trial = assemble(upstream.with_texts(imported.changed))
    assert trial.registry == imported.result.registry


def test_into_empty_gives_a_valid_registry_of_the_tree_s_own_rows(tmp_path, bundled):
    tree = Tree.open(write_tree(tmp_path / "linux", bundled), "linux", IMPORT_MARKERS)
    imported = importer.into_empty(read_facts(tree))
    assert imported.valid
    assert {e.enables for e in imported.result.registry.errata} == {e.enables for e in bundled.errata}
    assert lock.LOCK_NAME in imported.changed


def test_the_stability_base_is_the_ref_and_the_registry_as_it_was_there(repo):  # noqa: F811
    edit(repo, "errata/arm.yaml", "Cortex-A57 may", "Cortex-A57 might")
    commit(repo, "reword")
    upstream = read_directory(repo / "errata-db", str(repo / "errata-db"))
    base = history.resolve(repo, "HEAD~1", (upstream,))
    assert base.ref == "HEAD~1" and base.tracked == (True,)
    [old], notes = history.trees_at(base, (upstream,), ["upstream"])
    assert notes == [] and old.root == f"HEAD~1:{upstream.root}"
    texts = {old.rel(f): f.data for f in old.files}
    assert b"Cortex-A57 may" in texts["errata/arm.yaml"]


def test_an_empty_against_has_no_history(repo):  # noqa: F811
    upstream = read_directory(repo / "errata-db", str(repo / "errata-db"))
    with pytest.raises(history.NoHistory, match="--against needs a git ref"):
        history.resolve(repo, "", (upstream,))


def test_a_guest_tree_is_its_own_registry_and_says_it_lacks_the_target_list(tmp_path, bundled):
    tree = Tree.open(write_tree(tmp_path / "linux", bundled), str(tmp_path / "linux"), IMPORT_MARKERS)
    guest, diags = read_guest(tree)
    assert diags == () and guest.name == f"Linux 6.99.0 at {tmp_path / 'linux'}"
    assert {e.enables for e in guest.registry.errata} <= guest.cpucaps
    assert guest.no_target_impl == "arch/arm64/kernel/cpu_errata.c has no cpu_errata_set_target_impl()"
