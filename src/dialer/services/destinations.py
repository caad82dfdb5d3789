"""Turning Dialer API call parameters into destinations: one AddCall, UpdateCall or bulk item."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dialer.domain.campaign import Campaign, PhoneNumber
from dialer.domain.destination import (
    MAX_PRIORITY,
    MIN_PRIORITY,
    DestinationPatch,
    originate_instant,
)
from dialer.domain.errors import NumberInvalid, RequestRejected, TargetMissing, UnknownCampaign
from dialer.domain.tenant import Tenant
from dialer.services.dialer_input import Params, check_no_controls
from dialer.services.numbers import looks_like_number, number_type_of, to_e164


def campaign_code(params: Params) -> str:
    code = params.raw("Campaign")
    if code is None or code == "":
        raise UnknownCampaign(missing=True)
    if not isinstance(code, str) or len(code) > 200:
        raise UnknownCampaign(missing=False)
    return check_no_controls("Campaign", code.strip())


def target_text(params: Params) -> str:
    """The Target as sent (a JSON number is read as its digits)."""
    value = params.raw("Target")
    if value is None or value == "":
        raise TargetMissing()
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise NumberInvalid()
    return check_no_controls("Target", str(value).strip())


def target_e164(raw: str, region: str) -> str:
    e164 = to_e164(raw, region) if looks_like_number(raw) else None
    if e164 is None:
        raise NumberInvalid()
    return e164


@dataclass(frozen=True, slots=True)
class CallDetails:
    """Everything about a destination except its number, read from the parameters."""

    fields: dict[str, Any]  # only what was sent: PhoneNumber field -> value
    custom_data_echo: Any


def read_details(params: Params, tenant: Tenant, caller_ids: Callable[[], set[str]]) -> CallDetails:
    fields: dict[str, Any] = {}
    if params.has("CustomerName"):
        fields["name"] = params.text("CustomerName", free_text=True)
    if params.has("Priority"):
        fields["priority"] = params.integer("Priority", low=MIN_PRIORITY, high=MAX_PRIORITY)
    if params.has("CallerID"):
        sent = params.text("CallerID") or ""
        e164 = to_e164(sent, tenant.region) if looks_like_number(sent) else None
        if e164 is None or e164 not in caller_ids():
            raise RequestRejected(f"CallerID {sent} is not one of your caller IDs")
        fields["caller_id"] = e164
    custom_text, echo = params.custom_data()
    if custom_text is not None:
        fields["custom_data"] = custom_text
    originate = params.originate()
    if originate is not None:
        epoch, local = originate
        fields["originate_time"] = epoch
        fields["is_date_local"] = local
        fields["originate_at"] = originate_instant(epoch, local, tenant.timezone)
    if params.has("IgnoreDncStatus"):
        fields["ignore_dnc"] = params.boolean("IgnoreDncStatus")
    return CallDetails(fields, echo)


def new_destination(raw: str, e164: str, details: CallDetails) -> PhoneNumber:
    number = PhoneNumber(raw, e164, None, number_type=number_type_of(e164))
    return number._replace(**details.fields)


def patch_of(details: CallDetails) -> DestinationPatch:
    return DestinationPatch(dict(details.fields))


def check_campaign(campaign: Campaign | None, tenant_of_key: Tenant | None) -> Campaign:
    """A campaign found by code; if the request also named a tenant key, it must be theirs."""
    if campaign is None or (tenant_of_key is not None and campaign.tenant_id != tenant_of_key.id):
        raise UnknownCampaign(missing=False)
    return campaign
