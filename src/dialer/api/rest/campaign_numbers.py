"""A campaign's numbers: GET a page of them (filtered, searched), POST more of them as JSON or
CSV (docs/rest-api.md, A campaign's numbers)."""

import tempfile
from typing import IO, Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dialer.api.auth import current_tenant
from dialer.api.body import UnsupportedMediaType, read_json
from dialer.api.console_schemas import NumbersPageOut, UploadReportOut
from dialer.api.responses import JsonResponse
from dialer.api.rest.campaigns import _campaign_id
from dialer.api.rest.presenters import number_json
from dialer.api.schemas import Problem
from dialer.domain.errors import PayloadTooLarge, ValidationFailed
from dialer.domain.number_page import NumberRow
from dialer.domain.tenant import Tenant
from dialer.services.number_pages import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_PAGE,
    NumberPages,
    read_filter,
)
from dialer.services.number_upload import (
    MAX_UPLOAD_BYTES,
    NumberUploads,
    UploadReport,
    csv_lines,
    json_lines,
    refuse_too_many_lines,
)
from dialer.services.results import iso_utc

router = APIRouter(prefix="/api/campaign/voice", tags=["voice campaigns"])
TenantDep = Annotated[Tenant, Depends(current_tenant)]
_MAX_ID = 2**63 - 1
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem},
    401: {"model": Problem, "description": "Missing or unknown API key"},
    404: {"model": Problem},
}


def _pages(request: Request) -> NumberPages:
    service: NumberPages = request.app.state.number_pages
    return service


def row_json(row: NumberRow) -> dict[str, Any]:
    out = number_json(row.stored)
    out["final"] = row.final
    out["nextAttemptAt"] = None if row.next_attempt_at is None else iso_utc(row.next_attempt_at)
    return out


@router.get("/{campaign_id}/numbers", responses={200: {"model": NumbersPageOut}, **_ERRORS})
async def campaign_numbers(
    request: Request,
    campaign_id: str,
    tenant: TenantDep,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"numbers per page, default {DEFAULT_LIMIT}")
    ] = DEFAULT_LIMIT,
    after: Annotated[
        int | None,
        Query(ge=0, le=_MAX_ID, description="the `next` of the previous page; omit to start"),
    ] = None,
    page: Annotated[
        int | None,
        Query(ge=1, le=MAX_PAGE, description="page N (1-based), instead of after"),
    ] = None,
    q: Annotated[
        str | None,
        Query(description="a number's start (`07700 9`, `+44770`) or part of a name"),
    ] = None,
    outcome: Annotated[
        str | None, Query(description="last outcome, by name (`Busy`) or code")
    ] = None,
    stage: Annotated[str | None, Query(description="last stage, by name or code")] = None,
    state: Annotated[
        str | None, Query(description="`final` (never dialled again) or `pending`")
    ] = None,
) -> Response:
    """A page of the campaign's numbers in the order they were added, each with its attempts,
    last outcome and stage, next attempt time and whether it is final."""
    target = _campaign_id(campaign_id)
    if after is not None and page is not None:
        raise ValidationFailed({"query.page": ["Give after or page, not both."]})
    where = read_filter(tenant, q, outcome, stage, state)
    result = await run_in_threadpool(
        lambda: _pages(request).page(
            tenant, target, where, after=after or 0, page=page, limit=limit
        )
    )
    headers = {}
    if result.next_after is not None:
        query = request.query_params.multi_items()
        kept = [(k, v) for k, v in query if k not in ("after", "page")]
        kept.append(("after", str(result.next_after)))
        headers["Link"] = f'</api/campaign/voice/{target}/numbers?{urlencode(kept)}>; rel="next"'
    return JsonResponse(
        {
            "numbers": [row_json(r) for r in result.rows],
            "next": result.next_after,
            "limit": limit,
            "page": page,
        },
        headers=headers,
    )


def _uploads(request: Request) -> NumberUploads:
    service: NumberUploads = request.app.state.number_uploads
    return service


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {
                "schema": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "number": {"type": "string"},
                            "name": {"type": "string"},
                            "parameters": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "parameter": {"type": "integer"},
                                        "value": {"type": "string"},
                                    },
                                },
                            },
                        },
                    },
                }
            },
        },
    }
}


async def _spool(request: Request, spool: IO[bytes]) -> None:
    """Copy the body into ``spool`` (a file that spills to disk), refused past MAX_UPLOAD_BYTES."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"the body is {int(declared)} bytes; the limit is {MAX_UPLOAD_BYTES}")
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise PayloadTooLarge(f"the body is over the limit of {MAX_UPLOAD_BYTES} bytes")
        spool.write(chunk)
    spool.seek(0)


def report_json(report: UploadReport, key: str) -> dict[str, Any]:
    return {
        "added": report.added,
        "duplicates": report.duplicates,
        "rejected": [{key: r.where, "reason": r.reason} for r in report.rejected],
        "rejectedCount": report.rejected_count,
    }


@router.post(
    "/{campaign_id}/numbers",
    openapi_extra=_UPLOAD_BODY,
    responses={
        200: {"model": UploadReportOut},
        **_ERRORS,
        413: {"model": Problem},
        415: {"model": Problem},
    },
)
async def add_numbers(
    request: Request,
    campaign_id: str,
    tenant: TenantDep,
    columns: Annotated[
        str | None,
        Query(
            max_length=500,
            description="CSV: each column's role in order (number, name, p1..p9, - to skip),"
            " instead of the header's names",
        ),
    ] = None,
) -> Response:
    """Add numbers to the campaign: the good lines are added, duplicates skipped, bad lines
    reported by line (CSV, the header is line 1) or index (JSON). At most 100,000 lines and
    20 MiB per request (413 beyond)."""
    target = _campaign_id(campaign_id)
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    service = _uploads(request)
    if media == "text/csv":
        # Unknown campaigns answer 404 before a big body is read.
        await run_in_threadpool(service.exists, tenant, target)
        with tempfile.SpooledTemporaryFile(1024 * 1024) as spool:
            await _spool(request, spool)
            await run_in_threadpool(refuse_too_many_lines, spool)
            report = await run_in_threadpool(
                lambda: service.add(tenant, target, csv_lines(spool, columns))
            )
        return JsonResponse(report_json(report, "line"))
    if media in ("", "application/json"):
        if columns is not None:
            raise ValidationFailed({"query.columns": ["columns maps CSV columns only."]})
        body = await read_json(request, MAX_UPLOAD_BYTES, refuse_controls=False)
        report = await run_in_threadpool(lambda: service.add(tenant, target, json_lines(body)))
        return JsonResponse(report_json(report, "index"))
    raise UnsupportedMediaType(f"send text/csv or application/json, not {media[:60]}")
