"""Importing a do-not-call file of any size: what spreadsheets and CRMs export, read a line at
a time and written in batches, so neither memory nor one transaction grows with the file.

The file: one number per line, or CSV whose first column is the number. Blank lines and lines
starting with ``#`` are skipped; a UTF-8 byte-order mark is dropped; a first line that is not a
number but has letters in it (``number,name``) is taken as a header and skipped. Lines are
numbered from 1, as an editor shows them.
"""

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from dialer.domain.errors import ValidationFailed
from dialer.domain.tenant import Tenant
from dialer.ports import Clock
from dialer.ports.store import DncSession, UnitOfWork
from dialer.services.numbers import looks_like_number, to_e164

BATCH = 5_000  # numbers per transaction: short enough that the engine never waits long
SHOWN = 20  # bad lines named in a report; the rest are counted
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True, slots=True)
class FileLine:
    line: int  # 1-based
    text: str  # the number column, as written


@dataclass(frozen=True, slots=True)
class BadLine:
    line: int
    text: str

    def describe(self) -> str:
        return f"line {self.line}: {self.text[:50]!r} is not a possible phone number"


@dataclass(slots=True)
class ImportReport:
    added: int = 0
    already_listed: int = 0
    header: str | None = None  # the header line skipped, if there was one
    skipped: int = 0  # invalid lines left out (only with skip_invalid)
    skipped_lines: list[BadLine] = field(default_factory=list)  # the first SHOWN of them


def file_lines(lines: Iterable[str]) -> Iterator[FileLine | str]:
    """The number column of each line that holds one; a header comes out as a plain str."""
    first = True
    for number, raw in enumerate(lines, start=1):
        if number == 1:
            raw = raw.removeprefix("\ufeff")
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        column = text.split(",", 1)[0].strip().strip('"').strip()
        if first:
            first = False
            if not looks_like_number(column) and _LETTER.search(column):
                yield text
                continue
        yield FileLine(number, column)


class DncImporter:
    def __init__(self, store: UnitOfWork[DncSession], clock: Clock, batch: int = BATCH) -> None:
        self._store = store
        self._clock = clock
        self._batch = batch

    def check(self, tenant: Tenant, lines: Iterable[str]) -> int:
        """The first pass of an import that refuses bad files: how many numbers the file
        holds, or ValidationFailed naming the bad lines (the first SHOWN, then a count)."""
        count, bad = 0, 0
        shown: list[BadLine] = []
        for entry in file_lines(lines):
            if isinstance(entry, str):
                continue
            count += 1
            if _e164(entry.text, tenant.region) is None:
                bad += 1
                if len(shown) < SHOWN:
                    shown.append(BadLine(entry.line, entry.text))
        if bad:
            problems = [b.describe() for b in shown]
            if bad > len(shown):
                problems.append(f"and {bad - len(shown)} more lines")
            raise ValidationFailed({"file": problems})
        return count

    def run(
        self,
        tenant: Tenant,
        lines: Iterable[str],
        *,
        skip_invalid: bool,
        progress: Callable[[int], None] = lambda lines: None,
    ) -> ImportReport:
        """Add every number, a batch per transaction; ``progress`` hears of each line read.

        Without ``skip_invalid`` the caller runs ``check`` first, so a bad line met here is a
        file that changed in between: refused, with what was written so far kept (adding to the
        list is idempotent, so running the import again is safe)."""
        report = ImportReport()
        batch: list[str] = []
        for entry in file_lines(lines):
            if isinstance(entry, str):
                report.header = entry
                continue
            progress(entry.line)
            e164 = _e164(entry.text, tenant.region)
            if e164 is None:
                if not skip_invalid:
                    raise ValidationFailed({"file": [BadLine(entry.line, entry.text).describe()]})
                report.skipped += 1
                if len(report.skipped_lines) < SHOWN:
                    report.skipped_lines.append(BadLine(entry.line, entry.text))
                continue
            batch.append(e164)
            if len(batch) >= self._batch:
                self._write(tenant, batch, report)
                batch = []
        self._write(tenant, batch, report)
        return report

    def _write(self, tenant: Tenant, numbers: list[str], report: ImportReport) -> None:
        if not numbers:
            return
        with self._store.write() as session:
            added = session.dnc.add_dnc(tenant.id, numbers, self._clock.now())
        report.added += added
        report.already_listed += len(numbers) - added


def _e164(text: str, region: str) -> str | None:
    return to_e164(text, region) if looks_like_number(text) else None
