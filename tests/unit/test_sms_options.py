"""``--sms`` (cli/sms_options.py): the process's default SMS provider, and the rule that the
simulated one never stands in for real texts on --network sip (docs/sms.md)."""

import pytest

from dialer.cli.sms_options import sms_default
from dialer.domain.sms_settings import BodyFormat

SMPP_ENV = {
    "DIALER_SMS_SMPP_HOST": "smsc.example.net",
    "DIALER_SMS_SMPP_SYSTEM_ID": "acme",
    "DIALER_SMS_SMPP_PASSWORD": "pw",
}


def test_the_default_is_the_simulator_on_sim_and_none_on_sip() -> None:
    assert sms_default(None, "sim", {}).kind == "sim"
    assert sms_default(None, "sip", {}).kind == "none"


def test_the_simulator_is_refused_on_a_real_network() -> None:
    with pytest.raises(ValueError, match="sends no real text"):
        sms_default("sim", "sip", {})


def test_smpp_and_http_defaults_come_from_the_environment() -> None:
    smpp = sms_default("smpp", "sip", {**SMPP_ENV, "DIALER_SMS_SMPP_PORT": "2776"}).smpp
    assert smpp is not None
    assert (smpp.host, smpp.port, smpp.system_id, smpp.password) == (
        "smsc.example.net",
        2776,
        "acme",
        "pw",
    )
    http = sms_default(
        "http",
        "sip",
        {"DIALER_SMS_HTTP_URL": "https://gw.example/send", "DIALER_SMS_HTTP_BODY_FORMAT": "form"},
    ).http
    assert http is not None
    assert (http.url, http.body_format) == ("https://gw.example/send", BodyFormat.FORM)


@pytest.mark.parametrize(
    ("choice", "env", "missing"),
    [
        ("smpp", {}, "DIALER_SMS_SMPP_HOST"),
        ("smpp", {k: v for k, v in SMPP_ENV.items() if "PASSWORD" not in k}, "PASSWORD"),
        ("http", {}, "DIALER_SMS_HTTP_URL"),
        ("carrier-pigeon", {}, "unknown --sms"),
    ],
)
def test_a_default_missing_its_settings_is_refused(
    choice: str, env: dict[str, str], missing: str
) -> None:
    with pytest.raises(ValueError, match=missing):
        sms_default(choice, "sip", env)
