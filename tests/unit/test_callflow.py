from dialer.domain.callflow import Template, parse_callflow


def test_a_flow_needs_message_and_sms_with_known_placeholders() -> None:
    flow, problems = parse_callflow({"message": "Hi {Name}, {Parameter9}", "sms": "{Parameter1}"})
    assert problems == {}
    assert flow is not None
    assert flow.version == 1
    _, problems = parse_callflow({"message": "Hi {Nmae}", "sms": "x {", "colour": "red"})
    assert set(problems) == {"message", "sms", "colour"}
    assert "unknown placeholder {Nmae}" in problems["message"][0]
    assert "unmatched brace" in problems["sms"][0]
    _, problems = parse_callflow({"message": "a"})
    assert problems == {"sms": ["is required and must be text"]}
    assert parse_callflow(["not", "a", "mapping"])[1] == {
        "$": ["A call flow must be a mapping with at least 'message' and 'sms'."]
    }
    assert parse_callflow({"version": 3, "message": "a", "sms": "b"})[1] == {
        "version": ["unsupported version 3; supported: 1, 2"]
    }
    # Version 2 is a graph of nodes: version 1's keys are not part of it.
    assert {"message", "nodes", "answerphone"} <= set(
        parse_callflow({"version": 2, "message": "a", "sms": "b"})[1]
    )


def test_templates_render_each_numbers_details() -> None:
    template = Template("Hello {Name}, you owe {Parameter1} {{GBP}} by {Parameter2}.")
    assert template.render("Ben", {1: "12.50"}) == "Hello Ben, you owe 12.50 {GBP} by ."
    assert Template("{Name}").render(None, {}) == ""
