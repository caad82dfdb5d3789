"""Kinds of phone numbers, as libphonenumber's PhoneNumberType codes them."""

# A possible number of this type matches none of its country's allocated ranges.
NOT_VALID = 99

# The API's names of the codes; a code not listed here reads as "unknown".
NUMBER_TYPE_NAMES = {
    0: "fixedLine",
    1: "mobile",
    2: "fixedLineOrMobile",
    3: "tollFree",
    4: "premiumRate",
    5: "sharedCost",
    6: "voip",
    7: "personalNumber",
    8: "pager",
    9: "uan",
    10: "voicemail",
    NOT_VALID: "unknown",
}


def number_type_name(code: int) -> str:
    return NUMBER_TYPE_NAMES.get(code, "unknown")
