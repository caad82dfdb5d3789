"""Keeps credentials out of every log line the service writes.

The Dialer API takes a tenant's API key (``Code``) and a campaign's code (``Campaign``, itself a
credential) in the query string, so uvicorn's access log (``--access-log``) wrote both for every
request. A filter on each handler rewrites what it is about to write: ``Code=`` and
``Campaign=`` parameters (any case, as the API reads them), the same names as JSON properties,
``Authorization`` values, bearer tokens, passwords in URLs and anything shaped like an API key
(``dk_...``) or an agent's token (``agt_...``), in the message, its arguments and any traceback.
"""

import logging
import re
from typing import Any

REDACTED = "[redacted]"

_PATTERNS = (
    # Code=..., campaign=... in a query string or form (up to the next separator).
    (re.compile(r"(?i)(?<![A-Za-z0-9_])(code|campaign)=[^&\s\"'#]*"), rf"\1={REDACTED}"),
    # "Code": "..." in JSON.
    (re.compile(r"(?i)(\"(?:code|campaign)\"\s*:\s*)\"(?:[^\"\\]|\\.)*\""), rf'\1"{REDACTED}"'),
    # Authorization: Bearer ..., authorization=..., ('authorization', '...').
    (
        re.compile(
            r"(?i)(authorization['\"]?\s*[:=,]\s*['\"]?)(?:(?:bearer|basic)\s+)?[^\s'\",;]+"
        ),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"(?i)\b(bearer\s+)[^\s'\",;]+"), rf"\1{REDACTED}"),
    # A password in a URL: postgresql://user:secret@host/db.
    (re.compile(r"(://[^:/@\s]+:)[^@\s/]+@"), rf"\1{REDACTED}@"),
    # An API key wherever else it turns up.
    (re.compile(r"\bdk_[A-Za-z0-9_\-]+"), f"dk_{REDACTED}"),
    # An agent's desk token likewise.
    (re.compile(r"\bagt_[A-Za-z0-9_\-]+"), f"agt_{REDACTED}"),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactingFilter(logging.Filter):
    """Rewrites records in place; the structure of ``args`` is kept, as uvicorn's access
    formatter unpacks them."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            redacted = redact(record.msg)
            if redacted != record.msg and record.args:
                # The template itself names a credential ("Code=%s"): redacting it alone would
                # take the placeholder too, and the line would no longer format. Format first.
                record.msg, record.args = redact(record.getMessage()), None
            else:
                record.msg = redacted
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_value(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redact_value(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_FILTER = RedactingFilter()


def install() -> None:
    """Put the filter on every handler logging has now (call after logging is configured:
    uvicorn's Config sets up its handlers), and on the last-resort handler."""
    loggers = [logging.getLogger()]
    loggers += [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    handlers = {id(h): h for logger in loggers for h in logger.handlers}
    if logging.lastResort is not None:
        handlers[id(logging.lastResort)] = logging.lastResort
    for handler in handlers.values():
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
