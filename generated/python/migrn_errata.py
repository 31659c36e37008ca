# SPDX-License-Identifier: GPL-2.0-only
# Generated from errata-db/ by errata-db, do not edit.
"""Migration-safe errata bits: which errata a CPU has, and the R0-R3 bitmap for a set of CPUs.

Standard library only; import it by path. Matching is the kernel's: implementer, architecture
and part number (only the masked part bits, for part-family entries), then variant and revision
against the bounds, then the REVIDR fixes of that revision.
"""

from bisect import bisect_right
from dataclasses import dataclass
from typing import Iterable, Union

__all__ = ["Erratum", "ERRATA", "REGISTERS", "REGISTER_BITS", "errata_for_cpu",
           "bitmap_for_cpus", "registers", "errata_from_registers", "model_mask"]

REGISTERS = ('R0', 'R1', 'R2', 'R3')
REGISTER_BITS = 64
_BITS = len(REGISTERS) * REGISTER_BITS

_IMPLEMENTER_ARCH_MASK = 0xFF0F0000
_PART_SHIFT = 4
_RV_MASK = 0x00F0000F
_U32 = 0xFFFFFFFF


@dataclass(frozen=True)
class Erratum:
    name: str
    bit: int
    errata_ids: tuple
    vendor: str
    description: str
    kconfig: tuple
    status: str

    @property
    def register(self) -> int:
        return self.bit // REGISTER_BITS


