"""``--sms``: the provider a process sends texts through when their tenant set none
(docs/sms.md). SMPP and HTTP defaults are read from the environment, so their secrets stay
out of process lists and shell history."""

import os
from collections.abc import Mapping
from typing import Annotated

import typer

from dialer.domain.sms import SmppSettings
from dialer.domain.sms_settings import BodyFormat, HttpSmsSettings
from dialer.settings import SmsDefault

SmsOpt = Annotated[
    str | None,
    typer.Option(
        "--sms",
        help="Texts of tenants with no SMS settings: sim, smpp or http (DIALER_SMS_* variables)."
        " Default: sim on --network sim, none on --network sip",
    ),
]


def sms_default(
    choice: str | None, network: str, env: Mapping[str, str] = os.environ
) -> SmsDefault:
    """The process's default provider; ValueError saying what is missing or refused."""
    if choice is None:
        return SmsDefault("sim" if network == "sim" else "none")
    if choice == "sim":
        if network == "sip":
            raise ValueError(
                "--sms sim on --network sip: the simulated provider sends no real text; choose"
                " --sms smpp or --sms http, or leave --sms out (texts then need a tenant's own"
                " provider: PUT /api/settings/sms)"
            )
        return SmsDefault("sim")
    if choice == "smpp":
        return SmsDefault("smpp", smpp=_smpp(env))
    if choice == "http":
        return SmsDefault("http", http=_http(env))
    raise ValueError(f"unknown --sms {choice!r}; choose sim, smpp or http")


def _need(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise ValueError(f"the SMS default needs {name} in the environment")
    return value


def _smpp(env: Mapping[str, str]) -> SmppSettings:
    host = _need(env, "DIALER_SMS_SMPP_HOST")
    try:
        port = int(env.get("DIALER_SMS_SMPP_PORT", "2775"))
        throughput = float(env.get("DIALER_SMS_SMPP_THROUGHPUT", "10"))
    except ValueError:
        raise ValueError("DIALER_SMS_SMPP_PORT and _THROUGHPUT take numbers") from None
    return SmppSettings(
        host,
        port,
        _need(env, "DIALER_SMS_SMPP_SYSTEM_ID"),
        _need(env, "DIALER_SMS_SMPP_PASSWORD"),
        env.get("DIALER_SMS_SMPP_SYSTEM_TYPE", ""),
        throughput=throughput,
    )


def _http(env: Mapping[str, str]) -> HttpSmsSettings:
    form = env.get("DIALER_SMS_HTTP_BODY_FORMAT", "json")
    if form not in ("json", "form"):
        raise ValueError("DIALER_SMS_HTTP_BODY_FORMAT is json or form")
    default = HttpSmsSettings("x")
    return HttpSmsSettings(
        _need(env, "DIALER_SMS_HTTP_URL"),
        env.get("DIALER_SMS_HTTP_METHOD", "POST"),
        env.get("DIALER_SMS_HTTP_AUTH_HEADER", ""),
        BodyFormat(form),
        env.get("DIALER_SMS_HTTP_BODY_TEMPLATE", default.body_template),
        env.get("DIALER_SMS_HTTP_ID_PATH", "id"),
    )
