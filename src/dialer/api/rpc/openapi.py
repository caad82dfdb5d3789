"""How each Dialer API method reads in /openapi.json: its query parameters (GET), its JSON body
(POST) and its envelope answer, with the seed's examples (dialer-api.txt, docs/dialer-api.md).

Only the document uses this: the requests themselves are read by dispatch's plain route.
"""

from typing import Any

from pydantic import BaseModel

from . import schemas

_CODE = "XXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
_SEED = "the seed's example"


def _text(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def _whole(description: str, low: int, high: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": low, "maximum": high, "description": description}


_BOOLEAN_TEXT = {"type": "string", "enum": ["true", "false"]}
_INT32 = (-(2**31), 2**31 - 1)

# Every parameter, as a query string carries it; the JSON body takes the same names and types,
# except CustomData, which is an object there and JSON text here.
PARAMETERS: dict[str, dict[str, Any]] = {
    "Code": _text(
        "Your API key (`dialer tenant create`). GetCampaignList needs it; elsewhere it is "
        "optional, and when sent the campaign must be your tenant's.",
        examples=["XXXXXXXXXXXXX"],
    ),
    "Campaign": _text("The campaign's code: GetCampaignList's `Code`", examples=[_CODE]),
    "Target": _text(
        "The number, in the tenant's region or international (+...)", examples=["0501234567"]
    ),
    "CustomerName": _text("The callee's name", maxLength=200, examples=["John Doe"]),
    "CallerID": _text("One of the tenant's caller IDs, in any notation", examples=["0722776772"]),
    "Priority": _whole("Higher dials first; default 0", *_INT32),
    "CustomData": _text(
        'Your fields as JSON text (`{"var_leadID": 1}`); on a query string `var_*` parameters '
        "(`&var_leadID=1234567`) join it too. At most 8 KiB."
    ),
    "OriginateTime": _whole(
        "Dial at or after this epoch (seconds); sent together with IsDateLocal", 0, 253402300799
    ),
    "IsDateLocal": {
        "anyOf": [{"type": "boolean"}, _BOOLEAN_TEXT],
        "description": "true: OriginateTime is a wall-clock time in the tenant's zone; "
        "false: a UTC epoch. Sent together with OriginateTime.",
    },
    "IgnoreDncStatus": {
        "anyOf": [{"type": "boolean"}, _BOOLEAN_TEXT],
        "description": "Dial even when the number is on the tenant's do-not-call list",
    },
    "Member": _text("Agent SIP codes, comma-separated", examples=["SIPSIP1"]),
    "PageSize": _whole("Calls per page, default 1,000", 1, 10_000),
    "Cursor": _text("The previous page's `Data.NextCursor`; omit for the first page"),
    "setQueueForMonitoring": _whole("One of the tenant's queues (its id)", *_INT32),
    "setQueueMaximumCallers": _whole("Most calls waiting in that queue; > 0", *_INT32),
    "setCoefficient": _whole(
        "Lines dialled per ready agent in the ratio mode; > 1, at most 10 in that mode",
        *_INT32,
    ),
    "setPacing": {
        "type": "string",
        "enum": ["progressive", "ratio", "predictive"],
        "description": "Beyond the seed: the agent campaign's pacing mode (docs/pacing.md);"
        " ratio (setCoefficient lines per ready agent) if left out",
    },
}
_CALL = (
    "Code",
    "Campaign",
    "Target",
    "CustomerName",
    "CallerID",
    "Priority",
    "CustomData",
    "OriginateTime",
    "IsDateLocal",
    "IgnoreDncStatus",
)
_CALL_BODY = {
    "Campaign": _CODE,
    "Target": "0501234567",
    "CustomerName": "John Doe",
    "CallerID": "0722776772",
    "Priority": 42,
    "OriginateTime": 1602750000,
    "IsDateLocal": "true",
    "IgnoreDncStatus": "true",
    "CustomData": {"var_LeadID": 1234567, "var_LeadCampaign": "Facebook"},
}
_OK = {"ErrorCode": 0, "Description": "OK"}
_SUMMARY = {
    "Name": "Campaign1",
    "StatusName": "Enabled",
    "TotalPendingCalls": 23,
    "MaxPriority": 1,
    "MinPriority": 1,
    "TotalAwaitingCalls": 23,
    "Code": _CODE,
}
_PENDING_CALL = {
    "Phone": "972525599100",
    "CallerID": "",
    "CallerName": "",
    "OriginateTime": 1602819000,
    "IsDateLocal": True,
    "Priority": 42,
    "CustomerName": "John Doe",
    "CallStatus": {"Status": 1, "Description": "Pending"},
    "CustomData": {"var_test1": "1", "var_test2": "some value"},
}


class _Method:
    def __init__(
        self,
        summary: str,
        names: tuple[str, ...],
        required: tuple[str, ...],
        answer: type[BaseModel],
        answer_example: dict[str, Any],
        body_example: Any,
        get_example: str | None,
    ) -> None:
        self.summary = summary
        self.names = names
        self.required = required
        self.answer = answer
        self.answer_example = answer_example
        self.body_example = body_example
        self.get_example = get_example


_CAMPAIGN_ONLY = ("Code", "Campaign")
METHODS: dict[str, _Method] = {
    "GetCampaignList": _Method(
        "Every campaign of your tenant",
        ("Code",),
        ("Code",),
        schemas.CampaignListAnswer,
        {
            "Data": [
                _SUMMARY,
                {
                    **_SUMMARY,
                    "Name": "Campaign2",
                    "TotalPendingCalls": 19,
                    "MaxPriority": 52,
                    "TotalAwaitingCalls": None,
                },
            ],
            **_OK,
        },
        {"Code": "XXXXXXXXXXXXX"},
        "Code=XXXXXXXXXXXXX",
    ),
    "AddCall": _Method(
        "Add one destination",
        _CALL,
        ("Campaign", "Target"),
        schemas.Envelope,
        _OK,
        _CALL_BODY,
        f"Campaign={_CODE}&Target=0501234567&CustomerName=JohnDoe&Priority=42&var_leadID=1234567",
    ),
    "AddCallsBulk": _Method(
        "Add many destinations; one bad item never fails the others",
        (),
        (),
        schemas.BulkAnswer,
        {
            "AddResult": [
                {
                    "Target": "0501234567",
                    **_OK,
                    "CustomData": {"var_LeadID": 1234567, "var_LeadCampaign": "Facebook"},
                },
                {"Target": "0501234568", **_OK, "CustomData": {}},
            ],
            **_OK,
        },
        [_CALL_BODY, {"Campaign": _CODE, "Target": "0501234568"}],
        None,
    ),
    "RemoveCall": _Method(
        "Remove every pending destination of a number",
        ("Code", "Campaign", "Target"),
        ("Campaign", "Target"),
        schemas.Envelope,
        _OK,
        {"Campaign": _CODE, "Target": "0501234567"},
        f"Campaign={_CODE}&Target=0501234567",
    ),
    "ClearCampaignCalls": _Method(
        "Remove every pending destination",
        _CAMPAIGN_ONLY,
        ("Campaign",),
        schemas.Envelope,
        _OK,
        {"Campaign": _CODE},
        f"Campaign={_CODE}",
    ),
    "GetMembersList": _Method(
        "The agents of an Agent Dialer campaign",
        _CAMPAIGN_ONLY,
        ("Campaign",),
        schemas.MembersAnswer,
        {
            "Data": [
                {"Member": "SIPSIP1", "DisplayName": "Walter Melon"},
                {"Member": "SIPSIP2", "DisplayName": "John Doe"},
            ],
            **_OK,
        },
        {"Campaign": _CODE},
        f"Campaign={_CODE}",
    ),
    "AddMember": _Method(
        "Add agents to an Agent Dialer campaign",
        ("Code", "Campaign", "Member"),
        ("Campaign", "Member"),
        schemas.AddedAnswer,
        {"Data": {"TotalAdded": 2}, **_OK},
        {"Campaign": _CODE, "Member": "SIPSIP1"},
        f"campaign={_CODE}&member=SIPSIP1",
    ),
    "RemoveMember": _Method(
        "Remove agents from an Agent Dialer campaign",
        ("Code", "Campaign", "Member"),
        ("Campaign", "Member"),
        schemas.RemovedAnswer,
        {"Data": {"TotalRemoved": 2}, **_OK},
        {"Campaign": _CODE, "Member": "SIPSIP1"},
        f"campaign={_CODE}&member=SIPSIP1",
    ),
    "StopCampaign": _Method(
        "Pause a campaign (Disabled)",
        _CAMPAIGN_ONLY,
        ("Campaign",),
        schemas.Envelope,
        {"ErrorCode": 1, "Description": "Invalid campaign code"},
        {"Campaign": _CODE},
        f"campaign={_CODE}",
    ),
    "StartCampaign": _Method(
        "Resume a campaign (Enabled)",
        _CAMPAIGN_ONLY,
        ("Campaign",),
        schemas.Envelope,
        {"ErrorCode": 1, "Description": "Invalid campaign code"},
        {"Campaign": _CODE},
        f"campaign={_CODE}",
    ),
    "GetCampaignPendingCalls": _Method(
        "Pending and originated calls in dial order, a page at a time, with the summary",
        ("Code", "Campaign", "PageSize", "Cursor"),
        ("Campaign",),
        schemas.PendingCallsAnswer,
        {
            "Data": {
                "Calls": [
                    _PENDING_CALL,
                    {
                        **_PENDING_CALL,
                        "OriginateTime": 1602755000,
                        "CallStatus": {"Status": 2, "Description": "Originated"},
                    },
                ],
                "Campaign": {
                    **_SUMMARY,
                    "Name": "Campaign2",
                    "TotalPendingCalls": 4,
                    "TotalOriginatedCalls": 0,
                    "MaxPriority": 42,
                    "MinPriority": 42,
                    "TotalAwaitingCalls": -1,
                },
                "NextCursor": None,
            },
            **_OK,
        },
        {"Campaign": _CODE},
        f"Campaign={_CODE}",
    ),
    "UpdateCall": _Method(
        "Update every pending destination of a number, or add one",
        _CALL,
        ("Campaign", "Target"),
        schemas.Envelope,
        _OK,
        {k: v for k, v in _CALL_BODY.items() if k != "IgnoreDncStatus"},
        f"Campaign={_CODE}&Target=0501234567&CustomerName=John%20Doe&Priority=42&var_leadID=1234567",
    ),
    "GetCampaignDetails": _Method(
        "One campaign's summary, type and strategy",
        _CAMPAIGN_ONLY,
        ("Campaign",),
        schemas.CampaignDetailsAnswer,
        {
            "Data": {
                **_SUMMARY,
                "TotalAwaitingCalls": -1,  # as the seed has it for an agent campaign
                "TotalOriginatedCalls": 0,
                "Type": "Agent",
                "Strategy": None,
                "AgentOptions": {
                    "WrapUpSeconds": 15,
                    "MaxWaitSeconds": 5,
                    "BridgeOnAnswer": False,
                    "Pacing": {"Mode": "predictive", "Ratio": None, "Target": None},
                    "InformationMessage": None,
                },
                "Abandonment": {
                    "Regime": "uk",
                    "Window": "24h",
                    "Rate": 1.873,
                    "Limit": 3.0,
                    "Target": 3.0,
                    "Live": 512,
                    "Abandoned": 6,
                    "Machines": 140,
                    "FalseMachines": 46.369,
                    "DialRatio": 1.6,
                    "PacerReason": "predictive: 4 ready, 3 ringing, budget 7.2 abandons",
                    "DecidedAt": "2025-10-01T10:42:05.000Z",
                },
                "AnswerDetection": "people",
            },
            **_OK,
        },
        {"Campaign": _CODE},
        f"Campaign={_CODE}",
    ),
    "UpdateCampaignStrategy": _Method(
        "Set the queue a campaign's pacing watches, and its pacing mode",
        (
            "Code",
            "Campaign",
            "setQueueForMonitoring",
            "setQueueMaximumCallers",
            "setCoefficient",
            "setPacing",
        ),
        ("Campaign", "setQueueForMonitoring", "setQueueMaximumCallers", "setCoefficient"),
        schemas.Envelope,
        _OK,
        {
            "Campaign": _CODE,
            "setQueueForMonitoring": 123456789,
            "setQueueMaximumCallers": 1,
            "setCoefficient": 2,
        },
        f"Campaign={_CODE}&setQueueForMonitoring=123456789&setQueueMaximumCallers=1"
        "&setCoefficient=2",
    ),
}


def _component(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A reference to ``schema`` as a named component (api.openapi moves ``$defs`` there)."""
    defs = schema.pop("$defs", {})
    return {"$ref": f"#/$defs/{name}", "$defs": {**defs, name: schema}}


def _body_schema(name: str, method: _Method) -> dict[str, Any]:
    if name == "AddCallsBulk":
        call = _component("CallIn", schemas.CallIn.model_json_schema())
        return {
            "anyOf": [
                {"type": "array", "items": call, "maxItems": 10_000},
                _component("BulkIn", schemas.BulkIn.model_json_schema()),
            ]
        }
    if method.names == _CALL:
        return _component("CallIn", schemas.CallIn.model_json_schema())
    properties = {n: PARAMETERS[n] for n in method.names}
    return _component(
        f"{name}Request",
        {"type": "object", "properties": properties, "required": list(method.required)},
    )


def _bulk_parameters() -> list[dict[str, Any]]:
    key = {"type": "string", "minLength": 1, "maxLength": 200}
    about = "Makes a retry safe: a repeat gets the first answer and adds nothing (24 hours)"
    return [
        {"name": "Idempotency-Key", "in": "header", "schema": key, "description": about},
        {"name": "IdempotencyKey", "in": "query", "schema": key, "description": about},
    ]


def operation(name: str, verb: str) -> dict[str, Any]:
    """The keyword arguments of ``add_api_route`` that document ``name`` under ``verb``."""
    method = METHODS[name]
    seed = f"/ForwardDialer/Dialer/{name}"
    extra: dict[str, Any] = {}
    if verb == "GET":
        extra["parameters"] = [
            {
                "name": n,
                "in": "query",
                "required": n in method.required,
                "schema": PARAMETERS[n],
            }
            for n in method.names
        ]
        example = f"`GET {seed}?{method.get_example}` ({_SEED})"
        errors: dict[int | str, dict[str, Any]] = {}
    else:
        extra["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _body_schema(name, method)}},
        }
        if name == "AddCallsBulk":
            extra["parameters"] = _bulk_parameters()
        example = f"The body's example is {_SEED}."
        errors = {413: {"model": schemas.Envelope, "description": "Request too large (code 7)"}}
    return {
        "operation_id": f"{name}_{verb.lower()}",
        "summary": f"{name}: {method.summary}",
        "description": (
            f"{example} Parameter names are matched in any case. Answers in the seed's "
            "envelope, HTTP 200 with its ErrorCode (docs/dialer-api.md)."
        ),
        "openapi_extra": extra,
        "responses": {
            200: {
                "model": method.answer,
                "description": "The envelope: ErrorCode 0 or what went wrong",
            },
            **errors,
        },
    }


def add_examples(document: dict[str, Any]) -> None:
    """The seed's examples, put in once the document is built: FastAPI drops every null from
    what it builds, and the seed's answers have nulls (``"TotalAwaitingCalls": null``)."""
    for name, method in METHODS.items():
        for verb, operation_ in document["paths"].get(f"/ForwardDialer/Dialer/{name}", {}).items():
            answer = operation_["responses"]["200"]["content"]["application/json"]
            answer["example"] = method.answer_example
            if verb == "post":
                body = operation_["requestBody"]["content"]["application/json"]
                body["example"] = method.body_example
