"""The 14 methods: each reads its parameters, calls the service, and shapes the seed's answer."""

from collections.abc import Callable
from dataclasses import dataclass

from starlette.responses import Response

from dialer.domain.campaign import CampaignStatus
from dialer.services.dialer import DialerService
from dialer.services.dialer_input import Params

from . import envelope as codes
from .envelope import envelope
from .presenters import call_json, campaign_json, details_json, pending_campaign_json

Handler = Callable[[DialerService, Params], Response]


@dataclass(frozen=True)
class Method:
    name: str
    handler: Handler | None  # None: AddCallsBulk, which takes a list and is handled apart
    get: bool = True
    # What an invalid campaign code answers in this method (the seed varies it); an empty
    # description means "Invalid campaign code" or "Campaign code missing", as the case is.
    campaign_error: tuple[int, str] = (codes.INVALID_CAMPAIGN, "")
    # Data that goes with a member error (TotalAdded -1, TotalRemoved 0).
    member_error_data: dict[str, int] | None = None


def _campaign_list(service: DialerService, params: Params) -> Response:
    views = service.campaign_list(params)
    return envelope(data=[campaign_json(v, agent_awaiting=None) for v in views], has_data=True)


def _details(service: DialerService, params: Params) -> Response:
    return envelope(data=details_json(service.details(params)))


def _pending(service: DialerService, params: Params) -> Response:
    page = service.pending(params)
    data = {
        "Calls": [call_json(c) for c in page.calls],
        "Campaign": pending_campaign_json(page.view),
        "NextCursor": page.next_cursor,
    }
    return envelope(data=data)


def _members(service: DialerService, params: Params) -> Response:
    agents = service.members(params)
    data = [{"Member": a.member, "DisplayName": a.display_name} for a in agents]
    return envelope(data=data, has_data=True)


def _add_member(service: DialerService, params: Params) -> Response:
    return envelope(data={"TotalAdded": service.change_members(params, add=True)})


def _remove_member(service: DialerService, params: Params) -> Response:
    return envelope(data={"TotalRemoved": service.change_members(params, add=False)})


def _add_call(service: DialerService, params: Params) -> Response:
    service.add_call(params)
    return envelope()


def _update_call(service: DialerService, params: Params) -> Response:
    service.update_call(params)
    return envelope()


def _remove_call(service: DialerService, params: Params) -> Response:
    service.remove_call(params)
    return envelope()


def _clear(service: DialerService, params: Params) -> Response:
    service.clear(params)
    return envelope()


def _stop(service: DialerService, params: Params) -> Response:
    service.set_status(params, CampaignStatus.DISABLED)
    return envelope()


def _start(service: DialerService, params: Params) -> Response:
    service.set_status(params, CampaignStatus.ENABLED)
    return envelope()


def _strategy(service: DialerService, params: Params) -> Response:
    service.set_strategy(params)
    return envelope()


METHODS: dict[str, Method] = {
    m.name.lower(): m
    for m in (
        Method("GetCampaignList", _campaign_list),
        Method("AddCall", _add_call),
        Method("AddCallsBulk", None, get=False),
        Method("RemoveCall", _remove_call),
        Method(
            "ClearCampaignCalls",
            _clear,
            campaign_error=(codes.CLEAR_INVALID_CAMPAIGN, "Internal error occurred."),
        ),
        Method("GetMembersList", _members),
        Method("AddMember", _add_member, member_error_data={"TotalAdded": -1}),
        Method(
            "RemoveMember",
            _remove_member,
            member_error_data={"TotalRemoved": 0},
        ),
        Method("StopCampaign", _stop),
        Method("StartCampaign", _start),
        Method(
            "GetCampaignPendingCalls",
            _pending,
            campaign_error=(codes.MISSING, "Internal error occured"),
        ),
        Method("UpdateCall", _update_call),
        Method("GetCampaignDetails", _details),
        Method("UpdateCampaignStrategy", _strategy),
    )
}


def describe_campaign_error(method: Method, default: str) -> tuple[int, str]:
    code, description = method.campaign_error
    return code, description or default
