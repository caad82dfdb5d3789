"""The abandoned-call options ``tenant create`` and ``tenant compliance`` share
(docs/compliance.md), and the settings object they make of them (the REST API's)."""

from typing import Annotated

import typer

RegimeOpt = Annotated[
    str | None,
    typer.Option(
        help="Abandoned-call rules: uk (Ofcom), us (FCC) or none; by default uk in region GB,"
        " us in US, else none"
    ),
]
TargetOpt = Annotated[
    float | None,
    typer.Option(help="Abandoned calls to aim at, percent of live calls (at most 3)"),
]
MessageOpt = Annotated[
    str | None,
    typer.Option(help="What an abandoned call hears (spoken): the company and a number to call"),
]
RecordingOpt = Annotated[
    str | None,
    typer.Option(help="A recording of it instead (a .wav in the tenant's audio directory)"),
]
OptOutKeyOpt = Annotated[
    str | None, typer.Option(help="US: the key that puts the number on the DNC list")
]
PerDayOpt = Annotated[
    str | None,
    typer.Option(help="Attempts per number in any 24 hours, all campaigns ('none': no cap)"),
]
FalseMachineOpt = Annotated[
    float | None,
    typer.Option(help="UK: your detector's measured false-machine rate, percent"),
]


def compliance_body(
    regime: str | None,
    abandon_target: float | None,
    info_message: str | None,
    info_recording: str | None,
    opt_out_key: str | None,
    attempts_per_day: str | None,
    false_machine_rate: float | None,
) -> dict[str, object]:
    """The options given, as the REST API's settings object."""
    body: dict[str, object] = {}
    if regime is not None:
        body["regime"] = regime
    if abandon_target is not None:
        body["target"] = abandon_target
    if info_message is not None or info_recording is not None:
        body["message"] = {"text": info_message, "recording": info_recording}
    if opt_out_key is not None:
        body["optOutKey"] = opt_out_key
    if attempts_per_day is not None:
        if attempts_per_day.strip().lower() == "none":
            body["attemptsPerDay"] = None
        elif attempts_per_day.strip().isdigit():
            body["attemptsPerDay"] = int(attempts_per_day)
        else:
            typer.echo("error: attempts_per_day: must be a whole number, or none", err=True)
            raise typer.Exit(2)
    if false_machine_rate is not None:
        body["falseMachineRate"] = false_machine_rate
    return body
