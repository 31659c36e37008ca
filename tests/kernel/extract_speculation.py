#!/usr/bin/env python3
"""Read a kernel's speculation lists out of its own preprocessed proton-pack.c and cpufeature.c.

    extract_speculation.py PROTON_PACK_I CPUFEATURE_I > speculation.json

The .i files are `make O=B arch/arm64/kernel/proton-pack.i arch/arm64/kernel/cpufeature.i` of a
configured and prepared build. This is the oracle of tests/test_speculation_linux.py, so it shares
nothing with errata_db's reader: it reads what the compiler sees after every macro and #ifdef is
resolved, with extract_errata.py's parser of C initializers. Printed: every `struct midr_range`
array of the two files that decides a speculation mitigation, each range as numbers, and the
Spectre-BHB loop counts in the order the preprocessed code tries them (`if
(is_midr_in_range_list(...list)) k = N; else if ...`).
"""

from __future__ import annotations

import json
import re
import sys

from extract_errata import Parser, Unsupported, _ranges, tokens

LISTS = ("spectre_v2_safe_list", "spectre_v3a_unsafe_list", "spectre_v4_safe_list", "spectre_bhb_safe_list")
KPTI = "kpti_safe_list"
# One step of the loop-count chain; before Linux 6.15 the call also passes read_cpuid_id().
_STEP = re.compile(r"\bif\s*\(\s*is_midr_in_range_list\s*\((?:\s*read_cpuid_id\s*\(\s*\)\s*,)?\s*(\w+)\s*\)\s*\)"
                   r"\s*k\s*=\s*(\d+)\s*;")


def _plain(text: str) -> str:
    # The preprocessor's line markers (`# 271 "file"`) may sit inside an initializer.
    return re.sub(r"^#.*$", "", text, flags=re.M)


def midr_arrays(text: str) -> dict[str, list]:
    """Every `struct midr_range NAME[] = {...}` initializer, by name; a name declared twice is
    refused (the lists are static locals: two functions may use one name)."""
    found: dict[str, list] = {}
    for m in re.finditer(r"\bstruct\s+midr_range\s+(\w+)\s*\[\s*\]\s*=\s*\{", text):
        start, depth = m.end() - 1, 0
        for end in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                break
        if m.group(1) in found:
            raise Unsupported(f"{m.group(1)}[] is declared twice")
        found[m.group(1)] = Parser(tokens(text[start:end + 1])).initializer()
    return found


def extract(proton_pack: str, cpufeature: str) -> dict:
    proton_pack, cpufeature = _plain(proton_pack), _plain(cpufeature)
    named = midr_arrays(proton_pack)
    kpti = midr_arrays(cpufeature)
    if KPTI not in kpti:
        raise Unsupported(f"no {KPTI}[] in the preprocessed cpufeature.c")
    body = re.search(r"\bspectre_bhb_loop_affected\s*\(\s*void\s*\)\s*\{", proton_pack)
    if body is None:
        raise Unsupported("no spectre_bhb_loop_affected() in the preprocessed proton-pack.c")
    chain = [(name, int(k)) for name, k in _STEP.findall(proton_pack[body.end():body.end() + 20_000])]
    if not chain:
        raise Unsupported("spectre_bhb_loop_affected() tries no loop-count list")
    return {"lists": {name: _ranges(named[name]) for name in LISTS if name in named} | {KPTI: _ranges(kpti[KPTI])},
            "loops": [{"list": name, "k": k, "ranges": _ranges(named[name])} for name, k in chain]}


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as pp, open(argv[2], encoding="utf-8") as cf:
        try:
            facts = extract(pp.read(), cf.read())
        except (Unsupported, KeyError) as exc:
            print(f"{argv[1]}: error: {exc}", file=sys.stderr)
            return 1
    json.dump(facts, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
