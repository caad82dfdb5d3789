"""Print the README's example campaign, dated from today, as the body of a REST POST.

    .venv/bin/python docs/examples/campaign.py > campaign.json
    .venv/bin/python docs/examples/campaign.py --start 2031-03-04 --callflow 2 --cli 3

The first day is today in the tenant's time zone (Europe/London unless --timezone says
otherwise) with a runover day after it; both windows are 08:00-21:00, the default calling hours,
so the campaign dials whenever the callee may be called. A fixed date in a checked-in file would
stop working once it had passed: the API refuses a campaign whose last window has closed.
"""

import argparse
import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def campaign(start: date, callflow_id: int, cli_id: int) -> dict[str, object]:
    return {
        "name": "Appointment reminders",
        "startDate": start.isoformat(),
        "startTime": "08:00",
        "finishTime": "21:00",
        "runoverDays": [
            {
                "date": (start + timedelta(days=1)).isoformat(),
                "startTime": "08:00",
                "finishTime": "21:00",
            }
        ],
        "callflow_Id": callflow_id,
        "cli_Id": cli_id,
        "attempts": [{"interval": 15, "attemptNumber": 1}, {"interval": 60, "attemptNumber": 2}],
        "answerMachineDetected": 1,
        "smsOnBusy": 2,
        "phoneNumbers": [
            {
                "number": "07700 900123",
                "name": "Ann",
                "parameters": [
                    {"parameter": 1, "value": "Monday 7 December"},
                    {"parameter": 2, "value": "10:40"},
                ],
            },
            {"number": "+44 7700 900456", "name": "Bob"},
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=date.fromisoformat, help="first day (default: today)")
    parser.add_argument("--timezone", default="Europe/London", help="the tenant's time zone")
    parser.add_argument("--callflow", type=int, default=1, help="callflow_Id (default 1)")
    parser.add_argument("--cli", type=int, default=1, help="cli_Id (default 1)")
    args = parser.parse_args()
    start = args.start or datetime.now(ZoneInfo(args.timezone)).date()
    print(json.dumps(campaign(start, args.callflow, args.cli), indent=2))


if __name__ == "__main__":
    main()
