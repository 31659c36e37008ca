"""`fleet --format qemu` and `--format libvirt`: the fleet's target implementation list (what a
Linux 6.15+ guest reads with DISCOVER_IMPL_CPUS, in its index order) as the QEMU options that
take it, ready to paste. Nothing here comes from a host name or a file's text: every option is
built from the numbers alone, and every comment from fixed words and numbers, so no input can
reach a shell or an XML parser.

Two QEMUs take the list (docs/fleets-and-risk.md#qemu-and-libvirt, docs/limits.md):

- openEuler's QEMU 8.2 with the Kunpeng patches, in production: one machine property of
  MIDR:REVIDR pairs, `x-target-impl-cpus=0xMIDR:0xREVIDR-0xMIDR:0xREVIDR`. It has no AIDR, so
  targets that differ only in AIDR are one pair there. The published patch
  (hw/arm/virt: Initial support to set target_impl CPUs) declares MAX_TARGET_IMPL_CPUS 4 and
  refuses the option when the count of pairs reaches it: it takes at most 3.
- the upstream RFC (August 2025, not merged): `impl-cpu.N.midr`, `.revidr`, `.aidr` machine
  properties, one index per target, a QAPI list with no maximum.

Every value is spelled `0x` and 8 lowercase hex digits: the 32 bits these registers use
(the fleet schema refuses more), the spelling `fleet`'s text prints, and 10 characters, well
inside the 16-byte buffer the openEuler patch copies each number into.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Iterable
from xml.sax.saxutils import escape as xml_escape

from .diagnostics import some

if TYPE_CHECKING:
    from .fleet import ImplCpu, Plan

# The most target implementations openEuler's x-target-impl-cpus takes (MAX_TARGET_IMPL_CPUS
# is 4, and the patch refuses the option once its count of pairs reaches 4).
X_TARGET_MAX = 3
# No maximum is known for the upstream RFC's impl-cpu list (its patches count the list they
# are given), nor for a guest's count (Linux 7.3 allocates what R2 says, from memblock).
RFC_MAX: int | None = None
GUEST_MAX: int | None = None
LIBVIRT_NS = "http://libvirt.org/schemas/domain/qemu/1.0"

OPENEULER = "openEuler's QEMU 8.2 with the Kunpeng patches (in production)"
RFC = "the upstream QEMU RFC (August 2025, not merged)"


def hex32(value: int) -> str:
    """How every value of these forms is spelled: 0x and 8 lowercase hex digits."""
    return f"0x{value:08x}"


def x_target_pairs(cpus: Iterable[ImplCpu]) -> tuple[list[tuple[int, int]], list[tuple[tuple[int, int], list[int]]]]:
    """The distinct (MIDR, REVIDR) pairs of the target list, in its order, and each pair that
    stands for more than one target (targets that differ only in AIDR), with their indexes."""
    indexes: dict[tuple[int, int], list[int]] = {}
    for i, c in enumerate(cpus):
        indexes.setdefault((c.midr, c.revidr), []).append(i)
    return list(indexes), [(pair, found) for pair, found in indexes.items() if len(found) > 1]


def x_target_value(pairs: Iterable[tuple[int, int]]) -> str:
    return "x-target-impl-cpus=" + "-".join(f"{hex32(m)}:{hex32(r)}" for m, r in pairs)


def rfc_value(cpus: Iterable[ImplCpu]) -> str:
    return ",".join(f"impl-cpu.{i}.midr={hex32(c.midr)},impl-cpu.{i}.revidr={hex32(c.revidr)},"
                    f"impl-cpu.{i}.aidr={hex32(c.aidr)}" for i, c in enumerate(cpus))


def _indexes(found: list[int], limit: int = 10) -> str:
    """Target indexes as a comment names them: "1, 2 and 3"; past `limit`, "1, 2, ... +N more"."""
    if len(found) > limit:
        return some([str(i) for i in found], limit)
    return ", ".join(map(str, found[:-1])) + f" and {found[-1]}" if len(found) > 1 else str(found[0])


def x_target_notes(p: Plan) -> list[str]:
    """What the x-target form drops, said beside it: AIDR, and the targets that become one pair."""
    pairs, merged = x_target_pairs(p.impl_cpus)
    with_aidr = [i for i, c in enumerate(p.impl_cpus) if c.aidr]
    notes = ["No AIDR in this form (Linux 7.3 matches errata on MIDR and REVIDR alone): "
             + (f"dropped here, the AIDR of target(s) {_indexes(with_aidr)}." if with_aidr
                else "every target's AIDR is 0 here.")]
    notes += [f"Targets {_indexes(found)} differ only in AIDR: one pair here, {hex32(midr)}:{hex32(revidr)}."
              for (midr, revidr), found in merged]
    if merged:
        notes.append(f"So {len(pairs)} pair(s) for {len(p.impl_cpus)} target(s).")
    return notes


def too_long(p: Plan) -> str | None:
    """The warning for a list longer than x-target-impl-cpus takes, or None."""
    pairs, _ = x_target_pairs(p.impl_cpus)
    if len(pairs) <= X_TARGET_MAX:
        return None
    return (f"openEuler's x-target-impl-cpus takes at most {X_TARGET_MAX} MIDR:REVIDR pairs (its patch sets "
            f"MAX_TARGET_IMPL_CPUS to {X_TARGET_MAX + 1} and refuses that many); this list has {len(pairs)}: "
            "that QEMU refuses the option")


def warnings(p: Plan, fmt: str) -> list[str]:
    """What `fleet --format FMT` also says on stderr: only a list a form cannot take."""
    warning = too_long(p) if fmt in ("qemu", "libvirt") else None
    return [warning] if warning else []


def _header(p: Plan) -> list[str]:
    n = len(p.impl_cpus)
    return [f"The target implementation CPUs of this fleet for Linux 6.15+ guests: {n}, in DISCOVER_IMPL_CPUS",
            "index order (target N here is DISCOVER_IMPL_CPUS(N) of the text format, which names the CPUs).",
            "Every value is 0x and 8 lowercase hex digits."]


def format_qemu(p: Plan) -> str:
    """Both QEMU spellings of the list, each labelled with who takes it; the option lines are
    plain arguments (quoted for a shell, which they never need), the comments `#` lines."""
    pairs, _ = x_target_pairs(p.impl_cpus)
    lines = [*(f"# {line}" for line in _header(p)), "# Pass one of the two options below to QEMU.", "#",
             f"# For {OPENEULER}:", "# MIDR:REVIDR pairs in one machine property.",
             *(f"# {note}" for note in x_target_notes(p))]
    warning = too_long(p)
    if warning:
        lines.append(f"# warning: {warning}.")
    lines += [f"-machine {shlex.quote('virt,' + x_target_value(pairs))}", "#",
              f"# For {RFC}:", "# MIDR, REVIDR and AIDR of each target, as machine properties by index.",
              f"-M {shlex.quote('virt,' + rfc_value(p.impl_cpus))}"]
    return "\n".join(lines) + "\n"


def _attr(value: str) -> str:
    return "'" + xml_escape(value, {"'": "&apos;", '"': "&quot;"}) + "'"


def _comment(lines: list[str]) -> str:
    text = "\n     ".join(lines)
    # An XML comment may not hold '--' nor end with '-': the words are fixed, but a warning
    # is worded elsewhere, so the rule is kept here whatever they say.
    text = text.replace("--", "- -") + (" " if text.endswith("-") else "")
    return f"<!-- {text} -->"


def format_libvirt(p: Plan) -> str:
    """The <qemu:commandline> element for openEuler's QEMU (libvirt has no element of its own
    for the list), after a comment that says where it goes and what the form drops. The
    namespace is declared on the element too, so that the text is well-formed XML alone."""
    pairs, _ = x_target_pairs(p.impl_cpus)
    comment = [*_header(p), f"For {OPENEULER}: x-target-impl-cpus, MIDR:REVIDR pairs.",
               *x_target_notes(p)]
    warning = too_long(p)
    if warning:
        comment.append(f"warning: {warning}.")
    comment += ["Put the element below inside <domain>, and declare its namespace on <domain> itself:",
                f"  <domain type='kvm' xmlns:qemu='{LIBVIRT_NS}'>",
                "(declared on <qemu:commandline> too, this text is well-formed on its own). If the domain",
                "has a <qemu:commandline> already, add the two <qemu:arg> to it. libvirt gives QEMU the",
                "machine type (<os><type machine=...>): this -machine only adds the property, as",
                "openEuler's guide does."]
    return "\n".join([_comment(comment),
                      f"<qemu:commandline xmlns:qemu={_attr(LIBVIRT_NS)}>",
                      f"  <qemu:arg value={_attr('-machine')}/>",
                      f"  <qemu:arg value={_attr(x_target_value(pairs))}/>",
                      "</qemu:commandline>"]) + "\n"


FORMATS = {"qemu": format_qemu, "libvirt": format_libvirt}
