"""Fuzzing, about a minute in all on SQLite and PostgreSQL: no input gets a 500.

1. schemathesis reads /openapi.json from a live `dialer serve` and sends every operation, REST
   and the Dialer API, data that fits the document and data that does not, with a real API key
   and (half the time) a real campaign code, so requests get past authentication.
2. A property-based fuzzer (hypothesis) for the Dialer API's own forms, which the document
   cannot describe fully: any case of names, duplicated parameters, hostile text (NUL, control
   characters, Unicode digits, lone surrogates), huge numbers, wrong JSON types. Every answer is
   the seed's envelope.

Both are derandomized: the same inputs every run, so a failure is reproducible.
"""

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from dialer.api.rpc import openapi as documented
from dialer.bootstrap import build
from dialer.settings import Settings
from dialer.testing.server import serving
from tests.conftest import BACKENDS, Account

_SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def _examples(count: int) -> settings:
    return settings(parent=_SETTINGS, max_examples=count)


class Target:
    def __init__(self, base: str, account: Account, campaign_id: int, code: str) -> None:
        self.base = base
        self.account = account
        self.campaign_id = campaign_id
        self.code = code
        # What a real client sends by these names, so a request gets past authentication.
        self.real = {"campaign": code, "code": account.key}


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """A live server on a store with one tenant and one campaign."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fuzz.db'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database()
    container = build(Settings(database_url=url))
    try:
        account = Account(container, "Acme")
        body = account.campaign(startDate="2099-01-05", runoverDays=[])
        campaign = container.campaigns.create(account.tenant, body).campaign
    finally:
        container.close()
    with serving({**os.environ, "DIALER_DATABASE_URL": url}, "--no-engine") as (_, base):
        yield Target(base, account, campaign.id, campaign.code)


def _server_errors(response: httpx.Response | Any, what: str) -> list[str]:
    if response.status_code >= 500:
        return [f"{what} -> {response.status_code} {response.text[:300]}"]
    return []


def _with_real(value: Any, real: dict[str, str]) -> Any:
    """``value`` with every ``Campaign`` and ``Code`` (query or body, bulk items too) real."""
    if isinstance(value, dict):
        return {k: real.get(k.lower()) or _with_real(v, real) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_real(item, real) for item in value]
    return value


def _takes_input(operation: Any) -> bool:
    definition = operation.definition.raw
    return bool(definition.get("parameters") or definition.get("requestBody"))


def _endless(operation: Any) -> bool:
    """GET /api/events answers the tenant's key with Server-Sent Events until the client leaves,
    by design: a fuzzer reading each answer to its end would wait on it for ever. It takes no
    input, and its refusals (no key, another tenant) are tested in test_live_hub.py. The desk's
    stream stays fuzzed: the tenant's key gets its refusal at once."""
    return bool(operation.method.upper() == "GET" and operation.path == "/api/events")


def test_schemathesis_finds_no_server_error(target: Target) -> None:
    schema = schemathesis.openapi.from_url(f"{target.base}/openapi.json")
    headers = {"Authorization": f"Bearer {target.account.key}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [operation for operation in operations if not _endless(operation)]
    assert len(operations) > 40
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)

            @_examples(8)
            @given(case=strategy, real=st.booleans())
            def send(case: Any, real: bool) -> None:
                if real:
                    case.query = _with_real(case.query, target.real)
                    case.body = _with_real(case.body, target.real)
                    if "campaign_id" in (case.path_parameters or {}):
                        case.path_parameters["campaign_id"] = str(target.campaign_id)
                response = case.call(base_url=target.base, headers=headers, timeout=30)
                sent = f"{case.method} {case.formatted_path} query={case.query!r:.200}"
                failures.extend(_server_errors(response, f"{sent} body={case.body!r:.300}"))

            try:
                send()
            except Unsatisfiable:
                # An operation that takes nothing (GET /health, GET /api/time) has no invalid
                # request to make; valid ones it must always have.
                if mode is GenerationMode.POSITIVE or _takes_input(operation):
                    raise
    assert not failures, "\n".join(dict.fromkeys(failures))


# The Dialer API's own forms.

_NAMES = sorted(
    {
        "Campaign",
        "Code",
        "Target",
        "CustomerName",
        "CallerID",
        "Priority",
        "CustomData",
        "OriginateTime",
        "IsDateLocal",
        "IgnoreDncStatus",
        "Member",
        "PageSize",
        "Cursor",
        "IdempotencyKey",
        "setQueueForMonitoring",
        "setQueueMaximumCallers",
        "setCoefficient",
        "setPacing",
        "var_leadID",
    }
)
_NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x01\x1f\x7f",
    "\u200b",
    "\ufeff",
    "²",
    "٣",
    "１２",
    "--5",
    "+5",
    "-0",
    " 7 ",
    "1e3",
    "1.5",
    "NaN",
    "Infinity",
    "99999999999999999999",
    "99999999999999999999.1",
    "1.99999999999999999999",
    "-9223372036854775809",
    "true",
    "null",
    "[]",
    "{}",
    '{"a":',
    "%00",
    "'; DROP TABLE campaigns; --",
    "../../etc/passwd",
    "𝟘𝟙",
    "x" * 5000,
]
_NASTY_WHOLE = [
    "²",
    "٣",
    "１２",
    "𝟘𝟙",
    "--5",
    "+5",
    "-0",
    " 7 ",
    "1e3",
    "1.5",
    "0x10",
    "99999999999999999999",
    "-9223372036854775809",
    "NaN",
]
_NASTY_CURSORS = [
    "99999999999999999999.1",
    "1.99999999999999999999",
    "².1",
    "-1.-1",
    ".",
    "1.",
    ".1",
]
_WHOLE = {
    "priority",
    "originatetime",
    "pagesize",
    "setqueueformonitoring",
    "setqueuemaximumcallers",
    "setcoefficient",
}
# Mostly the known-nasty values; the rest any text at all.
_texts = st.one_of(st.sampled_from(_NASTY), st.sampled_from(_NASTY), st.text(max_size=40))
_numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
)
_json = st.recursive(
    st.none() | st.booleans() | _numbers | _texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts, inner, max_size=3),
    max_leaves=8,
)
_METHOD_NAMES = sorted(documented.METHODS)
_GET_NAMES = [name for name in _METHOD_NAMES if name != "AddCallsBulk"]


