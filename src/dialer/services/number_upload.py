"""Adding numbers to an existing campaign, from a CSV file or a JSON array (docs/rest-api.md,
Adding numbers to a campaign).

The good lines are added and the bad ones reported, each by its line (CSV) or index (JSON) and
reason; a request that is wrong as a whole (not UTF-8, no number column, past a limit) changes
nothing. The file is read from a spooled copy of the body, one line at a time, and the lines
that pass are spooled again (with their E.164 form) until one write transaction adds them: the
whole upload lands or none of it does, and no transaction waits on the client's network.
A duplicate, skipped and counted, is a number the campaign has already (same E.164 form) or one
given earlier in the same upload.
"""

import csv
import io
import itertools
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

import orjson

from dialer.domain.campaign import PhoneNumber
from dialer.domain.errors import NotFound, PayloadTooLarge, ValidationFailed
from dialer.domain.ids import CampaignId
from dialer.domain.tenant import Tenant
from dialer.ports import Clock, NumberNormaliser, Store
from dialer.services.campaigns import refuse_closed_schedule
from dialer.services.number_rows import IGNORED, NumberLine, Rejected, column_role, json_item, judge

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UPLOAD_LINES = 100_000
MAX_REPORTED = 1_000  # rejected lines listed in an answer; rejectedCount counts them all
_BATCH = 5_000
_T = TypeVar("_T")


@dataclass(slots=True)
class UploadReport:
    added: int = 0
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    rejected_count: int = 0

    def reject(self, item: Rejected) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_REPORTED:
            self.rejected.append(item)


def _batched(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _layout(header: list[str], columns: str | None) -> list[str | None]:
    """Each column's role (number, name, p1..p9, None: ignored), from ``columns`` if given
    (by position), else from the header's names."""
    names = header if columns is None else columns.split(",")
    field_name = "query.columns" if columns is not None else "header"
    roles: list[str | None] = []
    problems: list[str] = []
    for name in names:
        role = None if name.strip() in IGNORED else column_role(name)
        if role is None and columns is not None and name.strip() not in IGNORED:
            problems.append(
                f"{name.strip()[:40]!r} is not a column: use number, name, p1 to p9, or - to skip"
            )
        elif role is not None and role.startswith("!"):
            problems.append(role[1:])
            role = None
        elif role is not None and role in roles:
            problems.append(f"{role} is given by two columns")
        roles.append(role)
    if "number" not in roles:
        problems.append(
            "no number column: name one number (or phone) in the header, or map the columns"
            " with ?columns=number,name,p1,..."
        )
    if problems:
        raise ValidationFailed({field_name: problems})
    return roles


def refuse_too_many_lines(body: IO[bytes]) -> None:
    """A 413 for a file of more than MAX_UPLOAD_LINES lines after its header, counted before
    any line is read (quoted line breaks count too), so nothing is parsed in vain."""
    lines = 0
    last = b"\n"
    while chunk := body.read(1024 * 1024):
        lines += chunk.count(b"\n")
        last = chunk[-1:]
    body.seek(0)
    lines += last != b"\n"  # a last line without its line break
    if lines - 1 > MAX_UPLOAD_LINES:
        raise PayloadTooLarge(f"more than {MAX_UPLOAD_LINES:,} lines; send them in parts")


def csv_lines(body: IO[bytes], columns: str | None) -> Iterator[NumberLine | Rejected]:
    """The lines of a CSV body (UTF-8, with or without BOM; ``,`` or ``;``, whichever the
    header has more of), after its header row, judged one by one."""
    text = io.TextIOWrapper(body, encoding="utf-8-sig", errors="strict", newline="")
    try:
        header_line = text.readline()
        if not header_line.strip():
            raise ValidationFailed({"$": ["The file is empty: a header row is needed."]})
        delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
        reader = csv.reader(itertools.chain([header_line], text), delimiter=delimiter)
        header = next(reader)
        roles = _layout(header, columns)
        # A mapping of fewer columns than the header leaves the rest ignored, not extra.
        width = max(len(header), len(roles))
        count = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Rejected(reader.line_num, f"not a CSV line: {exc}")
                continue
            if not any(cell.strip() for cell in row):
                continue  # blank lines are nobody
            count += 1
            if count > MAX_UPLOAD_LINES:
                raise PayloadTooLarge(f"more than {MAX_UPLOAD_LINES:,} lines; send them in parts")
            if len(row) > width and any(cell.strip() for cell in row[width:]):
                yield Rejected(reader.line_num, f"{len(row)} fields where the header has {width}")
                continue
            values: dict[str, str] = {}
            for role, cell in zip(roles, row, strict=False):
                if role is not None:
                    values[role] = cell
            name = values.get("name")
            params = [(int(k[1:]), v.strip()) for k, v in values.items() if k.startswith("p")]
            yield judge(reader.line_num, values.get("number"), name, params)
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            {"$": [f"The file is not UTF-8 text (byte {exc.start} of a block is not)."]}
        ) from None
    finally:
        text.detach()


