"""Write a synthetic, valid registry that fills a number of bits, for the benchmarks.

    python3 bench/make_registry.py --bits 256 --ranges 50 --overlays 4 DEST

writes DEST/errata-db/ (the upstream registry) and DEST/overlays/<owner>/ (the overlays), each
with a matching bits.lock, so that `errata-db validate` exits 0 on them.

Layout. The bundled registry keeps bits 240-255 Reserved, so no valid registry can fill all 256
bits with it. The synthetic registry.yaml therefore folds the Reserved range into the others:

- without overlays, one `upstream` range holds all 256 bits;
- with overlays, `upstream` holds 0-191 and a Private Use range `private` holds 192-255 (the
  bundled private and reserved ranges together); overlay k claims the 16 bits from 192 + 16k.

Filling N bits always gives N entries: without overlays, bits 0..N-1 upstream; with overlays,
three quarters of them upstream (bits 0..3N/4-1) and a quarter split evenly between the
overlays, from the start of each one's claim. So rows of a benchmark table differ only in
what they say they differ in.

Every erratum has the requested number of CPU ranges, each on a different CPU (so that no two
ranges of an entry overlap), in the kernel's forms in turn (rXpY..rXpZ, rXpY, all, ranges over
variants), a REVIDR fix on some, and every 17th entry is retired. The 64 upstream CPUs of four
implementers each carry a note, so that the ones a small registry does not use raise no
warning; each overlay adds one implementer and two CPUs of its own.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "generator"))

from errata_db.lock import HEADER, fingerprint, format_line  # noqa: E402

CPUS = 64
MAX_RANGES = CPUS
OVERLAY_CLAIM = 16
PRIVATE_FIRST = 192
BIT_SPACE = 256
ENTRIES_PER_FILE = 32
OWNERS = ("alpha", "bravo", "charlie", "delta")


def _upstream_cpu(n: int) -> str:
    return f"synth-core-{n}"


def _revisions(i: int, j: int) -> tuple[str, str | None]:
    """Range j of entry i: the revisions, and the revision of a REVIDR fix on it (or None)."""
    v, p = (i + j) % 3, 1 + (i * 7 + j) % 15
    form = (i + j) % 4
    if form == 0:
        return f"r{v}p0..r{v}p{p}", (f"r{v}p0" if (i + j) % 5 == 0 else None)
    if form == 1:
        return f"r{v}p{p}", None
    if form == 2:
        return "all", None
    return f"r0p0..r{v + 1}p{p}", None


def _entry(name: str, bit: int, vendor: str, cpus: list[str]) -> tuple[str, str]:
    """One erratum's YAML and its status."""
    retired = bit % 17 == 16
    affects = []
    for j, cpu in enumerate(cpus):
        revisions, fix = _revisions(bit, j)
        affects.append(f"      - cpu: {cpu}\n        revisions: {revisions}\n")
        if fix is not None:
            affects.append(f"        revidr_fixes:\n          - revision: {fix}\n"
                           f"            mask: {1 << (bit + j) % 32:#x}\n")
    status = "retired" if retired else "active"
    tombstone = ("    retired:\n      since: v6.20\n"
                 "      reason: The synthetic workaround was removed.\n") if retired else ""
    text = (f"  - name: {name}\n"
            f"    bit: {bit}\n"
            f"    vendor: {vendor}\n"
            f"    errata_ids: [\"{bit}\"]\n"
            f"    description: Synthetic erratum {bit}, a load may return stale data after "
            "a context switch on an affected core.\n"
            "    guest: needed\n"
            "    impact: corruption\n"
            "    impact_note: Without it, a load may return stale data after a context switch.\n"
            f"    kconfig: [{vendor}_ERRATUM_{bit}]\n"
            f"    affects:\n{''.join(affects)}"
            f"    status: {status}\n{tombstone}")
    return text, status


def _errata_file(entries: list[str]) -> str:
    return "# Synthetic errata for the benchmarks (bench/make_registry.py).\nerrata:\n" + "\n".join(entries)


def _lock(rows: list[tuple[int, str, str, str]]) -> str:
    return HEADER + "".join(format_line(bit, status, fingerprint(name, vendor, (str(bit),)), name)
                            for bit, status, name, vendor in sorted(rows))


def _registry_yaml(overlays: int) -> str:
    upstream_last = PRIVATE_FIRST - 1 if overlays else BIT_SPACE - 1
    private = (f"  - name: private\n    first: {PRIVATE_FIRST}\n    last: {BIT_SPACE - 1}\n"
               "    owner: downstream\n    status: Private Use\n"
               "    description: Downstream overlays, with the bundled reserved bits folded in.\n"
               if overlays else "")
    return ("# Synthetic registry for the benchmarks (bench/make_registry.py).\n"
            "format: 1\n"
            "hypercall:\n"
            "  name: ARM_SMCCC_VENDOR_HYP_KVM_MIGRN_ERRATA\n"
            "  description: Returns, in R0-R3, the errata bitmap of the CPUs a VM may run on.\n"
            "bit_space:\n"
            "  registers: [R0, R1, R2, R3]\n"
            "  register_bits: 64\n"
            "ranges:\n"
            f"  - name: upstream\n    first: 0\n    last: {upstream_last}\n"
            "    owner: upstream\n    status: Expert Review\n"
            "    description: Upstream errata.\n"
            f"{private}")


