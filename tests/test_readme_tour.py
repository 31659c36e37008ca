"""The README's tour, run as a user runs it: every `$ errata-db ...` example, in the README's
order, in a fresh checkout (the registry, generated/ and examples/ committed to a new git
repository whose origin/main is that commit), must exit 0 and print exactly what the README
shows, on stdout, and nothing on stderr. A line `[...]` stands for any lines.

The examples that read a Linux tree (`linux-7.3`) run in the slow tier, on the files of Debian's
Linux 7.3.4 sources that errata-db reads ($ERRATA_DB_LINUX_73); the fast tier runs the others.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, path_from_env, run_cli
from test_docs import _pattern, _readme_examples

from errata_db.kernel.tree import (CPU_ERRATA, CPUCAPS, CPUTYPE, ERRATA_KCONFIGS, INSTALL_MARKERS, KVM_GUEST,
                                   SILICON_ERRATA)

TREE = "linux-7.3"
SHELL = {">", ">>", "|", "&&", ";"}  # an example a shell runs
# What errata-db reads of a tree, and the directories install's markers ask for.
TREE_FILES = ("Makefile", "Kbuild", CPUCAPS, CPUTYPE, CPU_ERRATA, KVM_GUEST, *SILICON_ERRATA, *ERRATA_KCONFIGS)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                   capture_output=True)


def fresh_checkout(root: Path) -> Path:
    for name in ("errata-db", "generated", "examples"):
        shutil.copytree(REPO / name, root / name)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "a fresh clone")
    _git(root, "update-ref", "refs/remotes/origin/main", "HEAD")
    return root


def tree_copy(source: Path, dest: Path) -> None:
    """The files of a Linux tree that errata-db reads, and the directories install needs."""
    for rel in TREE_FILES:
        if (source / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / rel, dest / rel)
    for rel in INSTALL_MARKERS:
        if not (dest / rel).exists():
            (dest / rel).mkdir(parents=True)


def tour(root: Path, with_tree: bool) -> list[str]:
    """Every example run in order; the problems found."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTHONUNBUFFERED")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "generator"), env.get("PYTHONPATH", "")])
    problems, ran = [], 0
    for command, expected in _readme_examples():
        if not with_tree and TREE in shlex.split(command):
            continue
        words = shlex.split(command)
        if set(words) & SHELL:
            shell = command.replace("errata-db", f"{shlex.quote(sys.executable)} -m errata_db", 1)
            proc = subprocess.run(["bash", "-c", shell], cwd=root, env=env, capture_output=True, text=True,
                                  timeout=120)
            code, out, err = proc.returncode, proc.stdout, proc.stderr
        else:  # the same code in this process, without an interpreter's start-up per example
            run = run_cli(*words[1:], cwd=root)
            code, out, err = run.code, run.out, run.err
        ran += 1
        if code != 0 or err:
            problems.append(f"`{command}` exits {code}, with on stderr:\n{err}")
        elif not re.fullmatch(_pattern(expected), out):
            problems.append(f"`{command}`: README.md shows\n" + "\n".join(expected)
                            + f"\nthe command prints\n{out}")
    assert ran >= 10, "the tour found too few examples"
    return problems


def test_the_readme_tour_prints_what_the_readme_shows(tmp_path):
    assert tour(fresh_checkout(tmp_path), with_tree=False) == []


@pytest.mark.slow
def test_the_readme_tour_with_linux_7_3_prints_what_the_readme_shows(tmp_path, request):
    source = path_from_env("ERRATA_DB_LINUX_73", request, what="a Linux 7.3 source tree")
    root = fresh_checkout(tmp_path)
    tree_copy(source, root / TREE)
    assert tour(root, with_tree=True) == []
