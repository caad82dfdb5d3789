"""Texts through the SMPP provider to the test SMSC: encodings, senders, long texts split into
concatenated parts and joined back exactly by the server."""

from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.domain.sms import SubmitStatus
from dialer.telephony.smpp import text
from tests.integration.smpp_support import Rig, run, sms


def test_a_gsm_text_goes_as_one_gsm_part_from_an_international_number() -> None:
    message = sms(1, "Your delivery arrives at 10:00 today. Reply STOP to opt out.")

    async def scenario(rig: Rig) -> None:
        result = await rig.provider.submit(message)
        assert result.status is SubmitStatus.ACCEPTED
        assert result.parts == 1
        [received] = rig.server.messages
        assert received.text == message.text
        assert received.data_coding == text.DATA_CODING_GSM
        assert (received.source, received.source_ton) == ("442071838750", 1)
        assert received.destination == "447700900101"
        assert result.provider_ids == tuple(received.message_ids)
        assert rig.server.parts[0].registered_delivery == 1

    run(scenario)


def test_gsm_extension_characters_stay_gsm_and_count_two() -> None:
    extended = "Price: 5€ [promo] {code} ~x|y^z \\ end"
    # 159 plain characters and a euro sign are 161 septets: two parts, not one
    boundary = "a" * 159 + "€"

    async def scenario(rig: Rig) -> None:
        first = await rig.provider.submit(sms(1, extended))
        second = await rig.provider.submit(sms(2, boundary))
        assert (first.status, first.parts) == (SubmitStatus.ACCEPTED, 1)
        assert (second.status, second.parts) == (SubmitStatus.ACCEPTED, 2)
        assert [m.text for m in rig.server.messages] == [extended, boundary]
        assert {m.data_coding for m in rig.server.messages} == {text.DATA_CODING_GSM}

    run(scenario)


def test_greek_and_emoji_go_as_ucs2() -> None:
    greek = "Γειά σου, το ραντεβού σας είναι αύριο"
    emoji = "See you soon 👋🏽 — the team"

    async def scenario(rig: Rig) -> None:
        for number, words in enumerate((greek, emoji), start=1):
            result = await rig.provider.submit(sms(number, words))
            assert (result.status, result.parts) == (SubmitStatus.ACCEPTED, 1)
        assert [m.text for m in rig.server.messages] == [greek, emoji]
        assert {m.data_coding for m in rig.server.messages} == {text.DATA_CODING_UCS2}

    run(scenario)


def test_a_long_gsm_text_is_split_at_153_septets_without_cutting_an_escape_pair() -> None:
    # the euro sign's escape pair would be septets 153-154: it starts part two instead
    long = "b" * 152 + "€" + "The rest of a long reminder, [with brackets]. " * 5

    async def scenario(rig: Rig) -> None:
        result = await rig.provider.submit(sms(1, long))
        assert result.status is SubmitStatus.ACCEPTED
        assert result.parts == 3 == len(result.provider_ids)
        [received] = rig.server.messages
        assert received.text == long
        parts = rig.server.parts
        assert parts[0].text == "b" * 152
        assert parts[1].text.startswith("€The rest")
        assert all(p.esm_class & text.ESM_CLASS_UDHI for p in parts)
        assert [p.concatenation.index for p in parts if p.concatenation] == [1, 2, 3]
        assert all(len(text.gsm_encode(p.text)) <= text.GSM_PART for p in parts)

    run(scenario)


def test_a_long_ucs2_text_is_split_at_67_units_without_cutting_a_surrogate_pair() -> None:
    # the emoji is two UTF-16 units, which would be units 67-68: it starts part two
    long = "Ω" * 66 + "🙂" + "Καλημέρα, αυτό είναι ένα μεγάλο μήνυμα. " * 3

    async def scenario(rig: Rig) -> None:
        result = await rig.provider.submit(sms(1, long))
        assert result.status is SubmitStatus.ACCEPTED
        [received] = rig.server.messages
        assert received.text == long
        assert received.data_coding == text.DATA_CODING_UCS2
        parts = rig.server.parts
        assert result.parts == len(parts) == 3
        assert parts[0].text == "Ω" * 66
        assert parts[1].text.startswith("🙂")
        assert all(len(p.text.encode("utf-16-be")) <= 2 * text.UCS2_PART for p in parts)

    run(scenario)


def test_a_resent_long_text_keeps_its_concatenation_reference() -> None:
    long = "x" * 200

    async def scenario(rig: Rig) -> None:
        await rig.provider.submit(sms(1, long))
        await rig.provider.submit(sms(1, long))  # the outbox resending the same message
        references = {p.concatenation.reference for p in rig.server.parts if p.concatenation}
        assert len(references) == 1

    run(scenario)


def test_an_alphanumeric_sender_goes_as_ton_5_and_a_too_long_one_fails() -> None:
    async def scenario(rig: Rig) -> None:
        accepted = await rig.provider.submit(sms(1, "Hello", sender="DrSmith"))
        refused = await rig.provider.submit(sms(2, "Hello", sender="TheDentalClinic"))
        assert accepted.status is SubmitStatus.ACCEPTED
        assert (rig.server.parts[0].source, rig.server.parts[0].source_ton) == ("DrSmith", 5)
        assert refused.status is SubmitStatus.FAILED
        assert "1-11" in refused.reason
        assert len(rig.server.parts) == 1

    run(scenario)


def test_a_refusal_other_than_throttling_fails_with_the_status_name() -> None:
    async def scenario(rig: Rig) -> None:
        rig.server.throttle_next(1, status=0x0B)  # ESME_RINVDSTADR
        result = await rig.provider.submit(sms(1, "Hello"))
        assert result.status is SubmitStatus.FAILED
        assert result.reason == "ESME_RINVDSTADR (0x0b)"

    run(scenario)


# GSM basic and extension characters (Greek capitals are GSM too), then characters that make a
# text UCS-2, BMP and beyond it (surrogate pairs; "🏽" is a skin-tone modifier)
_ALPHABET = st.sampled_from([*"aZ0 @£€[]{}^~|\\\nΩΔ", "Ж", "中", "🙂", "👍", "🏽", "é"])


@settings(max_examples=300, deadline=None)
@given(st.text(_ALPHABET, max_size=700))
def test_any_text_splits_into_parts_that_join_back_within_the_limits(words: str) -> None:
    parts = text.split(words, "msg-1")
    assert "".join(p.text for p in parts) == words
    decoded = []
    for part in parts:
        body, concatenation = text.strip_udh(part.short_message, part.esm_class)
        decoded.append(text.decode(body, part.data_coding))
        if len(parts) == 1:
            assert concatenation is None
            limit = text.GSM_SINGLE if part.data_coding == 0 else 2 * text.UCS2_SINGLE
        else:
            assert concatenation is not None
            assert (concatenation.total, concatenation.index) == (len(parts), parts.index(part) + 1)
            limit = text.GSM_PART if part.data_coding == 0 else 2 * text.UCS2_PART
        assert len(body) <= limit
    assert "".join(decoded) == words  # no escape or surrogate pair was cut
    assert {p.data_coding for p in parts} == {
        text.DATA_CODING_GSM if text.is_gsm(words) else text.DATA_CODING_UCS2
    }