ERRATA = (
    Erratum(
        name='WORKAROUND_CLEAN_CACHE',
        bit=0,
        errata_ids=('826319', '827319', '824069', '819472'),
        vendor='ARM',
        description='Cortex-A53 cache clean and store-exclusive problems; trap EL0 cache maintenance and upgrade clean to clean and invalidate.',
        kconfig=('ARM64_ERRATUM_826319', 'ARM64_ERRATUM_827319', 'ARM64_ERRATUM_824069', 'ARM64_ERRATUM_819472'),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_DEVICE_LOAD_ACQUIRE',
        bit=1,
        errata_ids=('832075',),
        vendor='ARM',
        description='Cortex-A57 may deadlock when exclusive accesses mix with device loads; promote device loads to load-acquire.',
        kconfig=('ARM64_ERRATUM_832075',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_834220',
        bit=2,
        errata_ids=('834220',),
        vendor='ARM',
        description='Cortex-A57 may report a Stage 2 fault instead of the Stage 1 fault it should take.',
        kconfig=('ARM64_ERRATUM_834220',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_843419',
        bit=3,
        errata_ids=('843419',),
        vendor='ARM',
        description='Cortex-A53 load or store after an ADRP at certain page offsets may use a wrong address.',
        kconfig=('ARM64_ERRATUM_843419',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_845719',
        bit=4,
        errata_ids=('845719',),
        vendor='ARM',
        description='Cortex-A53 AArch32 EL0 load may return stale data after an EL1 load to an alias address.',
        kconfig=('ARM64_ERRATUM_845719',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_CAVIUM_23154',
        bit=5,
        errata_ids=('23154', '38545'),
        vendor='Cavium',
        description='GICv3 CPU interface lacks synchronisation around IAR reads and may present released interrupts; add barriers.',
        kconfig=('CAVIUM_ERRATUM_23154',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_CAVIUM_27456',
        bit=6,
        errata_ids=('27456',),
        vendor='Cavium',
        description='Broadcast TLBI may corrupt the instruction cache for a non-current ASID; invalidate the icache on context switch.',
        kconfig=('CAVIUM_ERRATUM_27456',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_CAVIUM_30115',
        bit=7,
        errata_ids=('30115',),
        vendor='Cavium',
        description='A KVM guest may disable interrupts in the host; trap guest GICv3 group 0 and group 1 accesses.',
        kconfig=('CAVIUM_ERRATUM_30115',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_QCOM_FALKOR_E1003',
        bit=8,
        errata_ids=('E1003',),
        vendor='Qualcomm Tech.',
        description='Changing ASID and BADDR together in TTBRx_EL1 may cache a wrong ASID in the walk cache.',
        kconfig=('QCOM_FALKOR_ERRATUM_1003',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_REPEAT_TLBI',
        bit=9,
        errata_ids=('E1009', '1286807', '2441007', '2441009', '4118414', '4193780', '4193781', '4193784', '4193786', '4193787', '4193788', '4193789', '4193790', '4193791', '4193792', '4193793', '4193794', '4193798', '4193800', '4193801', 'T410-OLY-1029'),
        vendor='ARM',
        description='Broadcast TLB invalidation may complete before all affected memory accesses; repeat the TLBI and DSB.',
        kconfig=('QCOM_FALKOR_ERRATUM_1009', 'ARM64_ERRATUM_1286807', 'ARM64_ERRATUM_2441007', 'ARM64_ERRATUM_2441009', 'ARM64_ERRATUM_4118414'),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_858921',
        bit=10,
        errata_ids=('858921',),
        vendor='ARM',
        description='Cortex-A73 generic timer counter reads may return a wrong value; use the out-of-line counter read workaround.',
        kconfig=('ARM64_ERRATUM_858921',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_1418040',
        bit=11,
        errata_ids=('1188873', '1418040'),
        vendor='ARM',
        description='AArch32 MRC read of the generic timer after an MRRC read may give a corrupted result; trap EL0 counter access.',
        kconfig=('ARM64_ERRATUM_1418040',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_SPECULATIVE_AT',
        bit=12,
        errata_ids=('1165522', '1319367', '1319537', '1530923'),
        vendor='ARM',
        description='Speculative AT instruction using an out-of-context translation regime may corrupt the TLB across a guest switch.',
        kconfig=('ARM64_ERRATUM_1165522', 'ARM64_ERRATUM_1319367', 'ARM64_ERRATUM_1530923'),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_1463225',
        bit=13,
        errata_ids=('1463225',),
        vendor='ARM',
        description='Software step of an SVC may stop later interrupts from being recognised; take a dummy step exception.',
        kconfig=('ARM64_ERRATUM_1463225',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_CAVIUM_TX2_219_TVM',
        bit=14,
        errata_ids=('219',),
        vendor='Cavium',
        description='Access between a TTBR update and the following ISB may raise a spurious abort; trap KVM guest TTBR writes to EL2.',
        kconfig=('CAVIUM_TX2_ERRATUM_219',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_CAVIUM_TX2_219_PRFM',
        bit=15,
        errata_ids=('219',),
        vendor='Cavium',
        description='Prefetch between a TTBR update and the following ISB may raise a spurious abort; drop that PRFM.',
        kconfig=('CAVIUM_TX2_ERRATUM_219',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_1542419',
        bit=16,
        errata_ids=('1542419',),
        vendor='ARM',
        description='Neoverse-N1 may execute a stale instruction after another CPU modified it; hide DIC from EL0 and trap CTR_EL0.',
        kconfig=('ARM64_ERRATUM_1542419',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_1508412',
        bit=17,
        errata_ids=('1508412',),
        vendor='ARM',
        description='Cortex-A77 may deadlock on a store-exclusive or PAR_EL1 read combined with a device or non-cacheable load.',
        kconfig=('ARM64_ERRATUM_1508412',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_NVIDIA_CARMEL_CNP',
        bit=18,
        errata_ids=('N/A',),
        vendor='NVIDIA',
        description='With CNP enabled, a non-shareable TLBI on Carmel does not remove shared entries installed by another core.',
        kconfig=('NVIDIA_CARMEL_CNP_ERRATUM',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_TRBE_OVERWRITE_FILL_MODE',
        bit=19,
        errata_ids=('2119858', '2139208'),
        vendor='ARM',
        description='TRBE in fill mode may overwrite trace data at the buffer base on a wrap event.',
        kconfig=('ARM64_ERRATUM_2119858', 'ARM64_ERRATUM_2139208'),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_TSB_FLUSH_FAILURE',
        bit=20,
        errata_ids=('2067961', '2054223'),
        vendor='ARM',
        description='TSB CSYNC may fail to flush trace in a trace-prohibited state; issue it twice.',
        kconfig=('ARM64_ERRATUM_2067961', 'ARM64_ERRATUM_2054223'),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_TRBE_WRITE_OUT_OF_RANGE',
        bit=21,
        errata_ids=('2253138', '2224489'),
        vendor='ARM',
        description='TRBE may write to the page just past the trace buffer limit instead of wrapping.',
        kconfig=('ARM64_ERRATUM_2253138', 'ARM64_ERRATUM_2224489'),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_2645198',
        bit=22,
        errata_ids=('2645198',),
        vendor='ARM',
        description='Cortex-A715 may corrupt ESR and FAR after a mapping changes from executable to non-executable.',
        kconfig=('ARM64_ERRATUM_2645198',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_2077057',
        bit=23,
        errata_ids=('2077057',),
        vendor='ARM',
        description='Cortex-A510 may corrupt SPSR_EL2 when a pointer authentication trap replaces an expected step exception.',
        kconfig=('ARM64_ERRATUM_2077057',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_2064142',
        bit=24,
        errata_ids=('2064142',),
        vendor='ARM',
        description='Cortex-A510 may ignore writes to TRBE registers after the trace buffer has been disabled.',
        kconfig=('ARM64_ERRATUM_2064142',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_BROKEN_AMU_CONSTCNT',
        bit=25,
        errata_ids=('2457168', '3821522'),
        vendor='ARM',
        description='AMU constant counter AMEVCNTR01 does not count at the system counter rate; treat it as unavailable.',
        kconfig=('ARM64_ERRATUM_2457168', 'ARM64_ERRATUM_3821522'),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_2038923',
        bit=26,
        errata_ids=('2038923',),
        vendor='ARM',
        description='Cortex-A510 may see an inconsistent trace-prohibited state after enabling TRBE, corrupting trace.',
        kconfig=('ARM64_ERRATUM_2038923',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_1902691',
        bit=27,
        errata_ids=('1902691',),
        vendor='ARM',
        description='Cortex-A510 TRBE may corrupt trace data written to memory; do not use TRBE.',
        kconfig=('ARM64_ERRATUM_1902691',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_1742098',
        bit=28,
        errata_ids=('1742098', '1655431'),
        vendor='ARM',
        description='ELR may be recorded wrongly for an interrupt between AArch32 AES instructions; hide the AArch32 AES hwcap.',
        kconfig=('ARM64_ERRATUM_1742098',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_2658417',
        bit=29,
        errata_ids=('2658417',),
        vendor='ARM',
        description='Cortex-A510 pairs sharing a NEON unit may compute wrong BFMMLA or VMMLA results; hide BF16.',
        kconfig=('ARM64_ERRATUM_2658417',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_SPECULATIVE_SSBS',
        bit=30,
        errata_ids=('3194386', '3312417', '3324334', '3324335', '3324336', '3324338', '3324339', '3324341', '3324344', '3324346', '3324347', '3324348', '3324349', '3456084', '3456091', '3456106', '3456111'),
        vendor='ARM',
        description='MSR SSBS is not self-synchronizing, so speculative store bypass may still occur; add a barrier after it.',
        kconfig=('ARM64_ERRATUM_3194386',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_SPECULATIVE_UNPRIV_LOAD',
        bit=31,
        errata_ids=('2966298', '3117295'),
        vendor='ARM',
        description='A speculatively executed unprivileged load may leak privileged data through the cache; TLBI before return to EL0.',
        kconfig=('ARM64_ERRATUM_2966298', 'ARM64_ERRATUM_3117295'),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_AMPERE_AC03_CPU_38',
        bit=32,
        errata_ids=('AC03_CPU_38', 'AC04_CPU_10'),
        vendor='Ampere',
        description='(V)TCR_ELx HA and HD bits are not RES0 although HAFDBS is not advertised; KVM forces VTCR_EL2.HA to 0.',
        kconfig=('AMPERE_ERRATUM_AC03_CPU_38',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_162100125',
        bit=33,
        errata_ids=('162100125',),
        vendor='HiSilicon',
        description='With CNP enabled, HIP09 may share TLB entries between CPUs where the architecture does not, causing TLB conflicts and stale mappings; CNP is disabled.',
        kconfig=('HISILICON_ERRATUM_162100125',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_NVIDIA_OLYMPUS_1027',
        bit=34,
        errata_ids=('T410-OLY-1027',),
        vendor='NVIDIA',
        description='On NVIDIA Olympus, a peripheral may observe a Device-nGnR* store after a younger Device-nGnR* load; a DMB OSH goes before raw MMIO loads.',
        kconfig=('NVIDIA_OLYMPUS_1027_ERRATUM',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_4193714',
        bit=35,
        errata_ids=('4193714',),
        vendor='ARM',
        description='C1-Pro may acknowledge a DVMSync before its SME memory accesses complete; TLB maintenance for SME processes also interrupts the affected CPUs.',
        kconfig=('ARM64_ERRATUM_4193714',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_AMPERE_AC04_CPU_23',
        bit=36,
        errata_ids=('AC04_CPU_23',),
        vendor='Ampere',
        description='On AmpereOne AC04, a write to HCR_EL2 may corrupt simultaneous data address translations; a DSB before and an ISB after the write close the window.',
        kconfig=('AMPERE_ERRATUM_AC04_CPU_23',),
        status='active',
    ),
    Erratum(
        name='WORKAROUND_QCOM_ORYON_CNTVOFF',
        bit=37,
        errata_ids=('N/A',),
        vendor='Qualcomm Tech.',
        description='Oryon X1 does not honour CNTVOFF_EL2; KVM works around the broken virtual counter offset.',
        kconfig=(),
        status='active',
    ),
)

_BY_BIT = {e.bit: e for e in ERRATA}

# {part mask: {model with the other part bits cleared: ((bit, rv_min, rv_max, ((rv, REVIDR mask), ...)), ...)}}
_INDEX = {
    0xfff: {
        0x410fd030: (
            (0, 0x0, 0x1, ()),
            (0, 0x0, 0x2, ()),
            (3, 0x0, 0x4, ((4, 256),)),
            (4, 0x0, 0x4, ()),
        ),
        0x410fd050: (
            (9, 0x0, 0xf0000f, ()),
            (12, 0x0, 0x200000, ()),
        ),
        0x410fd070: (
            (1, 0x0, 0x100002, ()),
            (2, 0x0, 0x100002, ()),
            (12, 0x0, 0xf0000f, ()),
            (28, 0x1, 0xf0000f, ()),
        ),
        0x410fd080: (
            (12, 0x0, 0xf0000f, ()),
            (28, 0x0, 0xf0000f, ()),
        ),
        0x410fd090: (
            (10, 0x0, 0xf0000f, ()),
        ),
        0x410fd0b0: (
            (9, 0x0, 0x300000, ()),
            (9, 0x0, 0xf0000f, ()),
            (11, 0x0, 0x300001, ()),
            (12, 0x0, 0x200000, ()),
            (13, 0x0, 0x300001, ()),
            (30, 0x0, 0xf0000f, ()),
        ),
        0x410fd0c0: (
            (9, 0x0, 0xf0000f, ()),
            (11, 0x0, 0x300001, ()),
            (16, 0x0, 0xf0000f, ()),
            (30, 0x0, 0xf0000f, ()),
        ),
        0x410fd0d0: (
            (9, 0x0, 0xf0000f, ()),
            (17, 0x0, 0x100000, ()),
            (30, 0x0, 0xf0000f, ()),
        ),
        0x410fd0e0: (
            (9, 0x0, 0xf0000f, ()),
        ),
        0x410fd400: (
            (9, 0x0, 0xf0000f, ()),
            (30, 0x0, 0xf0000f, ()),
        ),
        0x410fd410: (
            (9, 0x0, 0xf0000f, ()),
            (30, 0x0, 0xf0000f, ()),
        ),
        0x410fd420: (
            (9, 0x0, 0xf0000f, ()),
        ),
        0x410fd440: (
            (9, 0x0, 0xf0000f, ()),
            (30, 0x0, 0xf0000f, ()),
        ),
        0x410fd460: (
            (9, 0x0, 0x100001, ()),
            (23, 0x0, 0x2, ()),
            (24, 0x0, 0x2, ()),
            (25, 0x0, 0x100001, ()),
            (26, 0x0, 0x2, ()),
            (27, 0x0, 0x1, ()),
            (29, 0x0, 0x100001, ((1048577, 33554432),)),
            (31, 0x0, 0xf0000f, ()),
        ),
        0x410fd470: (
            (9, 0x0, 0xf0000f, ()),
            (19, 0x0, 0xf0000f, ()),
            (20, 0x0, 0xf0000f, ()),
            (21, 0x0, 0xf0000f, ()),
            (30, 0x0, 0xf0000f, ()),
        ),
        0x410fd480: (
            (9, 0x0, 0xf0000f, ()),
            (19, 0x0, 0x200000, ()),
            (21, 0x0, 0x200000, ()),
            (30, 0x0, 0xf0000f, ()),
        ),
        0x410fd490: (
            (9, 0x0, 0xf0000f, ()),
            (19, 0x0, 0xf0000f, ()),
            (20, 0x0, 0xf0000f, ()),
            (21, 0x0, 0xf0000f, ()),
            (30, 0x0, 0xf0000f, ()),
        ),
        0x410fd4b0: (
            (9, 0x0, 0xf0000f, ()),
            (30, 0x0, 0xf0000f, ()),
        ),
        0x410fd4c0: (
            (9, 0x0, 0xf0000f, ()),
            (30, 0x0, 0xf0000f, ()),
        ),
        0x410fd4d0: (
            (22, 0x0, 0xf0000f, ()),
            (30, 0x0, 0xf0000f, ()),
        ),
        0x410fd4e0: (
            (9, 0x0, 0xf0000f, ()),
            (30, 0x0, 0xf0000f, ()),
        ),
        0x410fd4f0: (
            (9, 0x0, 0xf0000f, ()),
            (30, 0x0, 0xf0000f, ()),
        ),
        0x410fd800: (
            (31, 0x0, 0x1, ()),
        ),
        0x410fd810: (
            (30, 0x0, 0xf0000f, ()),
        ),
        0x410fd820: (
            (9, 0x0, 0xf0000f, ()),
            (30, 0x0, 0xf0000f, ()),
        ),
        0x410fd830: (
            (9, 0x0, 0xf0000f, ()),
            (30, 0x0, 0xf0000f, ()),
        ),
        0x410fd840: (
            (9, 0x0, 0xf0000f, ()),
            (30, 0x0, 0xf0000f, ()),
        ),
        0x410fd850: (
            (9, 0x0, 0xf0000f, ()),
            (30, 0x0, 0xf0000f, ()),
        ),
        0x410fd870: (
            (25, 0x0, 0x2, ()),
            (30, 0x0, 0xf0000f, ()),
        ),
        0x410fd890: (
            (30, 0x0, 0xf0000f, ()),
        ),
        0x410fd8b0: (
            (35, 0x0, 0x100002, ((1048578, 1),)),
        ),
        0x410fd8c0: (
            (9, 0x0, 0xf0000f, ()),
        ),
        0x410fd8e0: (
            (30, 0x0, 0xf0000f, ()),
        ),
        0x410fd900: (
            (9, 0x0, 0xf0000f, ()),
        ),
        0x420f1000: (
            (3, 0x0, 0x0, ()),
            (4, 0x0, 0x0, ()),
        ),
        0x420f5160: (
            (14, 0x0, 0xf0000f, ()),
            (15, 0x0, 0xf0000f, ()),
        ),
        0x430f0a10: (
            (5, 0x0, 0xf0000f, ()),
            (6, 0x0, 0x100001, ()),
            (7, 0x0, 0x100002, ()),
        ),
        0x430f0a20: (
            (5, 0x0, 0xf0000f, ()),
            (6, 0x0, 0x0, ()),
            (7, 0x0, 0x2, ()),
        ),
        0x430f0a30: (
            (5, 0x0, 0xf0000f, ()),
            (7, 0x0, 0x0, ()),
        ),
        0x430f0af0: (
            (14, 0x0, 0xf0000f, ()),
            (15, 0x0, 0xf0000f, ()),
        ),
        0x430f0b10: (
            (5, 0x0, 0xf0000f, ()),
        ),
        0x430f0b20: (
            (5, 0x0, 0xf0000f, ()),
        ),
        0x430f0b30: (
            (5, 0x0, 0xf0000f, ()),
        ),
        0x430f0b40: (
            (5, 0x0, 0xf0000f, ()),
        ),
        0x430f0b50: (
            (5, 0x0, 0xf0000f, ()),
        ),
        0x430f0b60: (
            (5, 0x0, 0xf0000f, ()),
        ),
        0x480fd020: (
            (33, 0x0, 0xf0000f, ()),
        ),
        0x4e0f0040: (
            (18, 0x0, 0xf0000f, ()),
        ),
        0x4e0f0100: (
            (9, 0x0, 0xf0000f, ()),
            (34, 0x0, 0xf0000f, ()),
        ),
        0x510f0010: (
            (37, 0x0, 0xf0000f, ()),
        ),
        0x510f8000: (
            (8, 0x0, 0x0, ()),
            (9, 0x0, 0x0, ()),
        ),
        0x510f8010: (
            (4, 0xa00004, 0xa00004, ()),
        ),
        0x510f8040: (
            (9, 0xc0000e, 0xf0000e, ()),
            (11, 0xc0000e, 0xf0000f, ()),
            (13, 0xc0000e, 0xf0000f, ()),
        ),
        0x510f8050: (
            (12, 0xd0000e, 0xd0000e, ()),
        ),
        0x6d0fd490: (
            (9, 0x0, 0xf0000f, ()),
            (19, 0x0, 0xf0000f, ()),
            (20, 0x0, 0xf0000f, ()),
            (21, 0x0, 0xf0000f, ()),
            (30, 0x0, 0xf0000f, ()),
        ),
        0xc00fac30: (
            (32, 0x0, 0xf0000f, ()),
        ),
        0xc00fac40: (
            (32, 0x0, 0xf0000f, ()),
            (36, 0x0, 0xf0000f, ()),
        ),
    },
    0xf00: {
        0x510f2000: (
            (8, 0x0, 0xf0000f, ()),
            (9, 0x0, 0xf0000f, ()),
        ),
    },
}


def model_mask(part_mask: int) -> int:
    """The MIDR bits an entry with this part mask compares: implementer, architecture and the
    part number's bits under the mask (0xfff, or 0xf00 for the kernel's is_kryo_midr family)."""
    return _IMPLEMENTER_ARCH_MASK | (part_mask << _PART_SHIFT)


# The MIDR bits each part mask compares, beside its models and the pieces of each model's
# variant/revision space (see _pieces), which are worked out on the model's first lookup.
_MODEL_MASKS = tuple((model_mask(part_mask), models, {}) for part_mask, models in _INDEX.items())


def _u32(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _U32:
        raise ValueError(f"{what} must be a 32-bit unsigned integer, not {value!r}")
    return value


def _pieces(rows: tuple) -> tuple:
    """Cut a model's variant/revision space wherever one of its ranges starts or ends.

    Returns (starts, pieces): pieces[i] holds, for the revisions from starts[i] up to the next
    start, the bitmap of the ranges without REVIDR fixes that cover them, and the (bit, fixes)
    of the ranges with fixes that do. A lookup is then a bisection, whatever the number of
    ranges of the model: scanning them all took 11 us per lookup with 200 ranges a model.
    """
    events = sorted([(lo, 1, i) for i, (_, lo, _, _) in enumerate(rows)]
                    + [(hi + 1, -1, i) for i, (_, _, hi, _) in enumerate(rows)])
    covering = {}  # bit -> how many ranges without fixes cover the current piece
    with_fixes = {}  # row -> (bit, fixes), for the ranges with fixes that cover it
    bitmap = 0
    starts, pieces = [], []
    for n, (at, step, row) in enumerate(events):
        bit, _, _, fixes = rows[row]
        if fixes:
            if step > 0:
                with_fixes[row] = (bit, fixes)
            else:
                del with_fixes[row]
        else:
            covering[bit] = covering.get(bit, 0) + step
            bitmap = bitmap | 1 << bit if covering[bit] else bitmap & ~(1 << bit)
        if n + 1 == len(events) or events[n + 1][0] != at:
            starts.append(at)
            pieces.append((bitmap, tuple(with_fixes.values())))
    return starts, pieces


# bitmap -> its errata in bit order, for each bitmap a lookup has found. A registry has few
# distinct ones (one per piece, and per REVIDR fix outcome); a CPU can have a hundred errata.
_ERRATA_OF = {}


def _bits_for_cpu(midr: int, revidr: int) -> int:
    """The bitmap of the errata of one CPU."""
    rv = midr & _RV_MASK
    bits = 0
    for model_mask, models, cut in _MODEL_MASKS:
        model = midr & model_mask
        found = cut.get(model)
        if found is None:
            rows = models.get(model)
            if rows is None:
                continue
            found = cut[model] = _pieces(rows)
        starts, pieces = found
        i = bisect_right(starts, rv) - 1
        if i < 0:
            continue
        bitmap, with_fixes = pieces[i]
        bits |= bitmap
        for bit, fixes in with_fixes:
            if not any(rv == fix_rv and revidr & mask for fix_rv, mask in fixes):
                bits |= 1 << bit
    return bits


def errata_for_cpu(midr: int, revidr: int = 0) -> list:
    """The errata (retired ones too) a CPU with this MIDR_EL1 and REVIDR_EL1 has, by bit."""
    bits = _bits_for_cpu(_u32(midr, "MIDR"), _u32(revidr, "REVIDR"))
    found = _ERRATA_OF.get(bits)
    if found is None:
        found = _ERRATA_OF[bits] = tuple(_BY_BIT[b] for b in range(bits.bit_length()) if bits >> b & 1)
    return list(found)


Cpu = Union[int, tuple]


def bitmap_for_cpus(cpus: Iterable[Cpu]) -> int:
    """The bitmap KVM returns for a VM that may run on any of cpus (MIDRs or (MIDR, REVIDR) pairs)."""
    bitmap = 0
    for cpu in cpus:
        midr, revidr = (cpu, 0) if isinstance(cpu, int) else cpu
        bitmap |= _bits_for_cpu(_u32(midr, "MIDR"), _u32(revidr, "REVIDR"))
    return bitmap


def registers(bitmap: int) -> tuple:
    """Split a bitmap into the hypercall's result registers (R0, R1, R2, R3)."""
    if isinstance(bitmap, bool) or not isinstance(bitmap, int) or not 0 <= bitmap < 1 << _BITS:
        raise ValueError(f"bitmap must be an unsigned integer below 2**{_BITS}, not {bitmap!r}")
    mask = (1 << REGISTER_BITS) - 1
    return tuple((bitmap >> (REGISTER_BITS * i)) & mask for i in range(len(REGISTERS)))


def errata_from_registers(*regs: int) -> list:
    """The known errata whose bits are set in R0, R1, R2, R3; unknown bits are ignored."""
    if len(regs) != len(REGISTERS):
        raise ValueError(f"expected {len(REGISTERS)} registers, got {len(regs)}")
    bitmap = 0
    for i, reg in enumerate(regs):
        if isinstance(reg, bool) or not isinstance(reg, int) or not 0 <= reg < 1 << REGISTER_BITS:
            raise ValueError(f"{REGISTERS[i]} must be a {REGISTER_BITS}-bit unsigned integer, not {reg!r}")
        bitmap |= reg << (REGISTER_BITS * i)
    return [e for e in ERRATA if bitmap >> e.bit & 1]
