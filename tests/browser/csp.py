"""Watching a page for Content-Security-Policy violations: every browser test runs the console
under its real policy (docs/console.md), and the `browser` fixture (conftest.py) fails the test
if any page it opened reported one.

Two witnesses, since either alone can miss one: the page's own `securitypolicyviolation`
events (a listener added before any of the page's scripts run, reporting through a binding
that survives navigation), and Chromium's console error for each refusal ("Refused to ...
because it violates the following Content Security Policy directive")."""

from playwright.sync_api import Browser, ConsoleMessage, Page

LISTEN = """
document.addEventListener('securitypolicyviolation', (e) => {
  const what = e.blockedURI || 'inline', where = `${e.sourceFile}:${e.lineNumber}`;
  window.__dialerCspViolation(`${e.effectiveDirective} refused ${what} (${where})`);
}, true);
"""


def violations_of(browser: Browser) -> list[str]:
    """The violations every watched page of this browser reported, in order."""
    found: list[str] | None = getattr(browser, "csp_violations", None)
    if found is None:
        found = []
        browser.csp_violations = found  # type: ignore[attr-defined]
    return found


def watch_csp(browser: Browser, page: Page) -> Page:
    found = violations_of(browser)
    mine: list[str] = []
    page.csp_violations = mine  # type: ignore[attr-defined]

    def report(text: str) -> None:
        line = f"{page.url}: {text}"
        mine.append(line)
        found.append(line)

    def console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            report(message.text)

    page.expose_function("__dialerCspViolation", report)
    page.add_init_script(LISTEN)
    page.on("console", console)
    return page
