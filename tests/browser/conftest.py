"""The browser tests' shared fixture: Debian's Chromium, driven by Playwright (no download).
Every page the tests open runs under the console's own Content-Security-Policy (no
`bypass_csp`); a violation any of them reported fails the test (csp.py)."""

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.acceptance.test_docs_in_browser import CHROMIUM_FLAGS
from tests.browser.csp import violations_of


# One Chromium per module (its start costs 1 to 4 s): every test opens its own context, with
# its own cookies and storage, so no test sees another's session.
@pytest.fixture(scope="module")
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
