"""The browser tests' shared fixture: Debian's Chromium, driven by Playwright (no download).
Every page the tests open runs under the console's own Content-Security-Policy (no
`bypass_csp`); a violation any of them reported fails the test (csp.py)."""

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.acceptance.test_docs_in_browser import CHROMIUM_FLAGS
from tests.browser.csp import violations_of


@pytest.fixture
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            yield launched
            found = violations_of(launched)
            assert not found, f"the console broke its Content-Security-Policy: {found}"
        finally:
            launched.close()
