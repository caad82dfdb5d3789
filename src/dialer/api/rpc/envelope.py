"""The seed's response envelope and its error codes, in one table.

Codes from the seed: 0 OK; 1 invalid or missing campaign code; 2 target or member missing
(and, in GetCampaignPendingCalls, an invalid campaign); -2 number invalid; 4 invalid campaign in
ClearCampaignCalls. Where the seed is silent we add: 3 invalid ``Code`` (API key); 5 invalid
request, with what is wrong; 6 unknown method; 7 request too large; 8 verb not accepted.
"""

from typing import Any

from dialer.api.responses import JsonResponse

OK = 0
INVALID_CAMPAIGN = 1
MISSING = 2
NUMBER_INVALID = -2
INVALID_KEY = 3
CLEAR_INVALID_CAMPAIGN = 4
INVALID_REQUEST = 5
UNKNOWN_METHOD = 6
TOO_LARGE = 7
WRONG_VERB = 8

INVALID_KEY_DESCRIPTION = "Invalid Code: send your API key as Code"


def envelope(
    code: int = OK,
    description: str = "OK",
    data: Any = None,
    *,
    status: int = 200,
    has_data: bool = False,
) -> JsonResponse:
    body: dict[str, Any] = {}
    if has_data or data is not None:
        body["Data"] = data
    body["ErrorCode"] = code
    body["Description"] = description
    return JsonResponse(body, status_code=status)