def _name(drawn: str, case: int) -> str:
    return [drawn, drawn.lower(), drawn.upper()][case]


def _valid(target: Target) -> dict[str, Any]:
    """A value each parameter takes in a request that succeeds."""
    return {
        "Code": target.account.key,
        "Campaign": target.code,
        "Target": "07700900123",
        "CustomerName": "Ann",
        "CallerID": "+44 1632 960000",
        "Priority": 5,
        "CustomData": {"var_leadID": 1},
        "OriginateTime": 1_900_000_000,
        "IsDateLocal": True,
        "IgnoreDncStatus": False,
        "Member": "SIPSIP1",
        "PageSize": 10,
        "Cursor": "0.0",
        "setQueueForMonitoring": 1,
        "setQueueMaximumCallers": 1,
        "setCoefficient": 2,
        "setPacing": "predictive",
    }


@st.composite
def _pairs(
    draw: st.DrawFn, target: Target, method: str, values: st.SearchStrategy[Any]
) -> list[tuple[str, Any]]:
    """A request of ``method`` that would succeed, then one to three things made hostile: a
    value, a name's case, an unknown name, a parameter given twice, one left out."""
    valid = _valid(target)
    own = list(documented.METHODS[method].names) or [n for n in valid if n != "Member"]
    pairs: list[tuple[str, Any]] = [(name, valid[name]) for name in own]
    for _ in range(draw(st.integers(1, 3))):
        change = draw(st.sampled_from(["value", "value", "value", "case", "name", "twice", "drop"]))
        index = draw(st.integers(0, max(len(pairs) - 1, 0)))
        if change == "name" or not pairs:
            pairs.append((draw(st.sampled_from(_NAMES) | _texts), draw(values)))
        elif change == "value":
            name = pairs[index][0]
            nasty = _NASTY_CURSORS if name == "Cursor" else _NASTY_WHOLE
            if name.lower() in _WHOLE | {"cursor"} and draw(st.booleans()):
                pairs[index] = (name, draw(st.sampled_from(nasty)))
            else:
                pairs[index] = (name, draw(values))
        elif change == "case":
            pairs[index] = (_name(pairs[index][0], draw(st.integers(1, 2))), pairs[index][1])
        elif change == "twice":
            pairs.append(pairs[index])
        else:
            del pairs[index]
    return pairs


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return value if isinstance(value, str) else json.dumps(value)


def _is_envelope(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return (
        isinstance(body, dict)
        and isinstance(body.get("ErrorCode"), int)
        and isinstance(body.get("Description"), str)
    )


def test_dialer_api_query_strings_always_get_the_envelope(target: Target) -> None:
    failures: list[str] = []
    with httpx.Client(base_url=target.base, timeout=30) as http:

        @_examples(500)
        @given(method=st.sampled_from(_GET_NAMES), lower=st.booleans(), data=st.data())
        def send(method: str, lower: bool, data: st.DataObject) -> None:
            pairs = data.draw(_pairs(target, method, _texts | _numbers.map(str)))
            pairs = [(name, _query_value(value)) for name, value in pairs]
            method = method.lower() if lower else method
            response = http.get(f"/ForwardDialer/Dialer/{method}", params=pairs)
            what = f"GET {method} {pairs!r}"[:400]
            failures.extend(_server_errors(response, what))
            if not _is_envelope(response):
                failures.append(f"{what} -> not the envelope: {response.text[:200]}")

        send()
    assert not failures, "\n".join(dict.fromkeys(failures))


def test_dialer_api_json_bodies_always_get_the_envelope(target: Target) -> None:
    failures: list[str] = []
    with httpx.Client(base_url=target.base, timeout=30) as http:

        @_examples(500)
        @given(method=st.sampled_from(_METHOD_NAMES), data=st.data())
        def send(method: str, data: st.DataObject) -> None:
            values = _texts | _json
            if not data.draw(st.integers(0, 9)):
                body = data.draw(_json)  # any JSON at all
            elif method == "AddCallsBulk":
                items = data.draw(st.lists(_pairs(target, method, values), min_size=1, max_size=3))
                body = [dict(pairs) for pairs in items]
                if data.draw(st.booleans()):
                    body = {"IdempotencyKey": data.draw(_texts), "Calls": body}
            else:
                body = dict(data.draw(_pairs(target, method, values)))
            # Not httpx's json=: it refuses NaN, and lone surrogates must reach the server.
            content = json.dumps(body, allow_nan=True)
            response = http.post(
                f"/ForwardDialer/Dialer/{method}",
                content=content,
                headers={"Content-Type": "application/json"},
            )
            what = f"POST {method} {content[:300]}"
            failures.extend(_server_errors(response, what))
            if not _is_envelope(response):
                failures.append(f"{what} -> not the envelope: {response.text[:200]}")

        send()
    assert not failures, "\n".join(dict.fromkeys(failures))
