"""What a guest kernel's speculation mitigations are on a set of CPUs, as its MIDR lists decide.

The lists (model.Speculation: speculation.yaml, or a tree's proton-pack.c and cpufeature.c) are
matched through is_midr_in_range_list(), in two ways:

- each CPU judged by itself, as a kernel booted on them does (and a guest without a target
  list does on the CPUs of the host it booted on): a mitigation is needed when one CPU needs
  it, and the Spectre-BHB loop count `k` is the largest of theirs;
- as a Linux 6.15+ guest given a target list does, where is_midr_in_range_list() answers "does
  any target fall in these ranges". For a list of affected CPUs that is the intended question;
  for a safe list it is not: one target on it makes the whole list safe, and the mitigation is
  left off for every CPU the guest may run on (reference/linux-7.3.md, "Safe lists under a
  target list"). `k` is the first loop list, from the largest down, that any target matches.

The lists are not all the kernel reads: ID register fields and firmware answers decide too
(DEPENDS). What the model assumes of them is ASSUMPTIONS, and every finding names what it
depends on rather than claiming a pair safe.

Pure functions over frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .model import AFFECTED, LOOP, SAFE, SPECULATION_CPUCAPS, MidrList, Speculation

Cpu = tuple[int, int, int]  # MIDR, REVIDR, AIDR, as risk holds a host's CPUs

# The lists each cpucap's code reads (proton-pack.c, cpufeature.c).
LIST_KINDS = {"SPECTRE_V2": (SAFE,), "SPECTRE_V3A": (AFFECTED,), "SPECTRE_V4": (SAFE,),
              "SPECTRE_BHB": (SAFE, LOOP), "UNMAP_KERNEL_AT_EL0": (SAFE,)}
TITLES = {"SPECTRE_V2": "Spectre-v2", "SPECTRE_V3A": "Spectre-v3a", "SPECTRE_V4": "Spectre-v4",
          "SPECTRE_BHB": "Spectre-BHB", "UNMAP_KERNEL_AT_EL0": "KPTI"}
_SAFE_LIST = {"UNMAP_KERNEL_AT_EL0": "the Meltdown-safe list"}

# What the kernel reads besides the lists, by cpucap: where a finding's answer depends on them.
DEPENDS = {
    "SPECTRE_V2": ("ID_AA64PFR0_EL1.CSV2: a CPU that reports it is unaffected, on a list or not",
                   "SMCCC ARCH_WORKAROUND_1: the mitigation is the firmware call, and firmware may answer "
                   "unaffected"),
    "SPECTRE_V3A": ("the guest running KVM itself: the mitigation hardens the hypervisor's vectors",),
    "SPECTRE_V4": ("ID_AA64PFR1_EL1.SSBS: the hardware mitigation where the CPU has it",
                   "SMCCC ARCH_WORKAROUND_2: the firmware mitigation, or firmware answering unaffected"),
    "SPECTRE_BHB": ("ID_AA64PFR0_EL1.CSV2 = 3 (CSV2_3): unaffected, on a list or not",
                    "ID_AA64MMFR1_EL1.ECBHB and ID_AA64ISAR2_EL1.CLRBHB: mitigated without the loop",
                    "SMCCC ARCH_WORKAROUND_3: the firmware mitigation of a CPU on no loop-count list",
                    "the Spectre-v2 state: the kernel does not mitigate Spectre-BHB where Spectre-v2 is left "
                    "vulnerable"),
    "UNMAP_KERNEL_AT_EL0": ("ID_AA64PFR0_EL1.CSV3: a CPU that reports it is safe, on the list or not",
                            "KASLR without ID_AA64MMFR2_EL1.E0PD: kaslr_requires_kpti() turns KPTI on whatever "
                            "the lists say"),
}
ASSUMPTIONS = (
    "the VMM presents the fleet's common baseline of ID registers on every host",
    "firmware and KVM answered the guest's SMCCC queries on the host it booted on, once, at boot",
)

# Finding kinds: the guest lacks the mitigation; it has a smaller loop count than needed; it
# mitigates otherwise than a kernel booted on the destination would (a loop where that kernel
# relies on ECBHB, CLRBHB or firmware).
OFF, LESS, OTHER = "off", "less", "other"


@dataclass(frozen=True)
class State:
    """One mitigation as the lists leave it for a set of CPUs.

    `list` is the list that decided: the safe list (of the cpucap's code, even when no CPU is on
    it and so it left the mitigation on), the affected list, or for Spectre-BHB the loop list
    that gave `k`; None when the kernel has no such list, or no loop list matched. `cpus` are the
    names of the CPUs on `list` that decided."""

    cpucap: str
    on: bool  # needed (needs), or enabled (kernel_state), as far as the lists decide
    k: int = 0  # SPECTRE_BHB when on: the loop count, 0 when no loop list matched
    list: str | None = None
    cpus: tuple[str, ...] = ()
    targets: bool = False  # matched as a target list ("any target")


@dataclass(frozen=True)
class Finding:
    """A mitigation the guest keeps with less than the destination needs."""

    cpucap: str
    kind: str  # OFF, LESS or OTHER
    text: str  # "Spectre-BHB: k=24 kept, k=32 needed"
    list: str | None  # the list that decided the gap
    kept: State
    needed: State
    depends: tuple[str, ...]  # DEPENDS[cpucap]: what else decides, which the lists do not


def _names(lst: MidrList | None, midrs: Iterable[int]) -> tuple[str, ...]:
    """The names of the ranges of lst that these CPUs fall in."""
    if lst is None:
        return ()
    return tuple(dict.fromkeys(r.name for m in midrs if (r := lst.match(m)) is not None))


def _first(lists: tuple[MidrList, ...]) -> MidrList | None:
    return lists[0] if lists else None


def _loop(loops: tuple[MidrList, ...], midrs: tuple[int, ...]) -> MidrList | None:
    """spectre_bhb_loop_affected(): the first loop list, in the kernel's order, that one of these
    CPUs is on (with one CPU, its own; with a target list, any target's)."""
    return next((lst for lst in loops if any(lst.match(m) for m in midrs)), None)


def _state(data: Speculation, cap: str, midrs: tuple[int, ...], targets: bool) -> State:
    if LIST_KINDS[cap] == (AFFECTED,):
        lst = _first(data.of(cap, AFFECTED))
        on = _names(lst, midrs)
        return State(cap, bool(on), list=lst.name if lst else None, cpus=on, targets=targets)
    safe = _first(data.of(cap, SAFE))
    safe_name = safe.name if safe else None
    on_safe = [m for m in midrs if safe is not None and safe.match(m)]
    # With a target list one target on it answers for all; each CPU by itself, all must be.
    if on_safe and (targets or len(on_safe) == len(midrs)):
        return State(cap, False, list=safe_name, cpus=_names(safe, on_safe), targets=targets)
    if cap != "SPECTRE_BHB":
        return State(cap, True, list=safe_name, targets=targets)
    loops = data.of(cap, LOOP)
    # Each CPU by itself: a CPU on the safe list returns before its k is counted (max_bhb_k).
    chosen = [_loop(loops, midrs)] if targets else [_loop(loops, (m,)) for m in midrs if m not in on_safe]
    found = [lst for lst in chosen if lst is not None]
    if not found:
        return State(cap, True, targets=targets)
    best = max(found, key=lambda lst: lst.k or 0)
    return State(cap, True, best.k or 0, best.name, _names(best, midrs), targets)


def kernel_state(data: Speculation, cpus: Iterable[Cpu], targets: bool) -> tuple[State, ...]:
    """What a kernel enables when its matching sees these CPUs: each judged by itself (the CPUs
    of the host it booted on: `none`, `bitmap`), or as a 6.15+ target list (`impl-cpus`), where
    one target on a safe list leaves the mitigation off for all. One State per cpucap, in
    SPECULATION_CPUCAPS order."""
    midrs = tuple(dict.fromkeys(c[0] for c in cpus))
    return tuple(_state(data, cap, midrs, targets) for cap in SPECULATION_CPUCAPS)


def needs(data: Speculation, cpus: Iterable[Cpu]) -> tuple[State, ...]:
    """What a set of CPUs (one host class) needs: each CPU judged by itself, as a kernel
    booted on them judges it."""
    return kernel_state(data, cpus, targets=False)


def _safe_list(cap: str) -> str:
    return _SAFE_LIST.get(cap, "the safe list")


def _need_text(needed: State) -> str:
    """What a Spectre-BHB destination needs."""
    if needed.k:
        return f"k={needed.k} needed"
    return "the destination needs it (on no loop-count list: ECBHB, CLRBHB or firmware)"


def _off_text(kept: State, needed: State) -> str:
    title, cap = TITLES[kept.cpucap], kept.cpucap
    if LIST_KINDS[cap] == (AFFECTED,):
        return f"{title}: boot CPU not on {needed.list}, destination ({', '.join(needed.cpus)}) is"
    safe = _safe_list(cap)
    if kept.targets:
        why = (f"target CPU {', '.join(kept.cpus)} on {safe} ({kept.list}), which the kernel takes for every "
               "target")
    else:
        why = f"boot CPU on {safe} ({kept.list})"
    if cap == "SPECTRE_BHB":
        return f"{title}: off, {why}; {_need_text(needed)}"
    return f"{title}: off, {why}; destination not on it"


def _finding(kept: State, needed: State) -> Finding | None:
    cap = kept.cpucap
    if not needed.on:
        return None
    depends = DEPENDS[cap]
    if not kept.on:
        decided = needed.list if LIST_KINDS[cap] == (AFFECTED,) else kept.list
        return Finding(cap, OFF, _off_text(kept, needed), decided, kept, needed, depends)
    if cap != "SPECTRE_BHB" or kept.k == needed.k:
        return None
    title = TITLES[cap]
    if kept.k and needed.k > kept.k:
        return Finding(cap, LESS, f"{title}: k={kept.k} kept, k={needed.k} needed", needed.list, kept, needed,
                       depends)
    if not kept.k:
        return Finding(cap, LESS, f"{title}: no loop kept (boot CPU on no loop-count list: firmware), "
                       f"k={needed.k} needed", needed.list, kept, needed, depends)
    if not needed.k:
        return Finding(cap, OTHER, f"{title}: k={kept.k} kept; the destination is on no loop-count list, where "
                       "the kernel relies on ECBHB, CLRBHB or firmware", kept.list, kept, needed, depends)
    return None


def compare(kept: tuple[State, ...], needed: tuple[State, ...]) -> tuple[Finding, ...]:
    """Each mitigation the guest keeps (kernel_state) with less than the destination needs
    (needs): off where it is needed (OFF), a smaller loop count or none (LESS); and a loop kept
    where the destination's own kernel would rely on ECBHB, CLRBHB or firmware (OTHER). In
    SPECULATION_CPUCAPS order."""
    by_cap = {s.cpucap: s for s in needed}
    found = (_finding(k, by_cap[k.cpucap]) for k in kept if k.cpucap in by_cap)
    return tuple(f for f in found if f is not None)
