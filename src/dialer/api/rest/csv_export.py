"""Campaign results as CSV, safe to open in a spreadsheet.

A cell that starts with ``= + - @``, a tab or a carriage return is read by Excel, LibreOffice
and Google Sheets as a formula (CSV injection), so such text gets a leading apostrophe. The one
exception is a ``number`` that is phone-shaped (digits, spaces, ``( ) - . /``, one leading
``+``): it cannot hold a function call, and an E.164 number must reach other programs intact.
Values we generate (codes, names of codes, timestamps, booleans) never start with those.
"""

import csv
import io
import re
from collections.abc import Iterable, Iterator

from dialer.domain.attempt import AttemptResult
from dialer.services.results import RESULT_FIELDS, result_fields, sms_cell

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PHONE_SHAPED = re.compile(r"\+?[0-9 ().\-/]*")


def protect(value: str) -> str:
    """The text as a spreadsheet shows it, never run as a formula."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _cell(field: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if field == "number" and _PHONE_SHAPED.fullmatch(text):
        return text
    return protect(text)


def csv_chunks(pages: Iterable[list[AttemptResult]]) -> Iterator[bytes]:
    """The header row, then one chunk of UTF-8 CSV per page of results (RFC 4180, CRLF)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(RESULT_FIELDS)
    for page in pages:
        for result in page:
            row = result_fields(result)
            row["sms"] = sms_cell(row["sms"])  # type: ignore[arg-type]
            writer.writerow([_cell(f, row.get(f)) for f in RESULT_FIELDS])
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    # Also the header-only answer of a campaign with no attempts yet.
    if buffer.tell():
        yield buffer.getvalue().encode()
