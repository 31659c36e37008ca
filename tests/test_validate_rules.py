"""Every validation rule, one small edit of the valid fixture at a time.

Each case copies tests/fixtures/valid to a temporary directory, replaces one piece of text in
one file and runs `errata-db validate`. The expected diagnostics are written out literally,
with the line and column computed by hand from the fixture, so that a change in a message or
in line mapping shows up here.

Unless a case is about them, `lock` and `unused-cpu` diagnostics are left out of the comparison:
most edits also change an erratum's identity or drop it from the model, and what the lock and
the unused-CPU warning then say is tested by the cases about them.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import FIXTURES, run_cli

VALID = FIXTURES / "valid"
A = "errata/a.yaml"
CPUS = "cpus.yaml"
LOCK = "bits.lock"

DIAG = re.compile(r"^(?P<pos>\S+?)(?::\d+:\d+)?: (?P<severity>error|warning): .* \[(?P<rule>[\w-]+)\]$")
UNSAFE = ("text goes into C comments and strings, so it must be printable ASCII "
          "without '/*', '*/' or backslashes")
LOCK_CHANGED = ("a bit never changes meaning; restore the name, vendor and errata_ids, "
                "or retire this bit and give the erratum a new one")


def copy_valid(tmp_path: Path) -> Path:
    root = tmp_path / "reg"
    shutil.copytree(VALID, root)
    return root


def edit(root: Path, rel: str, old: str, new: str) -> None:
    """Replace the one occurrence of old in root/rel by new."""
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur exactly once in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def validate(tmp_path: Path, *args: str):
    """`errata-db validate --registry reg` from tmp_path, so diagnostics name reg/..."""
    return run_cli("validate", "--registry", "reg", *args, cwd=tmp_path)


def diagnostics(stderr: str) -> list[str]:
    lines = [line for line in stderr.splitlines() if line]
    for line in lines:
        assert DIAG.match(line), f"not a diagnostic line: {line!r}"
    return lines


def rule_of(line: str) -> str:
    return DIAG.match(line).group("rule")


@dataclass(frozen=True)
class Case:
    id: str
    file: str
    old: str
    new: str
    expected: tuple[str, ...]
    ignore: tuple[str, ...] = ("lock", "unused-cpu")
    code: int = 1


CASES = [
    # --- YAML and schema -------------------------------------------------------------------
    Case("duplicate_yaml_key_points_at_the_second_key", A,
         '    vendor: ARM\n    errata_ids: ["843419"]\n',
         '    vendor: ARM\n    vendor: ARM\n    errata_ids: ["843419"]\n',
         ("reg/errata/a.yaml:26:5: error: duplicate key 'vendor' (first defined at line 25) [duplicate-key]",)),
    Case("unknown_key_points_at_the_key_line", A,
         "    kconfig: [ARM64_ERRATUM_843419]\n",
         "    kconfig: [ARM64_ERRATUM_843419]\n    kconfg: [ARM64_ERRATUM_843419]\n",
         ("reg/errata/a.yaml:32:5: error: unknown key 'kconfg'; did you mean 'kconfig'? [schema-unknown-key]",)),
    Case("unknown_key_without_a_close_match_lists_the_known_keys", "registry.yaml",
         "    description: Kept free.\n", "    description: Kept free.\n    vendor_x: 1\n",
         ("reg/registry.yaml:33:5: error: unknown key 'vendor_x'; known keys: description, first, "
          "last, name, owner, status [schema-unknown-key]",)),
    Case("unknown_key_in_a_cpu_leaves_the_cpu_out", CPUS,
         "    macro: MIDR_QCOM_KRYO\n", "    macro: MIDR_QCOM_KRYO\n    partmacro: X\n",
         ("reg/cpus.yaml:32:5: error: unknown key 'partmacro'; did you mean 'part_macro'? "
          "[schema-unknown-key]",
          "reg/errata/a.yaml:52:14: error: unknown CPU 'kryo': not defined in cpus.yaml "
          "(known: cortex-a53, cortex-a57, falkor-v1) [unknown-cpu]")),
    Case("keys_with_line_breaks_are_escaped_in_messages", A, "    bit: 8\n",
         '    bit: 8\n    "a\\nb": 1\n    "a\\nb": 2\n',
         (r"reg/errata/a.yaml:42:5: error: unknown key 'a\nb'; known keys: affects, bit, condition, "
          "cpucap, cpucap_names, description, errata_ids, guest, guest_reason, impact, impact_note, kconfig, kernel, name, note, "
          "retired, shares_ids_with, status, vendor "
          "[schema-unknown-key]",
          r"reg/errata/a.yaml:43:5: error: duplicate key 'a\nb' (first defined at line 42) [duplicate-key]")),
    Case("schema_type_error_points_at_the_value", A, "    bit: 3\n", '    bit: "x"\n',
         ("reg/errata/a.yaml:24:10: error: 'errata[WORKAROUND_843419].bit': 'x' is not of type 'integer' [schema-type]",)),
    Case("float_bit_is_not_an_integer", A, "    bit: 3\n", "    bit: 3.0\n",
         ("reg/errata/a.yaml:24:10: error: 'errata[WORKAROUND_843419].bit': 3.0 is not of type 'integer' [schema-type]",)),
    Case("float_part_mask_is_a_schema_error_not_a_crash", A, "part_mask: 0xf00", "part_mask: 3840.0",
         ("reg/errata/a.yaml:53:20: error: 'errata[WORKAROUND_QCOM_FALKOR_E1003].affects.1.part_mask': 3840.0 is not of type "
          "'integer' [schema-type]",)),
    Case("missing_required_key_points_at_the_entry", A, "    vendor: Qualcomm Tech.\n", "",
         ("reg/errata/a.yaml:40:5: error: 'errata[WORKAROUND_QCOM_FALKOR_E1003]': 'vendor' is a required property [schema-required]",)),
    Case("retired_status_without_retired_block", A,
         "    retired:\n      since: v6.13\n"
         "      reason: Kept as a retired bit so that the tests cover retirement.\n", "",
         ("reg/errata/a.yaml:57:5: error: 'errata[WORKAROUND_834220]': 'retired' is a required property [schema-required]",)),
    Case("retired_block_on_an_active_entry", A, "    status: retired\n", "    status: active\n",
         ("reg/errata/a.yaml:57:5: error: 'errata[WORKAROUND_834220]': 'retired' is required exactly when status is "
          "'retired' [schema-not]",)),
    Case("a_host_only_entry_without_a_reason_is_a_schema_error", A,
         "    description: Cortex-A53 cache clean problems; upgrade clean to clean and invalidate.\n    guest: needed\n",
         "    description: Cortex-A53 cache clean problems; upgrade clean to clean and invalidate.\n    guest: host-only\n",
         ("reg/errata/a.yaml:5:5: error: 'errata[WORKAROUND_CLEAN_CACHE]': 'guest_reason' is a required property "
          "[schema-required]",)),
    Case("an_active_entry_must_say_what_a_guest_needs_and_how_bad_it_is", A,
         "    description: Cortex-A53 cache clean problems; upgrade clean to clean and invalidate.\n    guest: needed\n"
         "    impact: corruption\n    impact_note: A test entry.\n",
         "    description: Cortex-A53 cache clean problems; upgrade clean to clean and invalidate.\n",
         ("reg/errata/a.yaml:5:5: error: 'WORKAROUND_CLEAN_CACHE' does not say whether a guest kernel needs it "
          "(guest) or how bad it is without it (impact): give guest and impact (docs/registry-format.md) "
          "[guest-and-impact]",)),
    Case("an_impact_without_its_note_is_a_schema_error", A,
         "    description: Cortex-A53 cache clean problems; upgrade clean to clean and invalidate.\n    guest: needed\n"
         "    impact: corruption\n    impact_note: A test entry.\n",
         "    description: Cortex-A53 cache clean problems; upgrade clean to clean and invalidate.\n    guest: needed\n"
         "    impact: severe\n",
         ("reg/errata/a.yaml:11:13: error: 'errata[WORKAROUND_CLEAN_CACHE].impact': 'severe' is not one of "
          "['speculation', 'corruption', 'hang', 'trace', 'performance', 'unreviewed'] [schema-enum]",
          "reg/errata/a.yaml:5:5: error: 'errata[WORKAROUND_CLEAN_CACHE]': 'impact_note' is a required property "
          "[schema-required]")),
    Case("a_host_only_reason_must_cite_the_kernel_file_that_shows_it", A,
         "    description: Cortex-A53 cache clean problems; upgrade clean to clean and invalidate.\n    guest: needed\n",
         "    description: Cortex-A53 cache clean problems; upgrade clean to clean and invalidate.\n    guest: host-only\n"
         "    guest_reason: KVM handles it.\n",
         ("reg/errata/a.yaml:11:19: error: 'WORKAROUND_CLEAN_CACHE' is host-only without a kernel file in its "
          "guest_reason: cite the file(s) that show a guest kernel never runs the workaround (arch/arm64/kvm/...), or "
          "make it 'guest: needed' [guest-reason]",)),
    Case("an_entry_import_added_and_no_one_reviewed_is_a_warning", A,
         "    description: Cortex-A53 cache clean problems; upgrade clean to clean and invalidate.\n    guest: needed\n"
         "    impact: corruption\n    impact_note: A test entry.\n",
         "    description: Cortex-A53 cache clean problems; upgrade clean to clean and invalidate.\n    guest: unreviewed\n"
         "    impact: unreviewed\n",
         ("reg/errata/a.yaml:10:12: warning: 'WORKAROUND_CLEAN_CACHE': guest and impact not reviewed yet (import added "
          "it; risk counts it as needed by a guest and of the worst impact): decide them as docs/registry-format.md "
          "says [unreviewed]",), code=0),
    # --- names, bits, ids ------------------------------------------------------------------
    Case("duplicate_name_points_at_the_later_name", A,
         "  - name: WORKAROUND_CLEAN_CACHE\n", "  - name: WORKAROUND_843419\n",
         ("reg/errata/a.yaml:23:11: error: name 'WORKAROUND_843419' is already used by the erratum "
          "at reg/errata/a.yaml:5:11 [duplicate-name]",)),
    Case("duplicate_bit_points_at_the_later_bit", A, "  - name: WORKAROUND_834220\n",
         "  - name: WORKAROUND_NEW\n    bit: 3\n    vendor: ARM\n    errata_ids: [\"1\"]\n"
         "    description: New.\n    guest: needed\n    impact: corruption\n    impact_note: A test entry.\n    kconfig: []\n    affects:\n      - cpu: cortex-a57\n"
         "        revisions: r0p0\n    status: active\n\n  - name: WORKAROUND_834220\n",
         ("reg/errata/a.yaml:58:10: error: bit 3 of 'WORKAROUND_NEW' is already given "
          "to 'WORKAROUND_843419' at reg/errata/a.yaml:24:10; run `errata-db next-bit` for a free "
          "bit [duplicate-bit]",)),
    Case("moved_bit_reports_the_move_alone_not_its_knock_on_errors", A, "    bit: 8\n", "    bit: 3\n",
         ("reg/errata/a.yaml:41:10: error: 'WORKAROUND_QCOM_FALKOR_E1003' moved from bit 8 to bit 3: "
          "bits.lock (reg/bits.lock:8:1) locks it at bit 8, and a bit never moves; put it back at "
          "bit 8 [lock]",), ignore=()),
    Case("duplicate_erratum_id_across_errata", A,
         '["826319", "819472"]', '["826319", "819472", "843419"]',
         ("reg/errata/a.yaml:26:17: error: ARM erratum id '843419' of 'WORKAROUND_843419' is already "
          "listed by 'WORKAROUND_CLEAN_CACHE' at reg/errata/a.yaml:8:17; if both cpucaps really "
          "work around it, name each other in shares_ids_with [duplicate-erratum-id]",)),
    Case("erratum_id_listed_twice_in_one_erratum", A, '["843419"]', '["843419", "843419"]',
         ("reg/errata/a.yaml:26:17: error: erratum id '843419' is listed twice in "
          "'WORKAROUND_843419' [duplicate-erratum-id]",)),
    Case("shares_ids_with_must_be_reciprocal", A,
         "    kconfig: [ARM64_ERRATUM_843419]\n",
         "    kconfig: [ARM64_ERRATUM_843419]\n    shares_ids_with: [WORKAROUND_CLEAN_CACHE]\n",
         ("reg/errata/a.yaml:32:22: error: 'WORKAROUND_843419' shares ids with "
          "'WORKAROUND_CLEAN_CACHE', but 'WORKAROUND_CLEAN_CACHE' does not list "
          "'WORKAROUND_843419' in its shares_ids_with [shares-ids-with]",)),
    Case("shares_ids_with_an_unknown_erratum", A,
         "    kconfig: [ARM64_ERRATUM_843419]\n",
         "    kconfig: [ARM64_ERRATUM_843419]\n    shares_ids_with: [WORKAROUND_NOPE]\n",
         ("reg/errata/a.yaml:32:22: error: shares_ids_with names unknown erratum 'WORKAROUND_NOPE' "
          "[shares-ids-with]",)),
    Case("bit_outside_the_bit_space", A, "    bit: 3\n", "    bit: 256\n",
         ("reg/errata/a.yaml:24:10: error: bit 256 of 'WORKAROUND_843419' is outside the bit space "
          "0..255 (4 registers x 64 bits) [bit-space]",)),
    Case("negative_bit_is_outside_the_bit_space", A, "    bit: 3\n", "    bit: -1\n",
         ("reg/errata/a.yaml:24:10: error: bit -1 of 'WORKAROUND_843419' is outside the bit space "
          "0..255 (4 registers x 64 bits) [bit-space]",)),
    Case("upstream_bit_outside_the_upstream_range", A, "    bit: 3\n", "    bit: 200\n",
         ("reg/errata/a.yaml:24:10: error: bit 200 of 'WORKAROUND_843419' is in range 'private' "
          "(Private Use); upstream errata may only use 0..191 [owner-range]",)),
    Case("name_is_not_a_c_identifier", A, "name: WORKAROUND_843419", "name: WORKAROUND-843419",
         ("reg/errata/a.yaml:23:11: error: name 'WORKAROUND-843419' is not an upper-case C identifier "
          "(A-Z, 0-9, _) [c-identifier]",)),
    Case("lower_case_name_is_refused_because_generated_identifiers_lowercase_it", A,
         "name: WORKAROUND_843419", "name: Workaround_843419",
         ("reg/errata/a.yaml:23:11: error: name 'Workaround_843419' is not an upper-case C identifier "
          "(A-Z, 0-9, _) [c-identifier]",)),
    Case("cpucap_must_be_written_as_the_kernel_writes_cpucaps", A, "    bit: 3\n",
         "    bit: 3\n    cpucap: workaround_x\n",
         ("reg/errata/a.yaml:25:13: error: cpucap 'workaround_x' is not a cpucap name as "
          "arch/arm64/tools/cpucaps writes them (A-Z, 0-9, _ and v) [c-identifier]",)),
    Case("cpucap_name_given_to_two_cpucaps", A, "    bit: 3\n",
         "    bit: 3\n    cpucap_names:\n      - {name: WORKAROUND_843419_OLD, seen_in: \"6.12\"}\n"
         "      - {name: WORKAROUND_CLEAN_CACHE}\n",
         ("reg/errata/a.yaml:26:7: error: cpucap 'WORKAROUND_CLEAN_CACHE' follows 'WORKAROUND_843419_OLD': "
          "say from which kernel, with since: (the first version that uses it) or seen_in: (a version that "
          "does) [cpucap-names]",
          "reg/errata/a.yaml:26:7: error: cpucap name 'WORKAROUND_CLEAN_CACHE' of 'WORKAROUND_843419' (names: "
          "WORKAROUND_843419_OLD, WORKAROUND_CLEAN_CACHE) is also a name of 'WORKAROUND_CLEAN_CACHE' at "
          "reg/errata/a.yaml:5:5 (names: WORKAROUND_CLEAN_CACHE): a name means one cpucap; give every bit of a "
          "cpucap the same cpucap_names [cpucap-names]")),
    Case("cpucap_names_listed_newest_first", A, "    bit: 3\n",
         "    bit: 3\n    cpucap_names:\n      - {name: WORKAROUND_843419, since: \"7.3\"}\n"
         "      - {name: WORKAROUND_843419_OLD, since: \"6.1\"}\n",
         ("reg/errata/a.yaml:26:7: error: cpucap 'WORKAROUND_843419_OLD' (6.1) is listed after "
          "'WORKAROUND_843419' (7.3): names are listed oldest first [cpucap-names]",)),
    Case("cpucap_and_cpucap_names_together", A, "    bit: 3\n",
         "    bit: 3\n    cpucap: WORKAROUND_843419\n    cpucap_names:\n      - {name: WORKAROUND_843419_OLD}\n"
         "      - {name: WORKAROUND_843419, since: \"7.3\"}\n",
         ("reg/errata/a.yaml:27:7: error: 'errata[WORKAROUND_843419]': 'cpucap' and 'cpucap_names' exclude "
          "each other: give one of them [schema-not]",)),
    Case("kconfig_names_not_ending_in_the_name_the_guard_uses", A,
         "    kconfig: [QCOM_FALKOR_ERRATUM_1003]\n",
         "    kconfig: [QCOM_FALKOR_ERRATUM_1003]\n    kernel:\n      guard: [QCOM_FALKOR_ERRATUM_1003]\n"
         "      kconfig_names:\n"
         "        QCOM_FALKOR_ERRATUM_1003:\n          - {name: QCOM_FALKOR_ERRATUM_1003}\n"
         "          - {name: QCOM_FALKOR_1003, since: \"7.3\"}\n"
         "        ARM64_UNUSED:\n          - {name: ARM64_UNUSED_OLD}\n          - {name: ARM64_UNUSED, seen_in: \"7.3.4\"}\n",
         ("reg/errata/a.yaml:52:9: error: kconfig_names 'QCOM_FALKOR_ERRATUM_1003' must list "
          "'QCOM_FALKOR_ERRATUM_1003' last, as the newest name; it lists 'QCOM_FALKOR_1003' [cpucap-names]",
          "reg/errata/a.yaml:52:9: error: kconfig_names 'ARM64_UNUSED': no guard of "
          "'WORKAROUND_QCOM_FALKOR_E1003' uses that symbol [cpucap-names]")),
    Case("an_entry_joining_a_row_with_fields_of_its_own_past_its_end_and_outside_its_guard", A,
         "    status: active\n\n  - name: WORKAROUND_QCOM_FALKOR_E1003\n",
         "    status: active\n\n  - name: WORKAROUND_9999999\n    bit: 9\n    vendor: ARM\n"
         "    errata_ids: [\"9999999\"]\n    description: A later erratum of the 843419 cpucap.\n"
         "    guest: needed\n    impact: corruption\n    impact_note: A test entry.\n"
         "    kconfig: [ARM64_ERRATUM_9999999]\n    cpucap: WORKAROUND_843419\n    affects:\n"
         "      - cpu: cortex-a57\n        revisions: r0p0\n    kernel:\n      joins: WORKAROUND_843419\n"
         "      joins_at: 5\n      desc: Its own\n    status: active\n\n  - name: WORKAROUND_QCOM_FALKOR_E1003\n",
         ("reg/errata/a.yaml:54:14: error: the row of 'WORKAROUND_843419' is built under ARM64_ERRATUM_843419, "
          "none of which builds 'WORKAROUND_9999999' (ARM64_ERRATUM_9999999): give the row the option they "
          "select, ARM64_WORKAROUND_843419 [kernel-table]",
          "reg/errata/a.yaml:55:17: error: joins_at 5 is past the end of the row of 'WORKAROUND_843419', which "
          "has 1 range(s) before it [kernel-table]",
          "reg/errata/a.yaml:56:13: error: 'WORKAROUND_9999999' has no row of its own (it joins "
          "'WORKAROUND_843419'): its desc is the row's, set on 'WORKAROUND_843419' [kernel-table]")),
    Case("joins_at_without_joins", A, "    kconfig: [ARM64_ERRATUM_843419]\n",
         "    kconfig: [ARM64_ERRATUM_843419]\n    kernel:\n      joins_at: 0\n",
         ("reg/errata/a.yaml:33:17: error: joins_at says where in another entry's row, but "
          "'WORKAROUND_843419' joins none [kernel-table]",)),
    Case("name_with_the_arm64_prefix", A, "name: WORKAROUND_843419", "name: ARM64_WORKAROUND_843419",
         ("reg/errata/a.yaml:23:11: error: name 'ARM64_WORKAROUND_843419' starts with ARM64_, which the "
          "generated code adds (it would read ARM64_ARM64_WORKAROUND_843419): write `name: "
          "WORKAROUND_843419` [arm64-prefix]",)),
    Case("kconfig_symbol_is_not_a_c_identifier", A,
         "kconfig: [ARM64_ERRATUM_843419]", "kconfig: [ARM64-ERRATUM-843419]",
         ("reg/errata/a.yaml:31:14: error: Kconfig symbol 'ARM64-ERRATUM-843419' is not a C "
          "identifier [c-identifier]",)),
    # --- CPUs and field widths -------------------------------------------------------------
    Case("two_cpus_with_one_macro", CPUS, "    macro: MIDR_CORTEX_A57\n", "    macro: MIDR_CORTEX_A53\n",
         ("reg/cpus.yaml:25:12: error: CPU 'cortex-a57' has the same macro MIDR_CORTEX_A53 as "
          "'cortex-a53' at reg/cpus.yaml:19:12 [duplicate-cpu]",)),
    Case("part_family_whose_base_part_has_bits_outside_the_mask", CPUS, "part: 0x200", "part: 0x201",
         ("reg/errata/a.yaml:53:20: error: part 0x201 of 'kryo' has bits outside part_mask 0xf00: "
          "the kernel compares the masked MIDR with the CPU's whole model, so it would never match; "
          "name the family's base part [field-width]",)),
    Case("unknown_cpu_reference", A, "      - cpu: cortex-a57\n", "      - cpu: cortex-a99\n",
         ("reg/errata/a.yaml:67:14: error: unknown CPU 'cortex-a99': not defined in cpus.yaml; "
          "did you mean 'cortex-a57'? [unknown-cpu]",)),
    Case("unknown_implementer_reference", CPUS,
         "    implementer: qualcomm\n    part: 0x800\n", "    implementer: qcom\n    part: 0x800\n",
         ("reg/cpus.yaml:33:18: error: CPU 'falkor-v1' names implementer 'qcom', which no cpus.yaml "
          "defines [unknown-implementer]",
          "reg/errata/a.yaml:50:14: error: unknown CPU 'falkor-v1': not defined in cpus.yaml "
          "(known: cortex-a53, cortex-a57, kryo) [unknown-cpu]")),
    Case("implementer_code_wider_than_8_bits", CPUS, "    code: 0x51\n", "    code: 0x151\n",
         ("reg/cpus.yaml:10:11: error: implementer code 0x151 of 'qualcomm' does not fit in 8 bits "
          "(max 0xff) [field-width]",)),
    Case("part_number_wider_than_12_bits", CPUS, "    part: 0xd07\n", "    part: 0x1d07\n",
         ("reg/cpus.yaml:23:11: error: part number 0x1d07 of 'cortex-a57' does not fit in 12 bits "
          "(max 0xfff) [field-width]",)),
    Case("variant_16_does_not_fit", A, "revisions: r0p0..r1p2", "revisions: r0p0..r16p0",
         ("reg/errata/a.yaml:68:20: error: variant 16 in r16p0 of 'WORKAROUND_834220' does not fit "
          "in 4 bits (max 15) [field-width]",)),
    Case("revision_16_does_not_fit", A, "revisions: r0p0..r1p2", "revisions: r0p0..r1p16",
         ("reg/errata/a.yaml:68:20: error: revision 16 in r1p16 of 'WORKAROUND_834220' does not fit "
          "in 4 bits (max 15) [field-width]",)),
    Case("part_mask_wider_than_12_bits", A, "part_mask: 0xf00", "part_mask: 0x1f00",
         ("reg/errata/a.yaml:53:20: error: part_mask 0x1f00 of 'WORKAROUND_QCOM_FALKOR_E1003' must "
          "be within 0x1..0xfff [field-width]",)),
    Case("duplicate_cpu_id", CPUS, "  - id: falkor-v1\n", "  - id: kryo\n",
         ("reg/cpus.yaml:32:9: error: CPU id 'kryo' is already defined at reg/cpus.yaml:27:9 "
          "[duplicate-cpu]",
          # errata/a.yaml still names falkor-v1, which is now gone
          "reg/errata/a.yaml:50:14: error: unknown CPU 'falkor-v1': not defined in cpus.yaml "
          "(known: cortex-a53, cortex-a57, kryo) [unknown-cpu]")),
    # --- revision ranges -------------------------------------------------------------------
    Case("revision_syntax", A, "revisions: r0p0..r1p2", "revisions: r0..r1p2",
         ("reg/errata/a.yaml:68:20: error: revisions 'r0..r1p2' must be 'all', 'rXpY' or "
          "'rXpY..rXpY' [revision-syntax]",)),
    Case("revision_with_a_non_ascii_digit_is_a_syntax_error", A, "revisions: r0p0..r1p2",
         "revisions: r0p0..r1p2\u0660",
         ("reg/errata/a.yaml:68:20: error: revisions 'r0p0..r1p2\u0660' must be 'all', 'rXpY' or "
          "'rXpY..rXpY' [revision-syntax]",)),
    Case("revision_with_thousands_of_digits_is_a_syntax_error", A, "revisions: r0p0..r1p2",
         "revisions: r" + "9" * 5000 + "p0",
         ("reg/errata/a.yaml:68:20: error: revisions 'r" + "9" * 5000 + "p0' must be 'all', "
          "'rXpY' or 'rXpY..rXpY' [revision-syntax]",)),
    Case("unknown_cpu_with_a_line_break_stays_on_one_line", A, "      - cpu: cortex-a57\n",
         '      - cpu: "cortex-a57\\nx"\n',
         ("reg/errata/a.yaml:67:14: error: unknown CPU 'cortex-a57\\nx': not defined in cpus.yaml; "
          "did you mean 'cortex-a57'? [unknown-cpu]",)),
    Case("lower_bound_above_upper_bound", A, "revisions: r0p0..r1p2", "revisions: r2p0..r1p0",
         ("reg/errata/a.yaml:68:20: error: lower bound r2p0 is above upper bound r1p0 in "
          "'WORKAROUND_834220' [revision-order]",)),
    Case("same_cpu_range_twice_in_one_erratum", A, "revisions: r0p0..r0p1", "revisions: r0p0..r0p2",
         ("reg/errata/a.yaml:18:9: error: 'WORKAROUND_CLEAN_CACHE' lists cortex-a53 r0p0..r0p2 "
          "twice (first at reg/errata/a.yaml:15:9) [duplicate-range]",)),
    Case("overlapping_ranges_without_per_range_errata_ids", A, '        errata_ids: ["819472"]\n', "",
         ("reg/errata/a.yaml:18:9: error: cortex-a53 r0p0..r0p1 overlaps r0p0..r0p2 (at "
          "reg/errata/a.yaml:15:9) in 'WORKAROUND_CLEAN_CACHE': merge them, or give each the "
          "errata_ids it comes from [overlapping-ranges]",)),
    Case("per_range_erratum_id_not_listed_by_the_erratum", A,
         '        errata_ids: ["819472"]\n', '        errata_ids: ["999999"]\n',
         ("reg/errata/a.yaml:20:21: error: erratum id '999999' is not one of "
          "'WORKAROUND_CLEAN_CACHE' errata_ids [range-errata-ids]",)),
    # --- REVIDR fixes ----------------------------------------------------------------------
    Case("revidr_mask_zero", A, "mask: 0x100", "mask: 0",
         ("reg/errata/a.yaml:37:19: error: REVIDR fix mask is 0: it would never apply [revidr-fix]",)),
    Case("revidr_mask_wider_than_32_bits", A, "mask: 0x100", "mask: 0x100000000",
         ("reg/errata/a.yaml:37:19: error: REVIDR fix mask 0x100000000 is wider than 32 bits [revidr-fix]",)),
    Case("revidr_fix_on_an_unaffected_revision", A, "revision: r0p4", "revision: r0p5",
         ("reg/errata/a.yaml:36:23: error: REVIDR fix on r0p5, which 'WORKAROUND_843419' does not "
          "affect on cortex-a53 (r0p0..r0p4) [revidr-fix]",)),
    # --- unsafe text -----------------------------------------------------------------------
    Case("comment_terminator_in_text", A, "may use a wrong address.", "may use a wrong address */.",
         (f"reg/errata/a.yaml:27:18: error: description contains '*/': {UNSAFE} [unsafe-text]",)),
    Case("comment_opener_in_text", A, "may use a wrong address.", "may use /* a wrong address.",
         (f"reg/errata/a.yaml:27:18: error: description contains '/*': {UNSAFE} [unsafe-text]",)),
    Case("backslash_in_text", A, "may use a wrong address.", "may use a wrong \\address.",
         (f"reg/errata/a.yaml:27:18: error: description contains '\\\\': {UNSAFE} [unsafe-text]",)),
    Case("non_ascii_in_text", A, "may use a wrong address.", "may use a wrong adréss.",
         (f"reg/errata/a.yaml:27:18: error: description contains 'é': {UNSAFE} [unsafe-text]",)),
    Case("control_character_in_text", A,
         "description: Cortex-A53 load or store after an ADRP may use a wrong address.",
         'description: "Cortex-A53 load\\aor store."',
         (f"reg/errata/a.yaml:27:18: error: description contains '\\x07': {UNSAFE} [unsafe-text]",)),
    Case("unsafe_text_in_vendor", A, "vendor: Qualcomm Tech.", "vendor: Qualcomm */ Tech.",
         (f"reg/errata/a.yaml:42:13: error: vendor contains '*/': {UNSAFE} [unsafe-text]",)),
    Case("unsafe_text_in_retired_reason_points_at_the_reason", A,
         "reason: Kept as a retired bit", "reason: Kept */ as a retired bit",
         (f"reg/errata/a.yaml:72:15: error: reason contains '*/': {UNSAFE} [unsafe-text]",)),
    Case("unsafe_text_in_cpu_name", CPUS, "name: Falkor v1", "name: Falkor\\v1",
         (f"reg/cpus.yaml:35:11: error: CPU name contains '\\\\': {UNSAFE} [unsafe-text]",)),
    # --- bit ranges -----------------------------------------------------------------------
    Case("range_overlapping_another_range", "registry.yaml", "    first: 192\n", "    first: 191\n",
         ("reg/registry.yaml:22:12: error: range 'private' overlaps range 'upstream' (0..191) "
          "[range-layout]",)),
    Case("range_ending_outside_the_bit_space", "registry.yaml", "    last: 255\n", "    last: 256\n",
         ("reg/registry.yaml:29:11: error: range 'reserved' ends at 256, outside the bit space "
          "0..255 [range-layout]",)),
    # --- the lock --------------------------------------------------------------------------
    Case("entry_missing_from_lock_says_run_lock", LOCK,
         "8   active  0f31f2e4fa34b1a8 WORKAROUND_QCOM_FALKOR_E1003\n", "",
         ("reg/errata/a.yaml:41:10: error: bit 8 ('WORKAROUND_QCOM_FALKOR_E1003') is not in "
          "bits.lock: run `errata-db lock` [lock]",), ignore=()),
    Case("lock_line_for_a_bit_no_entry_has", LOCK,
         "8   active  0f31f2e4fa34b1a8 WORKAROUND_QCOM_FALKOR_E1003\n",
         "8   active  0f31f2e4fa34b1a8 WORKAROUND_QCOM_FALKOR_E1003\n"
         "100 active  0123456789abcdef WORKAROUND_GONE\n",
         ("reg/bits.lock:9:1: error: bit 100 ('WORKAROUND_GONE') is in bits.lock but no erratum has "
          "it: restore the entry, with `status: retired` if it is gone [lock]",), ignore=()),
    Case("name_changed_against_the_lock", A,
         "name: WORKAROUND_843419", "name: WORKAROUND_ADRP_843419",
         ("reg/errata/a.yaml:24:10: error: bit 3 is locked to 'WORKAROUND_843419' (fingerprint "
          "b208012ddb45edcc, reg/bits.lock:7:1) but the registry gives it to "
          f"'WORKAROUND_ADRP_843419' (fingerprint ba85e9f46682c036): {LOCK_CHANGED} [lock]",),
         ignore=()),
    Case("erratum_ids_changed_against_the_lock", A, '["E1003"]', '["E1004"]',
         ("reg/errata/a.yaml:43:17: error: the identity of 'WORKAROUND_QCOM_FALKOR_E1003' (bit 8) "
          "changed: bits.lock (reg/bits.lock:8:1) has fingerprint 0f31f2e4fa34b1a8, the registry's "
          "vendor and errata_ids give ff0f634aa11519a0; restore them, and give new erratum ids an "
          "entry of their own at `errata-db next-bit`, with `cpucap: WORKAROUND_QCOM_FALKOR_E1003` "
          "[lock]",), ignore=()),
    Case("retired_entry_cannot_become_active_again", A,
         "    status: retired\n    retired:\n      since: v6.13\n"
         "      reason: Kept as a retired bit so that the tests cover retirement.\n",
         "    status: active\n",
         ("reg/errata/a.yaml:69:13: error: bit 2 ('WORKAROUND_834220') is retired in bits.lock and "
          "cannot become active again [lock]",), ignore=()),
    Case("lock_line_with_a_huge_bit_number", LOCK, "8   active  0f31f2e4fa34b1a8",
         "9" * 5000 + " active  0f31f2e4fa34b1a8",
         ("reg/bits.lock:8:1: error: malformed lock line: expected '<bit> <active|retired> "
          "<16 hex digits> <name>' [lock-syntax]",
          "reg/errata/a.yaml:41:10: error: bit 8 ('WORKAROUND_QCOM_FALKOR_E1003') is not in "
          "bits.lock: run `errata-db lock` [lock]"), ignore=("unused-cpu",)),
    Case("malformed_lock_line", LOCK, "8   active  0f31f2e4fa34b1a8", "8   active  0f31f2e4",
         ("reg/bits.lock:8:1: error: malformed lock line: expected '<bit> <active|retired> "
          "<16 hex digits> <name>' [lock-syntax]",
          "reg/errata/a.yaml:41:10: error: bit 8 ('WORKAROUND_QCOM_FALKOR_E1003') is not in "
          "bits.lock: run `errata-db lock` [lock]"), ignore=()),
    Case("not_covered_cpucap_that_a_bit_enables", "registry.yaml", "    description: Kept free.\n",
         "    description: Kept free.\nnot_covered:\n  - cpucap: SPECTRE_V2\n    matcher: has_spectre_v2\n"
         "    reason: Firmware decides.\n  - cpucap: WORKAROUND_843419\n    matcher: is_affected_midr_range\n"
         "    reason: Wrongly listed.\n  - cpucap: SPECTRE_V2\n    matcher: has_spectre_v2\n"
         "    reason: Listed twice.\n  - cpucap: spectre_v4\n    matcher: has_spectre_v4\n"
         "    reason: Lower case.\n",
         ("reg/registry.yaml:37:13: error: cpucap 'WORKAROUND_843419' is listed as not covered, but "
          "bit 3 ('WORKAROUND_843419', reg/errata/a.yaml:23:5) enables it [not-covered]",
          "reg/registry.yaml:40:13: error: cpucap 'SPECTRE_V2' is already listed as not covered at "
          "reg/registry.yaml:34:13 [not-covered]",
          "reg/registry.yaml:43:13: error: cpucap 'spectre_v4' is not a cpucap name as "
          "arch/arm64/tools/cpucaps writes them (A-Z, 0-9, _ and v) [not-covered]"), ignore=()),
    Case("kernel_table_fields_that_the_kernel_cannot_build", A,
         '        errata_ids: ["819472"]\n    status: active\n',
         '        errata_ids: ["819472"]\n        guard: [ARM64_ERRATUM_843419]\n    kernel:\n'
         '      table: range\n      desc: Say "hi"\n'
         '      guard: [ARM64_WORKAROUND_CLEAN_CACHE, ARM64_ERRATUM_1]\n      after: SPECTRE_V9\n'
         '    status: active\n',
         ("reg/errata/a.yaml:21:16: error: a range guard needs a list, but 'WORKAROUND_CLEAN_CACHE' has "
          "kernel table 'range' [kernel-table]",
          "reg/errata/a.yaml:21:16: error: guard 'ARM64_ERRATUM_843419' is not one of "
          "'WORKAROUND_CLEAN_CACHE' kconfig options (ARM64_ERRATUM_826319, ARM64_ERRATUM_819472) "
          "[kernel-table]",
          "reg/errata/a.yaml:23:14: error: kernel table 'range' holds one range; the row of "
          "'WORKAROUND_CLEAN_CACHE' has 2 [kernel-table]",
          "reg/errata/a.yaml:24:13: error: desc would end the C string: it holds '\"' [kernel-table]",
          "reg/errata/a.yaml:25:14: error: guard 'ARM64_ERRATUM_1' is neither one of "
          "'WORKAROUND_CLEAN_CACHE' kconfig options nor ARM64_WORKAROUND_CLEAN_CACHE, the option they "
          "select [kernel-table]",
          "reg/errata/a.yaml:26:14: error: 'WORKAROUND_CLEAN_CACHE' comes after 'SPECTRE_V9', which is "
          "never placed: no active entry or not_covered cpucap has that name [kernel-table]")),
    Case("kernel_table_default_desc_that_would_end_the_c_string", A,
         "    vendor: ARM\n    errata_ids: [\"843419\"]\n",
         "    vendor: AR\"M\n    errata_ids: [\"843419\"]\n",
         ("reg/errata/a.yaml:25:13: error: the kernel table's desc 'AR\"M erratum 843419', made of vendor "
          "and errata_ids, would end the C string: it holds '\"' [kernel-table]",), ignore=("lock",)),
    Case("kernel_table_list_shapes", A,
         "    kconfig: [QCOM_FALKOR_ERRATUM_1003]\n    affects:\n      - cpu: falkor-v1\n"
         "        revisions: r0p0\n      - cpu: kryo\n        part_mask: 0xf00\n        revisions: all\n",
         "    kconfig: [QCOM_FALKOR_ERRATUM_1003]\n    kernel:\n      list: workaround_843419_list\n"
         "    affects:\n      - cpu: falkor-v1\n        revisions: r0p0\n      - cpu: kryo\n"
         "        part_mask: 0xf00\n        revisions: r0p0\n",
         ("reg/errata/a.yaml:50:13: error: list 'workaround_843419_list' is also the list of "
          "'WORKAROUND_843419' (reg/errata/a.yaml:23:5), with other ranges or guards [kernel-table]",
          "reg/errata/a.yaml:55:20: error: the kernel matches a part family only with mask 0xf00 and "
          "all revisions (is_kryo_midr) [kernel-table]")),
    Case("kernel_table_own_entry_and_part_family_need_entries", A,
         "        part_mask: 0xf00\n        revisions: all\n    status: active\n",
         "        part_mask: 0xf00\n        revisions: all\n        own_entry: true\n    kernel:\n"
         "      table: list\n      list: falkor\n      exported: true\n    status: active\n",
         ("reg/errata/a.yaml:55:20: error: own_entry needs kernel table 'entries', not 'list' "
          "[kernel-table]",
          "reg/errata/a.yaml:53:20: error: a part family is matched by is_kryo_midr in an entries table: "
          "set kernel table 'entries' for 'WORKAROUND_QCOM_FALKOR_E1003' [kernel-table]")),
    Case("speculation_list_of_a_kind_its_code_lacks", "speculation.yaml", "means: loop", "means: affected",
         ("reg/speculation.yaml:13:12: error: list 'spectre_bhb_k8_list': the kernel's SPECTRE_BHB code has no "
          "'affected' list (it has: safe, loop) [speculation]",
          "reg/speculation.yaml:14:8: error: list 'spectre_bhb_k8_list': a loop list, and only a loop list, has "
          "a k [speculation]")),
    Case("speculation_range_past_a_revision", "speculation.yaml", "cortex-a57, revisions: all",
         "cortex-a57, revisions: r0p16",
         ("reg/speculation.yaml:16:38: error: list 'spectre_bhb_k8_list': Cortex-A57 r0p16 is no range of "
          "variants and revisions (each 0-15, the first not after the last) [speculation]",)),
    Case("speculation_cpu_unknown", "speculation.yaml", "cortex-a53, revisions", "cortex-a99, revisions",
         ("reg/speculation.yaml:10:15: error: unknown CPU 'cortex-a99': not defined in cpus.yaml; did you mean "
          "'cortex-a57'? [unknown-cpu]",)),
    # --- warnings --------------------------------------------------------------------------
    Case("unused_cpu_is_only_a_warning", CPUS, "    macro: MIDR_QCOM_FALKOR_V1\n",
         "    macro: MIDR_QCOM_FALKOR_V1\n  - id: cortex-a72\n    implementer: arm\n"
         "    part: 0xd08\n    name: Cortex-A72\n    macro: MIDR_CORTEX_A72\n",
         ("reg/cpus.yaml:37:5: warning: CPU 'cortex-a72' is used by no erratum and no speculation list; remove it "
          "or add a note saying why it is kept [unused-cpu]",), ignore=(), code=0),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_invalid_edit_reports_exact_diagnostics(tmp_path: Path, case: Case) -> None:
    root = copy_valid(tmp_path)
    edit(root, case.file, case.old, case.new)
    result = validate(tmp_path)
    lines = [line for line in diagnostics(result.err) if rule_of(line) not in case.ignore]
    assert sorted(lines) == sorted(case.expected)
    assert result.code == case.code
    assert "Traceback" not in result.err


def test_every_rule_of_the_validator_has_a_case() -> None:
    from errata_db.validate import RULES

    covered = {DIAG.match(line).group("rule") for c in CASES for line in c.expected}
    # Overlays are the business of the overlay tests.
    missing = set(RULES) - covered - {"overlay"}
    assert not missing, f"rules without a test case: {sorted(missing)}"


def test_missing_lock_file_says_run_lock(tmp_path: Path) -> None:
    root = copy_valid(tmp_path)
    (root / LOCK).unlink()
    result = validate(tmp_path)
    assert result.code == 1
    assert diagnostics(result.err) == [
        "reg/bits.lock: error: reg/bits.lock is missing: run `errata-db lock` to create it [lock]"]


def test_unused_cpu_with_a_note_is_not_reported(tmp_path: Path) -> None:
    root = copy_valid(tmp_path)
    edit(root, CPUS, "    macro: MIDR_QCOM_FALKOR_V1\n",
         "    macro: MIDR_QCOM_FALKOR_V1\n  - id: cortex-a72\n    implementer: arm\n"
         "    part: 0xd08\n    name: Cortex-A72\n    macro: MIDR_CORTEX_A72\n"
         "    note: Kept for the guest header.\n")
    result = validate(tmp_path)
    assert (result.code, result.err) == (0, "")
    assert result.out == "4 errata, 5 CPUs: valid\n"


def test_shares_ids_with_lets_two_errata_list_the_same_id(tmp_path: Path) -> None:
    root = copy_valid(tmp_path)
    edit(root, A, "    kconfig: [ARM64_ERRATUM_843419]\n",
         "    kconfig: [ARM64_ERRATUM_843419]\n    shares_ids_with: [WORKAROUND_843419_AGAIN]\n")
    (root / A).write_text((root / A).read_text() + """
  - name: WORKAROUND_843419_AGAIN
    bit: 4
    vendor: ARM
    errata_ids: ["843419"]
    description: A second cpucap for the same erratum.
    guest: needed
    impact: corruption
    impact_note: A test entry.
    kconfig: [ARM64_ERRATUM_843419]
    affects:
      - cpu: cortex-a53
        revisions: r0p0..r0p4
    shares_ids_with: [WORKAROUND_843419]
    status: active
