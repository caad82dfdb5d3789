"""The console from a laptop to a wall screen, in a real headless Chromium (docs/console.md):
the wallboard and the campaigns list at 1280x800, 1920x1080 and 3840x2160 keep their layout. No
horizontal scroll, no text smaller than a laptop reader can read, the main regions side by side
or stacked without overlapping, and the wallboard's figures growing with the screen."""

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from dialer.bootstrap import build
from dialer.settings import Settings
from dialer.testing.server import serving
from tests.browser.csp import watch_csp
from tests.browser.test_console import WAIT, log_in, make_tenant

pytestmark = pytest.mark.browser

SCREENS = [(1280, 800), (1920, 1080), (3840, 2160)]
SMALLEST_TEXT_PX = 12.0  # on the laptop; every text on the page at least this
# Measured in the page: the scroll width, the boxes of the main regions (any element matching
# `regions`, visible), and the smallest font of any visible text.
MEASURE = """(regions) => {
  const box = (e) => {
    const r = e.getBoundingClientRect();
    const classes = e.className ? '.' + String(e.className).replace(/ /g, '.') : '';
    const name = e.tagName.toLowerCase() + classes;
    return {name, left: r.left, top: r.top, right: r.right, bottom: r.bottom};
  };
  const shown = [...document.querySelectorAll(regions)].filter((e) => e.getClientRects().length);
  let smallest = Infinity, where = '';
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const e = n.parentElement;
    if (!n.textContent.trim() || !e || !e.getClientRects().length) continue;
    if (e.closest('.visually-hidden, .skip')) continue;
    const size = parseFloat(getComputedStyle(e).fontSize);
    if (size < smallest) { smallest = size; where = n.textContent.trim().slice(0, 40); }
  }
  return {scrollWidth: document.documentElement.scrollWidth, viewport: window.innerWidth,
          regions: shown.map(box), smallest, where};
}"""


def overlapping(boxes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if (
                min(a["right"], b["right"]) - max(a["left"], b["left"]) > 0.5
                and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > 0.5
            ):
                found.append((a["name"], b["name"]))
    return found


def measure(page: Page, regions: str) -> dict[str, Any]:
    found: dict[str, Any] = page.evaluate(MEASURE, regions)
    return found


def check_layout(page: Page, regions: str, what: str) -> dict[str, Any]:
    seen = measure(page, regions)
    assert seen["scrollWidth"] <= seen["viewport"], f"{what}: scrolls sideways: {seen}"
    assert seen["smallest"] >= SMALLEST_TEXT_PX, f"{what}: text too small: {seen['where']!r}"
    assert not overlapping(seen["regions"]), f"{what}: {overlapping(seen['regions'])}"
    for region in seen["regions"]:
        assert region["left"] >= 0, (what, region)
        assert region["right"] <= seen["viewport"], (what, region)
    return seen


def font_px(page: Page, selector: str) -> float:
    size: float = page.locator(selector).first.evaluate(
        "(e) => parseFloat(getComputedStyle(e).fontSize)"
    )
    return size


def test_the_wallboard_and_the_list_hold_from_a_laptop_to_a_wall_screen(
    tmp_path: Path, browser: Browser
) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    acme = make_tenant(url, "Acme")
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    with serving(env, "--no-engine") as (_, base):
        for n, name in enumerate(
            ["October reminders", "Flu clinic recall for the whole of the north-west region"]
        ):
            acme.post(
                base,
                "/api/campaign/voice",
                acme.campaign(
                    name,
                    type="agent" if n else "ivr",
                    phoneNumbers=[{"number": f"+4477009{i:05d}"} for i in range(40)],
                ),
            )
        container = build(Settings(database_url=url))
        try:
            tenant = container.tenants.authenticate(acme.key)
            for member, name in (("SIPSIP1", "Alice Moreau"), ("SIPSIP2", "Bilal Khan")):
                container.catalog.add_agent(tenant, member, name)
        finally:
            container.close()

        figures: dict[int, float] = {}
        for width, height in SCREENS:
            context = browser.new_context(viewport={"width": width, "height": height})
            page = watch_csp(browser, context.new_page())
            page.set_default_timeout(WAIT)
            log_in(page, base, acme.key)
            expect(page.get_by_role("link", name="October reminders")).to_be_visible()
            # The agent campaign's abandoned-call rate against its limit; none for IVR.
            abandoned = page.locator("table.campaigns tbody tr td:nth-child(6)")
            expect(abandoned.nth(0)).to_have_text("—")
            expect(abandoned.nth(1)).to_contain_text("(3.0%)")
            check_layout(
                page, "header.top, .page-head, form.filters, table.campaigns", f"list {width}"
            )
            page.goto(f"{base}/#/wallboard")
            expect(page.locator("tr[data-agent='SIPSIP2']")).to_contain_text("offline")
            expect(page.locator(".agents-day")).to_contain_text("Bilal Khan")
            expect(page.locator(".wallboard-campaigns")).to_contain_text("north-west")
            expect(page.locator(".wallboard-campaigns")).to_contain_text("3.0% / 24h")
            seen = check_layout(
                page, "header.top, .wallboard > h1, .wallboard > section", f"wallboard {width}"
            )
            assert len(seen["regions"]) == 5, seen["regions"]
            # The tables fit their cards: nothing sticks out to the right.
            for table in page.locator(".wallboard table").all():
                inner = table.evaluate(
                    "(t) => t.getBoundingClientRect().right"
                    " <= t.closest('section').getBoundingClientRect().right + 0.5"
                )
                assert inner, f"wallboard {width}: a table overflows its card"
            figures[width] = font_px(page, ".wallboard dl.stats dd")
            page.screenshot(path=str(tmp_path / f"wallboard-{width}.png"))
            context.close()
        # A wall screen is read from across the room: its figures are larger than a laptop's,
        # and the 4K screen's at least twice the laptop's.
        assert figures[1280] < figures[1920] < figures[3840], figures
        assert figures[3840] >= 2 * figures[1280], figures
