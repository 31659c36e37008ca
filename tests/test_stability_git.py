"""stability's base ref: a shallow CI checkout gets the --unshallow hint with the default base
as with --against, and an empty --against is a usage error, not the default."""

from __future__ import annotations

import subprocess

from conftest import run_cli
from test_stability import commit, edit, git, repo  # noqa: F401 - repo is a fixture


def test_a_shallow_branch_checkout_with_the_default_base_gets_the_unshallow_hint(repo, tmp_path):
    git(repo, "checkout", "-q", "-b", "feature")
    edit(repo, "errata/arm.yaml", "Cortex-A57 may", "Cortex-A57 might")
    commit(repo, "feature")
    git(repo, "checkout", "-q", "main")
    edit(repo, "errata/arm.yaml", "Cortex-A53 load", "Cortex-A53 loads")
    commit(repo, "main moves on")
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--no-single-branch", "--branch", "feature",
                    f"file://{repo}", str(clone)], check=True)
    result = run_cli("stability", cwd=clone)
    assert result.code == 2, result.err
    assert "shallow clone" in result.err and "`git fetch --unshallow`" in result.err, result.err
    assert "Traceback" not in result.err


def test_an_empty_against_is_a_usage_error_not_the_default_base(repo):
    result = run_cli("stability", "--against", "", cwd=repo)
    assert result.code == 2
    assert result.err.startswith("errata-db: error: --against needs a git ref"), result.err
