"""The one size and duration grammar: parsed and printed the same, so what a command prints
can be given back to it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odarchive.units import format_duration, format_size, parse_duration, parse_size


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("10G", 10 * 10**9),
        ("10GB", 10 * 10**9),
        ("10gb", 10 * 10**9),
        ("10GiB", 10 * 2**30),
        ("10Gi", 10 * 2**30),
        ("512k", 512_000),
        ("512KiB", 524_288),
        ("1.5M", 1_500_000),
        ("4096", 4096),
        ("64_000", 64_000),
        ("0", 0),
        ("2T", 2 * 10**12),
        ("1PiB", 2**50),
        (" 700 M ", 700_000_000),
        (4096, 4096),
    ],
)
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("bad", ["", "G", "10X", "-5", "1e3", "nan", "10 G B", "ten", True])
def test_bad_sizes_name_the_grammar(bad):
    with pytest.raises(ValueError, match="not a size"):
        parse_size(bad)


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1024, "1 KiB"),
        (1536, "1.5 KiB"),
        (10 * 2**30, "10 GiB"),
        (16 * 2**20, "16 MiB"),
        (10 * 10**9, "10 GB"),
        (25_025_314_816, "25.0 GB"),
        (1_500_000, "1.5 MB"),
        (64_000, "64 kB"),
    ],
)
def test_sizes_print_in_the_grammar(size, text):
    assert format_size(size) == text


@given(st.integers(min_value=0, max_value=2**62))
def test_a_printed_size_reads_back_within_its_last_digit(n):
    back = parse_size(format_size(n).replace(" ", ""))
    assert back == n or abs(back - n) <= 0.0501 * n


@given(
    st.integers(min_value=0, max_value=50).flatmap(
        lambda k: st.sampled_from([2**10, 2**20, 2**30, 2**40]).map(lambda unit: k * unit)
    )
)
def test_binary_sizes_read_back_exactly(n):
    assert parse_size(format_size(n).replace(" ", "")) == n


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90.0),
        ("90s", 90.0),
        ("15m", 900.0),
        ("12h", 43200.0),
        ("30d", 2592000.0),
        ("2w", 1209600.0),
        ("1h30m", 5400.0),
        ("0.5s", 0.5),
        (" 1h 30m ", 5400.0),
        (60, 60.0),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "soon", "1h30", "-5", "-1h", "nan", "inf", "5x", True])
def test_bad_durations_name_the_grammar(bad):
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(bad)


@given(st.integers(min_value=0, max_value=10**9))
def test_durations_print_in_the_grammar(seconds):
    assert parse_duration(format_duration(seconds)) == seconds