def json_lines(body: Any) -> Iterator[NumberLine | Rejected]:
    """An array of the seed's phone-number objects, or an object with one as phoneNumbers."""
    items = body
    if isinstance(body, dict):
        items = next((v for k, v in body.items() if k.lower() == "phonenumbers"), None)
    if not isinstance(items, list):
        raise ValidationFailed(
            {
                "$": [
                    "Send an array of {number, name, parameters} objects, or {phoneNumbers: [...]}."
                ]
            }
        )
    if len(items) > MAX_UPLOAD_LINES:
        raise PayloadTooLarge(f"more than {MAX_UPLOAD_LINES:,} numbers; send them in parts")
    for index, item in enumerate(items):
        yield json_item(index, item)


class NumberUploads:
    def __init__(self, store: Store, normaliser: NumberNormaliser, clock: Clock) -> None:
        self._store = store
        self._normaliser = normaliser
        self._clock = clock

    def exists(self, tenant: Tenant, campaign_id: CampaignId) -> None:
        with self._store.read() as session:
            if session.campaigns.get_campaign(tenant.id, campaign_id) is None:
                raise NotFound(f"campaign {campaign_id}")

    def add(
        self, tenant: Tenant, campaign_id: CampaignId, lines: Iterable[NumberLine | Rejected]
    ) -> UploadReport:
        self.exists(tenant, campaign_id)
        report = UploadReport()
        with tempfile.TemporaryFile() as spool:
            count = self._spool(tenant, lines, spool, report)
            spool.seek(0)
            now = self._clock.now()
            with self._store.write() as session:
                campaign = session.campaigns.get_campaign(tenant.id, campaign_id, for_update=True)
                if campaign is None:
                    raise NotFound(f"campaign {campaign_id}")
                if count:
                    # As a PUT that adds numbers: none may join a campaign that can never dial.
                    refuse_closed_schedule(campaign.spec.schedule, tenant.timezone, now)
                for batch in _batched(_unspool(spool), _BATCH):
                    present = session.destinations.numbers_present(
                        campaign_id, [n.e164 for n in batch if n.e164 is not None]
                    )
                    fresh = [n for n in batch if n.e164 not in present]
                    report.duplicates += len(batch) - len(fresh)
                    # Notifies the engines (the work notify): a running campaign dials them.
                    session.destinations.add_numbers(campaign_id, fresh, now)
                    report.added += len(fresh)
        report.rejected.sort(key=lambda r: r.where)
        return report

    def _spool(
        self,
        tenant: Tenant,
        lines: Iterable[NumberLine | Rejected],
        spool: IO[bytes],
        report: UploadReport,
    ) -> int:
        """Judge every line, write the good ones' rows to ``spool``; how many were written."""
        seen: set[str] = set()
        count = 0
        for batch in _batched(lines, _BATCH):
            good = [item for item in batch if isinstance(item, NumberLine)]
            for item in batch:
                if isinstance(item, Rejected):
                    report.reject(item)
            pending = self._normaliser.start([n.raw for n in good], tenant.region)
            classified = [pair for chunk in pending.chunks() for pair in chunk]
            for line, (e164, kind) in zip(good, classified, strict=True):
                if e164 is None:
                    report.reject(
                        Rejected(line.where, f"not a possible phone number in {tenant.region}")
                    )
                elif e164 in seen:
                    report.duplicates += 1
                else:
                    seen.add(e164)
                    row = [line.raw, e164, kind, line.name, line.parameters]
                    spool.write(orjson.dumps(row) + b"\n")
                    count += 1
        return count


def _unspool(spool: IO[bytes]) -> Iterator[PhoneNumber]:
    for raw_line in spool:
        raw, e164, kind, name, params = orjson.loads(raw_line)
        parameters = tuple((int(n), str(v)) for n, v in params)
        yield PhoneNumber(raw, e164, name, parameters, number_type=kind)
