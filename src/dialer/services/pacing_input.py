"""An agent campaign's pacing and information message as the REST API's ``agentOptions`` give
them (docs/pacing.md, docs/compliance.md); campaign_input.py reads the rest of the options."""

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from dialer.domain.abandonment import REGULATORY_LIMIT
from dialer.domain.agent import Pacing, PacingMode
from dialer.domain.campaign import CampaignSpec
from dialer.domain.errors import FieldErrors
from dialer.services.compliance_input import percent

MAX_RATIO = 10.0
_PACING_FIELDS = {"mode", "ratio", "target"}


def parse_pacing(value: Any, field: str, errors: FieldErrors) -> Pacing:
    """``{"mode": "progressive" | "ratio" | "predictive", "ratio": lines per ready agent (ratio
    mode only), "target": percent or null}``; what is left out takes the default (predictive,
    the tenant's target)."""
    default = Pacing()
    if value is None:
        return default
    if not isinstance(value, Mapping):
        errors.add(field, 'Must be an object {"mode": ..., "ratio": ..., "target": ...}.')
        return default
    props = {str(k).lower(): v for k, v in value.items()}
    for key in sorted(str(k) for k in value if str(k).lower() not in _PACING_FIELDS):
        errors.add(f"{field}.{key}", "Unknown property; pacing has mode, ratio and target.")
    mode = default.mode
    raw_mode = props.get("mode")
    if raw_mode is not None:
        names = {m.value for m in PacingMode}
        if isinstance(raw_mode, str) and raw_mode.lower() in names:
            mode = PacingMode(raw_mode.lower())
        else:
            errors.add(f"{field}.Mode", "Must be progressive, ratio or predictive.")
    ratio = props.get("ratio")
    if ratio is not None:
        number = isinstance(ratio, int | float) and not isinstance(ratio, bool)
        if not number or not 1.0 < float(ratio) <= MAX_RATIO:
            errors.add(f"{field}.Ratio", f"Must be a number above 1 and at most {MAX_RATIO:g}.")
            ratio = None
        elif mode is not PacingMode.RATIO:
            errors.add(f"{field}.Ratio", "Only the ratio mode takes a ratio.")
            ratio = None
        else:
            ratio = float(ratio)
    elif mode is PacingMode.RATIO and not errors.has(f"{field}.Mode"):
        errors.add(f"{field}.Ratio", "The ratio mode needs a ratio (lines per ready agent).")
    target = props.get("target")
    if target is not None:
        target = percent(target, f"{field}.Target", REGULATORY_LIMIT * 100, errors)
    return Pacing(mode, ratio, target)


def pacing_json(pacing: Pacing) -> dict[str, Any]:
    return {
        "mode": pacing.mode.value,
        "ratio": pacing.ratio,
        "target": None if pacing.target is None else round(pacing.target * 100, 6),
    }


def strategy_pacing(spec: CampaignSpec, mode: PacingMode, coefficient: int) -> CampaignSpec:
    """An agent campaign after UpdateCampaignStrategy: ``setCoefficient`` is the ratio mode's
    lines per ready agent, ``setPacing`` (optional, ratio if left out) the mode; the
    campaign's own target and its other options are kept."""
    options = spec.agent_options
    ratio = float(coefficient) if mode is PacingMode.RATIO else None
    pacing = Pacing(mode, ratio, options.pacing.target)
    return replace(spec, agent=replace(options, pacing=pacing))
