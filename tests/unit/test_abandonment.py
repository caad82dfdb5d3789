"""The abandoned-call rules by regime, and a campaign's rate and budget under them."""

import math
from datetime import timedelta

import pytest

from dialer.domain.abandonment import ComplianceSettings, Regime, Tally, rules_for
from dialer.domain.amd_measured import FALSE_MACHINE_RATE
from dialer.domain.amd_mode import AmdMode

UK = rules_for(ComplianceSettings(regime=Regime.UK, false_machine_rate=0.0))
US = rules_for(ComplianceSettings(regime=Regime.US))


def test_the_regimes_differ_in_window_greeting_lockout_and_opt_out() -> None:
    assert UK.window == timedelta(hours=24)
    assert US.window == timedelta(days=30)
    assert not UK.from_greeting_end
    assert US.from_greeting_end
    assert UK.redial_lockout == timedelta(hours=72)
    assert US.redial_lockout is None
    assert US.opt_out_by_key
    assert not UK.opt_out_by_key
    assert UK.message_required
    assert US.message_required
    assert UK.connect_within == US.connect_within == timedelta(seconds=2)


def test_a_target_above_the_limit_is_held_to_the_limit() -> None:
    assert rules_for(ComplianceSettings(target=0.05)).target == pytest.approx(0.03)
    assert rules_for(ComplianceSettings(), target=0.02).target == pytest.approx(0.02)


def test_the_budget_is_the_abandons_that_keep_the_rate_at_the_target() -> None:
    tally = Tally(live=100, abandoned=1)
    k = tally.budget(UK)
    assert k == pytest.approx((0.03 * 100 - 1) / 0.97)
    # Spending exactly the budget lands on the target, never above it.
    assert (1 + k) / (100 + k) == pytest.approx(0.03)
    whole = math.floor(k)
    assert tally.plus(live=whole, abandoned=whole).rate(UK) <= 0.03
    assert tally.plus(live=whole + 1, abandoned=whole + 1).rate(UK) > 0.03


def test_no_live_call_yet_leaves_no_budget() -> None:
    assert Tally().budget(UK) == 0.0
    assert Tally().rate(UK) == 0.0


def test_under_the_uk_rule_machines_hide_some_people_who_count_as_abandoned() -> None:
    rules = rules_for(ComplianceSettings(regime=Regime.UK, false_machine_rate=0.02))
    tally = Tally(live=980, abandoned=10, machines=300)
    # 2% of people judged machines: 980 heard means about 20 more were hung up on.
    assert tally.false_machines(rules) == pytest.approx(20.0)
    assert tally.rate(rules) == pytest.approx(30 / 1000)
    # Never more false machines than machine verdicts.
    assert Tally(live=980, machines=5).false_machines(rules) == 5.0


def test_no_regime_has_no_limit() -> None:
    rules = rules_for(ComplianceSettings(regime=Regime.NONE))
    assert not rules.enforced
    assert Tally(live=10, abandoned=9).budget(rules) == math.inf


def test_the_uk_estimate_uses_the_measured_rate_of_the_campaigns_detection_mode() -> None:
    project = ComplianceSettings(regime=Regime.UK)
    legacy = ComplianceSettings(regime=Regime.UK, false_machine_rate=0.083)
    # The measurement before the detector of 2026-11-30: a tenant given it was given the
    # project's figure, not a figure of its own.
    measured_before = ComplianceSettings(regime=Regime.UK, false_machine_rate=0.1289)
    for settings in (project, legacy, measured_before):
        for mode in AmdMode:
            rules = rules_for(settings, None, mode)
            assert rules.false_machine_rate == FALSE_MACHINE_RATE[mode]
    assert rules_for(project).false_machine_rate == FALSE_MACHINE_RATE[AmdMode.PREFER_PEOPLE]
    # A tenant's own measurement is kept whatever the mode; other regimes count none.
    own = ComplianceSettings(regime=Regime.UK, false_machine_rate=0.021)
    assert {rules_for(own, None, mode).false_machine_rate for mode in AmdMode} == {0.021}
    us = ComplianceSettings(regime=Regime.US)
    assert rules_for(us, None, AmdMode.PREFER_AGENTS).false_machine_rate == 0.0
