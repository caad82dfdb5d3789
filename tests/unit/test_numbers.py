import phonenumbers

from dialer.domain.numbering import NOT_VALID
from dialer.services.numbers import (
    LocalNormaliser,
    PooledNormaliser,
    _type_code,
    classify,
    looks_like_number,
    number_type_of,
    to_e164,
)


def test_numbers_are_judged_possible_in_the_region_not_valid() -> None:
    assert to_e164("07722 123456", "GB") == "+447722123456"
    assert to_e164("+1 (212) 555-0100", "GB") == "+12125550100"
    # The Dialer API seed's own example: possible, though the allocation check rejects it.
    assert to_e164("0501234567", "IL") == "+972501234567"
    assert to_e164("0772", "GB") is None  # local-only: no trunk can route it
    assert to_e164("+999 123", "GB") is None  # no such country code
    assert to_e164("0772212345678901", "GB") is None  # too long


def test_garbage_is_told_apart_from_impossible_numbers() -> None:
    assert looks_like_number("+44 (0)7722-123.456")
    for garbage in ("call me", "0800 FLOWERS", "", "+", "12+34", "1" * 41):
        assert not looks_like_number(garbage), garbage


def test_the_process_pool_gives_the_same_answers_in_order() -> None:
    raws = [f"07722{i:06d}" for i in range(300)] + ["0772", "+12125550100"]
    pooled = PooledNormaliser(workers=2, threshold=10)
    try:
        assert pooled.normalise(raws, "GB") == LocalNormaliser().normalise(raws, "GB")
    finally:
        pooled.close()


def test_classify_keeps_possible_numbers_and_says_which_are_valid() -> None:
    assert classify("07722 123456", "GB") == ("+447722123456", 1)  # mobile
    assert classify("(212) 555-0100", "GB") == ("+442125550100", NOT_VALID)
    assert classify("0772", "GB") == (None, None)
    assert number_type_of("+442125550100") == NOT_VALID
    raws = ["07722123456", "(212) 555-0100", "0772"] * 5
    pooled = PooledNormaliser(workers=2, threshold=10)
    try:
        chunks = [c for chunk in pooled.start(raws, "GB").chunks() for c in chunk]
    finally:
        pooled.close()
    assert chunks == [c for chunk in LocalNormaliser().start(raws, "GB").chunks() for c in chunk]
    assert chunks[:3] == [classify(raw, "GB") for raw in raws[:3]]


def test_the_fast_type_judgement_agrees_with_phonenumbers_everywhere() -> None:
    """_type_code follows the pinned library's number_type step by step: check it on every
    region's example number of every type, and on each with its last digits changed."""
    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in range(11):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            for variant in (e164, e164[:-2] + "00", e164[:-3] + "999", e164 + "1"):
                parsed = phonenumbers.parse(variant)
                assert _type_code(parsed) == int(phonenumbers.number_type(parsed)), variant
                checked += 1
    assert checked > 5000
