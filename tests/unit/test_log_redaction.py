"""What the log filter takes out of a record: the Dialer API's credentials in every form."""

import logging
import sys

from dialer.cli.redaction import RedactingFilter, redact

KEY = "dk_3vQ9xYz-Abc_123"
CODE = "ezgeJNtDPxm1fkoJWH4lQtXl0JJCaOub"


def test_query_strings_json_headers_and_urls_are_redacted() -> None:
    cases = {
        f"GET /ForwardDialer/Dialer/AddCall?Campaign={CODE}&Target=1&Code={KEY}": (
            "GET /ForwardDialer/Dialer/AddCall?Campaign=[redacted]&Target=1&Code=[redacted]"
        ),
        f"/x?campaign={CODE}&code={KEY}#f": "/x?campaign=[redacted]&code=[redacted]#f",
        f'{{"Campaign": "{CODE}", "CODE":"{KEY}", "Target": "07700900322"}}': (
            '{"Campaign": "[redacted]", "CODE":"[redacted]", "Target": "07700900322"}'
        ),
        f"Authorization: Bearer {KEY}": "Authorization: [redacted]",
        "headers=[('authorization', 'Basic dXNlcjpwYXNz')]": (
            "headers=[('authorization', '[redacted]')]"
        ),
        f"sent bearer {CODE}": "sent bearer [redacted]",
        f"tenant key {KEY} refused": "tenant key dk_[redacted] refused",
        "agent token agt_Zq9-x_Y2 revoked": "agent token agt_[redacted] revoked",
        "store postgresql://dialer:s3cret@db:5432/dialer": (
            "store postgresql://dialer:[redacted]@db:5432/dialer"
        ),
    }
    for text, expected in cases.items():
        assert redact(text) == expected
    # Other parameters that merely end in the names, and plain text, are left alone.
    assert redact("var_code=7&Postcode=AB1&TargetCode") == "var_code=7&Postcode=AB1&TargetCode"


def test_records_keep_their_shape_and_lose_their_secrets() -> None:
    access = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/ForwardDialer/Dialer/GetCampaignList?Code={KEY}", "1.1", 200),
        None,
    )
    assert RedactingFilter().filter(access)
    assert access.getMessage() == (
        '127.0.0.1:5000 - "GET /ForwardDialer/Dialer/GetCampaignList?Code=[redacted] HTTP/1.1" 200'
    )
    try:
        raise ValueError(f"no campaign {CODE} for Authorization: Bearer {KEY}")
    except ValueError:
        failed = logging.LogRecord(
            "dialer.api", logging.ERROR, __file__, 1, "failed: %s", (KEY,), sys.exc_info()
        )
    assert RedactingFilter().filter(failed)
    written = logging.Formatter().format(failed)
    assert KEY not in written
    assert "Authorization: [redacted]" in written
    assert "failed: dk_[redacted]" in written


def test_a_template_that_names_a_credential_still_formats() -> None:
    # "Code=%s" redacted as a template would lose its placeholder ("not all arguments converted").
    record = logging.LogRecord(
        "dialer.api", logging.INFO, __file__, 1, "asked Campaign=%s&n=%d", (CODE, 5), None
    )
    assert RedactingFilter().filter(record)
    assert record.getMessage() == "asked Campaign=[redacted]&n=5"
