"""Downstream overlays: their own range, their own lock, no shadowing, clashes named."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import FIXTURES, REGISTRY, run_cli

ACME = FIXTURES / "overlays" / "acme"


@pytest.fixture
def acme(tmp_path: Path) -> Path:
    dest = tmp_path / "acme"
    shutil.copytree(ACME, dest)
    return dest


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_overlay_is_valid_and_its_errata_join_the_registry():
    result = run_cli("validate", "--overlay", str(ACME))
    assert result.code == 0, result.err
    assert "39 errata" in result.out  # the 38 of the bundled registry (Linux 7.3.4) and ACME's one


def test_generated_output_includes_overlay_entries(tmp_path):
    assert run_cli("generate", "--out", str(tmp_path), "--overlay", str(ACME)).code == 0
    header = (tmp_path / "linux/arch/arm64/include/asm/migrn_errata.h").read_text()
    assert "#define MIGRN_SAFE_CAP_WORKAROUND_ACME_42\t" in header
    assert "overlay 'acme'" in header
    kvm = (tmp_path / "linux/arch/arm64/kvm/migrn_errata_table.h").read_text()
    assert "#define MIDR_ACME_ROADRUNNER MIDR_CPU_MODEL(0xac, 0x1)" in kvm


def test_lookup_finds_an_overlay_erratum_in_r3():
    result = run_cli("lookup", "--midr", "0xac1f0012", "--overlay", str(ACME))
    assert result.code == 0 and "bit 192  R3  WORKAROUND_ACME_42" in result.out


def test_next_bit_in_an_overlay_starts_at_its_own_range():
    assert run_cli("next-bit", "--overlay", str(ACME)).out.strip() == "193"
    assert run_cli("next-bit").out.strip() == "38"  # the bundled registry (Linux 7.3.4) uses 0-37


def test_overlay_bit_in_the_upstream_range_is_refused(acme):
    _edit(acme / "errata/acme.yaml", "bit: 192", "bit: 100")
    result = run_cli("validate", "--overlay", str(acme))
    assert result.code == 1
    assert ("acme/errata/acme.yaml:4:10: error: bit 100 of 'WORKAROUND_ACME_42' is in range "
            "'upstream' (Expert Review); overlay 'acme' may only use 192..199 [owner-range]") in result.err


def test_overlay_range_must_be_private_use(acme):
    _edit(acme / "overlay.yaml", "range: private", "range: upstream")
    result = run_cli("validate", "--overlay", str(acme))
    assert result.code == 1
    assert "overlay range 'upstream' is not a Private Use range (those are: private) [overlay]" in result.err


def test_overlay_cannot_shadow_an_upstream_name(acme):
    _edit(acme / "errata/acme.yaml", "name: WORKAROUND_ACME_42", "name: WORKAROUND_843419")
    result = run_cli("validate", "--overlay", str(acme))
    assert result.code == 1
    assert "name 'WORKAROUND_843419' is already used by the erratum at errata-db/errata/arm.yaml:" in result.err


def test_overlay_cannot_redefine_an_upstream_cpu(acme):
    _edit(acme / "cpus.yaml", "id: acme-roadrunner", "id: cortex-a53")
    result = run_cli("validate", "--overlay", str(acme))
    assert result.code == 1 and "redefines upstream CPU 'cortex-a53'" in result.err


OTHER_OVERLAY = """\
format: 1
owner: other
range: private
first: {first}
last: 207
"""
OTHER_ERRATA = """\
errata:
  - name: WORKAROUND_OTHER_1
    bit: {bit}
    vendor: Other
    errata_ids: ["1"]
    description: Another distro's erratum, on an upstream CPU.
    guest: needed
    impact: corruption
    impact_note: A test entry.
    kconfig: []
    affects:
      - cpu: cortex-a53
        revisions: r0p0
    status: active
