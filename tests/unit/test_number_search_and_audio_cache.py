"""What a numbers search written as a number means, and the dry run's bounded audio cache."""

import pytest

from dialer.services.callflow_dry_run import AudioCache
from dialer.services.number_pages import number_prefix


@pytest.mark.parametrize(
    ("q", "region", "prefix"),
    [
        ("+44 7700 9", "GB", "+4477009"),
        ("447700 9", "GB", "+4477009"),
        ("07700 900", "GB", "+447700900"),
        ("(0161) 496", "GB", "+44161496"),
        ("0", "GB", "+44"),
        ("1 212 555", "US", "+1212555"),
        ("+33 6", "FR", "+336"),
        ("06 12", "FR", "+33612"),
    ],
)
def test_a_number_search_is_an_e164_prefix(q: str, region: str, prefix: str) -> None:
    assert number_prefix(q, region) == prefix


@pytest.mark.parametrize("q", ["Ann", "07700a", "+", "", "ben 0770"])
def test_anything_else_is_a_name(q: str) -> None:
    assert number_prefix(q, "GB") is None


def test_audio_is_kept_for_its_tenant_only() -> None:
    cache = AudioCache()
    cache.put("t1", 1, b"wav")
    assert cache.get("t1", 1) == b"wav"
    assert cache.get("t1", 2) is None
    assert cache.get("t2", 1) is None


def test_audio_beyond_the_bounds_goes_least_recently_used_first() -> None:
    by_count = AudioCache(max_items=2, max_bytes=1000)
    by_count.put("a", 1, b"1")
    by_count.put("b", 1, b"2")
    assert by_count.get("a", 1) == b"1"  # now the most recently used
    by_count.put("c", 1, b"3")
    assert [by_count.get(t, 1) for t in "abc"] == [b"1", None, b"3"]
    by_size = AudioCache(max_items=10, max_bytes=10)
    by_size.put("a", 1, b"x" * 6)
    by_size.put("b", 1, b"y" * 6)
    assert by_size.get("a", 1) is None
    assert by_size.get("b", 1) == b"y" * 6
