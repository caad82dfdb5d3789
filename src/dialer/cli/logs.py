"""How serve and worker write their logs: ``--log-format text`` (the default) or ``json``.

JSON is one object per line, for log shippers: time (UTC, ISO 8601), level, logger, message,
the campaign, destination and attempt ids of engine lines about one attempt
(engine/log_context.py), and the exception's traceback if any. Credentials are redacted by the
same filter as in text (cli/redaction.py); the formatter redacts once more what it writes, so a
handler set up without the filter still never writes a key.
"""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import typer

from dialer.cli import redaction
from dialer.engine.log_context import FIELDS, ContextFilter

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(message)s"
_JSON_NAMES = {"campaign_id": "campaign", "destination_id": "destination", "attempt": "attempt"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redaction.redact(record.getMessage()),
        }
        for field in FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                line[_JSON_NAMES[field]] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = redaction.redact(record.exc_text)
        return json.dumps(line, ensure_ascii=False, default=str)


def _formatter(fmt: LogFormat) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)


def configure(fmt: LogFormat, level: str = "info") -> None:
    """Send every logger's lines to stderr in ``fmt`` (``dialer worker``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_formatter(fmt))
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    quiet_native()
    redaction.install()


def quiet_native() -> None:
    """The SIP stack's own loggers stay at info even under --log-level debug: its debug lines
    are per packet, and may quote SIP headers."""
    native = logging.getLogger("baresip")
    native.setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))


def uvicorn_config(fmt: LogFormat, level: str = "info") -> dict[str, Any] | None:
    """uvicorn's ``log_config`` for ``fmt``: None keeps its own text logs; for json, its
    loggers and the root (the engine's lines) all write JSON to stderr."""
    if fmt == "text":
        return None
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "filters": ["ids"],
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "filters": {"ids": {"()": ContextFilter}},
        "handlers": {"json": handler},
        "loggers": {
            "uvicorn": {"handlers": ["json"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": ["json"], "level": "INFO", "propagate": False},
        },
        "root": {"handlers": ["json"], "level": level.upper()},
    }


LogFormatOpt = Annotated[
    str,
    typer.Option("--log-format", help="text, or json: one object per line with the attempt's ids"),
]
LogLevelOpt = Annotated[
    str, typer.Option("--log-level", help="debug (a line per call), info, warning or error")
]
_LEVELS = ("debug", "info", "warning", "error")


def checked(fmt: str, level: str) -> tuple[LogFormat, str]:
    """The options as given, or ValueError saying what is allowed."""
    if fmt not in ("text", "json"):
        raise ValueError(f"--log-format must be text or json, not {fmt!r}")
    if level.lower() not in _LEVELS:
        raise ValueError(f"--log-level must be one of {', '.join(_LEVELS)}, not {level!r}")
    return ("json" if fmt == "json" else "text"), level.lower()