""")
    locked = run_cli("lock", "--registry", "reg", cwd=tmp_path)
    assert locked.code == 0, locked.err
    assert "4   active  " in (root / LOCK).read_text()
    result = validate(tmp_path)
    assert result.err == ""
    assert (result.code, result.out) == (0, "5 errata, 4 CPUs: valid\n")

    # Without the escape hatch the very same registry is refused.
    edit(root, A, "    shares_ids_with: [WORKAROUND_843419]\n", "")
    edit(root, A, "    shares_ids_with: [WORKAROUND_843419_AGAIN]\n", "")
    result = validate(tmp_path)
    assert result.code == 1
    assert diagnostics(result.err) == [
        "reg/errata/a.yaml:77:17: error: ARM erratum id '843419' of 'WORKAROUND_843419_AGAIN' is "
        "already listed by 'WORKAROUND_843419' at reg/errata/a.yaml:26:17; if both cpucaps really "
        "work around it, name each other in shares_ids_with [duplicate-erratum-id]"]


def test_all_errors_are_reported_in_one_run(tmp_path: Path) -> None:
    root = copy_valid(tmp_path)
    edit(root, A, "mask: 0x100", "mask: 0")                                  # WORKAROUND_843419
    edit(root, A, "      - cpu: falkor-v1\n", "      - cpu: falkor-v9\n")    # ..._FALKOR_E1003
    edit(root, A, "revisions: r0p0..r1p2", "revisions: r2p0..r1p0")          # WORKAROUND_834220
    edit(root, CPUS, "    code: 0x51\n", "    code: 0x151\n")
    result = validate(tmp_path)
    assert result.code == 1
    errors = [line for line in diagnostics(result.err) if ": error: " in line and rule_of(line) != "lock"]
    assert [line.split(": error: ")[0] + " " + rule_of(line) for line in errors] == [
        "reg/cpus.yaml:10:11 field-width",
        "reg/errata/a.yaml:37:19 revidr-fix",
        "reg/errata/a.yaml:50:14 unknown-cpu",
        "reg/errata/a.yaml:68:20 revision-order",
    ]


def test_broken_yaml_in_one_file_does_not_hide_errors_in_another(tmp_path: Path) -> None:
    root = copy_valid(tmp_path)
    (root / "errata" / "b.yaml").write_text("errata:\n  - name: [unclosed\n")
    edit(root, CPUS, "    part: 0xd07\n", "    part: 0x1d07\n")
    result = validate(tmp_path)
    assert result.code == 1
    rules = {(line.split(":")[0], rule_of(line)) for line in diagnostics(result.err)}
    assert ("reg/errata/b.yaml", "yaml-syntax") in rules
    assert ("reg/cpus.yaml", "field-width") in rules


def test_json_format_is_parseable_and_has_the_fields(tmp_path: Path) -> None:
    root = copy_valid(tmp_path)
    edit(root, A, "mask: 0x100", "mask: 0")
    edit(root, CPUS, "    macro: MIDR_QCOM_FALKOR_V1\n",
         "    macro: MIDR_QCOM_FALKOR_V1\n  - id: cortex-a72\n    implementer: arm\n"
         "    part: 0xd08\n    name: Cortex-A72\n    macro: MIDR_CORTEX_A72\n")
    result = validate(tmp_path, "--format", "json")
    assert result.code == 1
    assert result.err == ""
    assert json.loads(result.out) == {"diagnostics": [
        {"pos": {"path": "reg/cpus.yaml", "line": 37, "col": 5}, "severity": "warning",
         "rule": "unused-cpu",
         "message": "CPU 'cortex-a72' is used by no erratum and no speculation list; remove it or add a note "
                    "saying why it is kept"},
        {"pos": {"path": "reg/errata/a.yaml", "line": 37, "col": 19}, "severity": "error",
         "rule": "revidr-fix", "message": "REVIDR fix mask is 0: it would never apply"},
    ]}


def test_json_format_of_a_valid_registry_is_an_empty_list(tmp_path: Path) -> None:
    copy_valid(tmp_path)
    result = validate(tmp_path, "--format", "json")
    assert result.code == 0
    assert json.loads(result.out) == {"diagnostics": []}


def test_github_format_gives_workflow_commands(tmp_path: Path) -> None:
    root = copy_valid(tmp_path)
    edit(root, A, "mask: 0x100", "mask: 0")
    edit(root, CPUS, "    macro: MIDR_QCOM_FALKOR_V1\n",
         "    macro: MIDR_QCOM_FALKOR_V1\n  - id: cortex-a72\n    implementer: arm\n"
         "    part: 0xd08\n    name: Cortex-A72\n    macro: MIDR_CORTEX_A72\n")
    result = validate(tmp_path, "--format", "github")
    assert result.code == 1
    assert result.out.splitlines() == [
        "::warning file=reg/cpus.yaml,line=37,col=5,title=unused-cpu::CPU 'cortex-a72' is used by "
        "no erratum and no speculation list; remove it or add a note saying why it is kept",
        "::error file=reg/errata/a.yaml,line=37,col=19,title=revidr-fix::REVIDR fix mask is 0: it "
        "would never apply",
    ]
