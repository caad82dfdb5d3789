"""The JSON log formatter: one object per line, the attempt's ids, nothing secret."""

import io
import json
import logging
from collections.abc import Iterator

import pytest

from dialer.cli.logs import JsonFormatter
from dialer.cli.redaction import RedactingFilter
from dialer.engine.log_context import ContextFilter, ids

KEY = "dk_live_abcdefghijklmnop"


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.json_logs")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield logger, out
    logger.removeHandler(handler)


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_line_about_an_attempt_carries_its_ids(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = logged
    logger.warning("call %s not placed", 12, extra=ids(3, 12, 2))
    logger.info("no attempt here")
    about, plain = lines(out)
    assert (about["campaign"], about["destination"], about["attempt"]) == (3, 12, 2)
    assert about["message"] == "call 12 not placed"
    assert about["level"] == "warning"
    assert str(about["time"]).endswith("+00:00")
    assert "campaign" not in plain


def test_keys_are_redacted_in_messages_arguments_and_tracebacks(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = logged
    try:
        raise ValueError(f"bad key {KEY}")
    except ValueError:
        logger.exception("GET %s", f"/ForwardDialer/Dialer/AddCall?Code={KEY}&Target=1")
    (line,) = lines(out)
    assert KEY not in out.getvalue()
    assert "Code=[redacted]" in str(line["message"])
    assert "ValueError: bad key dk_[redacted]" in str(line["exception"])


def test_the_formatter_redacts_even_without_the_filter() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "key %s", (KEY,), None)
    assert KEY not in JsonFormatter().format(record)
