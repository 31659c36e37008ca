"""The schema's fast path agrees with jsonschema: whenever it answers, its answer is jsonschema's.

schema.fast_check() decides whether a document is valid without jsonschema, so that a valid
registry never pays for it. It may say "don't know" (None), never the wrong thing: every
document of the registry, the fixtures and the fleet example, and a few thousand mutations of
them, are checked against jsonschema's own verdict.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path

import pytest

from conftest import FIXTURES, REGISTRY, REPO
from errata_db import schema
from errata_db.load import SourceFile, parse

POOL = [None, True, False, 0, 1, -1, 3.0, 2 ** 40, "", "x", "0x41", "0123", "retired", "active",
        [], {}, ["a"], ["a", "a"], {"a": 1}, {"since": "v1", "reason": "r"}, "WORKAROUND_X", "r0p0",
        "Expert Review", "R0", 64, [1, 1.0], [True, 1]]


def kind_of(path: Path) -> str | None:
    if path.name == "fleet.yaml":
        return "fleet"
    if path.parent.name == "errata":
        return "errata"
    return {"registry.yaml": "registry", "cpus.yaml": "cpus", "overlay.yaml": "overlay"}.get(path.name)


DOCUMENTS = sorted(p for pattern in ("**/*.yaml",) for base in (REGISTRY, FIXTURES, REPO / "examples")
                   for p in base.glob(pattern) if kind_of(p))


def paths(node, at=()):
    yield at
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, (*at, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths(v, (*at, i))


def mutate(root, rng: random.Random):
    root = copy.deepcopy(root)
    target = rng.choice([p for p in paths(root) if p])
    parent = root
    for k in target[:-1]:
        parent = parent[k]
    key = target[-1]
    action = rng.randrange(4)
    if action == 0 and isinstance(parent, dict):
        del parent[key]
    elif action == 1 and isinstance(parent, dict):
        parent[rng.choice(["unexpected", "retired", "last", "first", "part_mask"])] = rng.choice(POOL)
    elif action == 2 and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[key]))
    else:
        parent[key] = copy.deepcopy(rng.choice(POOL))
    return root


def verdict(kind: str, root) -> bool:
    return not any(True for _ in schema._validator(kind).iter_errors(root))


@pytest.mark.parametrize("path", DOCUMENTS, ids=[str(p.relative_to(REPO)) for p in DOCUMENTS])
def test_the_fast_path_answers_as_jsonschema_does(path: Path):
    kind = kind_of(path)
    doc, diags = parse(SourceFile(str(path), path.read_bytes()))
    assert doc is not None, diags
    fast = schema.fast_check(kind)(doc.root)
    assert fast is verdict(kind, doc.root)  # the committed files get an answer, the right one
    rng = random.Random(path.name)
    answered = 0
    for _ in range(150):
        root = mutate(doc.root, rng)
        fast = schema.fast_check(kind)(root)
        if fast is not None:
            answered += 1
            assert fast is verdict(kind, root), root
    assert answered >= 100