def _cpus_yaml(implementers: list[tuple[str, int]], cpus: list[tuple[str, str, int]]) -> str:
    imps = "".join(f"  - id: {i}\n    code: {code:#x}\n    name: Synthetic {i}\n"
                   f"    macro: ARM_CPU_IMP_{i.upper().replace('-', '_')}\n" for i, code in implementers)
    body = "".join(f"  - id: {c}\n    implementer: {imp}\n    part: {part:#05x}\n    name: Synthetic {c}\n"
                   f"    macro: MIDR_{c.upper().replace('-', '_')}\n"
                   "    note: Kept so that every size of the synthetic registry has the same CPUs.\n"
                   for c, imp, part in cpus)
    return f"# Synthetic CPUs for the benchmarks.\nimplementers:\n{imps}cpus:\n{body}"


def check_size(bits: int, ranges: int, overlays: int) -> None:
    """Raise ValueError for a size this script cannot build."""
    if bits not in range(16, BIT_SPACE + 1, 16):
        raise ValueError(f"bits must be a multiple of 16 from 16 to {BIT_SPACE}")
    if not 1 <= ranges <= MAX_RANGES:
        raise ValueError(f"ranges must be 1..{MAX_RANGES}: each range of an entry is on its own CPU")
    if overlays not in (0, len(OWNERS)):
        raise ValueError(f"overlays must be 0 or {len(OWNERS)}")


def write_registry(dest: Path, bits: int, ranges: int, overlays: int) -> tuple[Path, list[Path]]:
    """Write the registry and its overlays under dest; return their directories."""
    check_size(bits, ranges, overlays)
    registry = dest / "errata-db"
    (registry / "errata").mkdir(parents=True)
    (registry / "registry.yaml").write_text(_registry_yaml(overlays))
    imps = [(f"synth{k}", 0xC0 + k) for k in range(4)]
    (registry / "cpus.yaml").write_text(_cpus_yaml(
        imps, [(_upstream_cpu(n), imps[n % 4][0], 0x100 + n) for n in range(CPUS)]))

    upstream_bits = bits * 3 // 4 if overlays else bits
    entries, rows = [], []
    for bit in range(upstream_bits):
        name = f"WORKAROUND_SYNTH_{bit}"
        text, status = _entry(name, bit, "SYNTH", [_upstream_cpu((bit + j) % CPUS) for j in range(ranges)])
        entries.append(text)
        rows.append((bit, status, name, "SYNTH"))
    for start in range(0, len(entries), ENTRIES_PER_FILE):
        (registry / "errata" / f"synth-{start // ENTRIES_PER_FILE:02}.yaml").write_text(
            _errata_file(entries[start:start + ENTRIES_PER_FILE]))
    (registry / "bits.lock").write_text(_lock(rows))

    overlay_dirs = []
    for k, owner in enumerate(OWNERS[:overlays]):
        root = dest / "overlays" / owner
        (root / "errata").mkdir(parents=True)
        first = PRIVATE_FIRST + k * OVERLAY_CLAIM
        (root / "overlay.yaml").write_text(
            f"format: 1\nowner: {owner}\nrange: private\nfirst: {first}\n"
            f"last: {first + OVERLAY_CLAIM - 1}\ndescription: Synthetic overlay {owner}.\n")
        own = [f"{owner}-core-{m}" for m in range(2)]
        (root / "cpus.yaml").write_text(_cpus_yaml(
            [(owner, 0xD0 + k)], [(c, owner, 0x001 + m) for m, c in enumerate(own)]))
        vendor = owner.upper()
        entries, rows = [], []
        for bit in range(first, first + bits // 4 // overlays):
            name = f"WORKAROUND_{vendor}_{bit}"
            # The overlay's own CPU first, then upstream CPUs, each range on a different CPU.
            cpus = [own[bit % 2], *(_upstream_cpu((bit + j) % CPUS) for j in range(1, ranges))]
            text, status = _entry(name, bit, vendor, cpus)
            entries.append(text)
            rows.append((bit, status, name, vendor))
        (root / "errata" / f"{owner}.yaml").write_text(_errata_file(entries))
        (root / "bits.lock").write_text(_lock(rows))
        overlay_dirs.append(root)
    return registry, overlay_dirs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path, help="an empty or missing directory")
    parser.add_argument("--bits", type=int, default=256, help="bits to fill (multiple of 16, default 256)")
    parser.add_argument("--ranges", type=int, default=50, help="CPU ranges per erratum (default 50)")
    parser.add_argument("--overlays", type=int, default=0, help=f"0 or {len(OWNERS)} overlays (default 0)")
    args = parser.parse_args(argv)
    if args.dest.exists() and any(args.dest.iterdir()):
        parser.error(f"{args.dest} is not empty")
    try:
        registry, overlays = write_registry(args.dest, args.bits, args.ranges, args.overlays)
    except ValueError as exc:
        parser.error(str(exc))
    print(" ".join([f"--registry {registry}", *(f"--overlay {o}" for o in overlays)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
