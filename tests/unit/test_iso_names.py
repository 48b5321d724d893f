"""Name mapping: lossless UDF text, UDF/ISO 9660/Joliet limits, uniqueness."""

from __future__ import annotations

from odarchive.iso import names


def test_udf_text_is_lossless_for_non_utf8() -> None:
    raw = b"caf\xe9-\xff\xfe-ok-\xc3\xa9"
    text = names.udf_text(raw)
    assert text == "caf\uf7e9-\uf7ff\uf7fe-ok-é"
    assert names.raw_from_udf_text(text) == raw


def test_long_udf_names_are_shortened_uniquely_and_fit() -> None:
    taken: set[str] = set()
    a = names.udf_name(b"a" * 255, taken)
    b = names.udf_name(b"a" * 254 + b"b", taken)
    assert a != b and names.udf_fits(a) and names.udf_fits(b)
    cjk = "中" * 85  # 255 UTF-8 bytes, 85 UTF-16 units: fits UDF unchanged
    assert names.udf_name(cjk.encode(), taken) == cjk


def test_iso_and_joliet_names_obey_their_limits() -> None:
    iso_taken: set[str] = set()
    jol_taken: set[str] = set()
    for raw in ["Über café.tar.gz", "x" * 200 + ".jpeg", "a;b*c?.txt", "a;b*c?.txt ", "noext"]:
        iso = names.iso_file_name(raw, iso_taken)
        stem_ext = iso[:-2]
        assert iso.endswith(";1") and len(stem_ext) <= 31
        assert set(stem_ext) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")
        jol = names.joliet_name(raw, jol_taken)
        assert len(jol.encode()) <= 64 and not set(jol) & set("*/:;?\\")
    assert len(iso_taken) == 5 and len(jol_taken) == 5
    assert names.iso_dir_name("a.b", set()) == "A_B"