"""


def _other(tmp_path: Path, first: int, bit: int) -> Path:
    other = tmp_path / "other"
    (other / "errata").mkdir(parents=True, exist_ok=True)
    (other / "overlay.yaml").write_text(OTHER_OVERLAY.format(first=first))
    (other / "errata" / "other.yaml").write_text(OTHER_ERRATA.format(bit=bit))
    (other / "bits.lock").write_text(f"{bit} active {'0' * 16} WORKAROUND_OTHER_1\n")
    return other


def test_two_overlays_used_together_may_coexist(acme, tmp_path):
    other = _other(tmp_path, 200, 200)
    (other / "bits.lock").unlink()
    assert run_cli("lock", "--overlay", str(acme), "--overlay", str(other)).code == 0
    assert run_cli("validate", "--overlay", str(acme), "--overlay", str(other)).code == 0


def test_two_overlays_on_the_same_bits_clash_and_both_places_are_named(acme, tmp_path):
    other = _other(tmp_path, 199, 192)
    result = run_cli("validate", "--overlay", str(acme), "--overlay", str(other))
    assert result.code == 1
    assert (f"{other}/overlay.yaml:4:8: error: overlay 'other' bits 199..207 clash with overlay "
            f"'acme' ({acme}/overlay.yaml, 192..199) [overlay]") in result.err
    assert (f"{other}/errata/other.yaml:3:10: error: bit 192 of 'WORKAROUND_OTHER_1' is already "
            f"given to 'WORKAROUND_ACME_42' at {acme}/errata/acme.yaml:4:10") in result.err


def test_an_overlay_has_its_own_lock(acme):
    (acme / "bits.lock").unlink()
    result = run_cli("validate", "--overlay", str(acme))
    assert result.code == 1
    assert f"{acme}/bits.lock is missing: run `errata-db lock --overlay {acme}` to create it" in result.err
    assert run_cli("lock", "--overlay", str(acme)).code == 0
    assert "WORKAROUND_ACME_42" in (acme / "bits.lock").read_text()
    assert run_cli("validate", "--overlay", str(acme)).code == 0


def test_missing_overlay_directory_is_a_usage_error(tmp_path):
    result = run_cli("validate", "--overlay", str(tmp_path / "nope"))
    assert result.code == 2 and "no such directory" in result.err


def test_next_bit_refuses_a_reserved_range():
    result = run_cli("next-bit", "--range", "reserved")
    assert result.code == 2 and "range 'reserved' is Reserved" in result.err


def test_next_bit_does_not_complain_about_a_lock_it_does_not_need(acme):
    (acme / "bits.lock").unlink()
    result = run_cli("next-bit", "--overlay", str(acme))
    assert (result.code, result.out, result.err) == (0, "193\n", "")


README_OVERLAY = """\
# yaml-language-server: $schema=https://example.org/errata-db/schema/overlay.schema.json
format: 1
owner: acme
range: private
first: 192
last: 199
"""
README_ERRATUM = """\
errata:
  - name: WORKAROUND_ACME_42
    bit: {bit}
    vendor: ACME
    errata_ids: ["42"]
    description: Roadrunner may drop a TLB invalidation that races with a context switch.
    guest: needed
    impact: corruption
    impact_note: A test entry.
    kconfig: [ACME_ERRATUM_42]
    affects:
      - cpu: cortex-a76
        revisions: r4p0
    status: active
"""


def test_the_readme_overlay_walkthrough_works_from_an_empty_directory(tmp_path):
    """docs/overlays.md, step by step, where the upstream registry is the bundled one."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "acme" / "errata").mkdir(parents=True)
    (tmp_path / "acme" / "overlay.yaml").write_text(README_OVERLAY)
    bit = run_cli("next-bit", "--overlay", "acme", cwd=tmp_path)
    assert (bit.code, bit.out) == (0, "192\n")
    (tmp_path / "acme" / "errata" / "acme.yaml").write_text(README_ERRATUM.format(bit=192))
    assert run_cli("lock", "--overlay", "acme", cwd=tmp_path).code == 0
    assert "WORKAROUND_ACME_42" in (tmp_path / "acme" / "bits.lock").read_text()
    assert run_cli("validate", "--overlay", "acme", cwd=tmp_path).code == 0
    assert run_cli("generate", "--overlay", "acme", "--out", "generated", cwd=tmp_path).code == 0
    assert "WORKAROUND_ACME_42" in (tmp_path / "generated/linux/arch/arm64/include/asm/migrn_errata.h").read_text()
    assert run_cli("generate", "--check", "--overlay", "acme", cwd=tmp_path).code == 0
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "acme"],
                   cwd=tmp_path, check=True)
    result = run_cli("stability", "--overlay", "acme", "--against", "HEAD", cwd=tmp_path)
    assert result.code == 0 and "not tracked by this repository: compared as unchanged" in result.err


def test_lock_under_an_overlay_never_writes_the_bundled_upstream_lock(tmp_path, monkeypatch):
    import errata_db.locate

    bundled = tmp_path / "bundled"
    shutil.copytree(REGISTRY, bundled)
    lock = bundled / "bits.lock"
    lock.write_text("".join(x for x in lock.read_text().splitlines(keepends=True) if not x.startswith("32 ")))
    monkeypatch.setattr(errata_db.locate, "bundled_registry", lambda: bundled)
    work = tmp_path / "work"
    shutil.copytree(ACME, work / "acme")
    before = lock.read_text()
    result = run_cli("lock", "--overlay", "acme", cwd=work)
    assert result.code == 2 and "not yours to change" in result.err
    assert lock.read_text() == before


def test_a_moved_overlay_is_compared_with_where_it_was(tmp_path):
    """Moving an overlay must not turn its bits into 'new' ones and drop their lock lines."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    shutil.copytree(ACME, tmp_path / "acme")
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "acme"],
                   cwd=tmp_path, check=True)
    subprocess.run(["git", "mv", "acme", "acme2"], cwd=tmp_path, check=True)
    _edit(tmp_path / "acme2/errata/acme.yaml", "bit: 192", "bit: 193")
    _edit(tmp_path / "acme2/bits.lock", "192 active", "193 active")
    result = run_cli("stability", "--overlay", "acme2", "--against", "HEAD", cwd=tmp_path)
    assert result.code == 1 and "acme2 was at acme in HEAD" in result.err
    assert "moved from bit 192 to bit 193" in result.out


def test_a_new_overlay_is_not_mistaken_for_one_that_still_exists(tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    shutil.copytree(ACME, tmp_path / "fixtures" / "acme")
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "fixture"],
                   cwd=tmp_path, check=True)
    shutil.copytree(ACME, tmp_path / "acme")
    _edit(tmp_path / "acme/errata/acme.yaml", "bit: 192", "bit: 193")
    (tmp_path / "acme" / "bits.lock").unlink()
    assert run_cli("lock", "--overlay", "acme", cwd=tmp_path).code == 0
    result = run_cli("stability", "--overlay", "acme", "--against", "HEAD", cwd=tmp_path)
    assert result.code == 0 and "overlay acme does not exist at HEAD: its entries are new" in result.err
