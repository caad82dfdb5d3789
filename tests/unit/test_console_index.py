"""The console's page names every module it will import, so the browser fetches them all at
once instead of discovering them import by import (docs/console.md, "Fast")."""

import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "src" / "dialer" / "console" / "static"


def imported_modules() -> set[str]:
    """Every module app.js reaches through static imports, as paths under /console/."""
    seen: set[str] = set()
    todo = ["app.js"]
    while todo:
        name = todo.pop()
        source = (STATIC / name).read_text()
        for target in re.findall(r"^import [^;]*? from '\./([^']+)';", source, re.M | re.S):
            path = str(Path(name).parent / target)
            if path not in seen:
                seen.add(path)
                todo.append(path)
    return seen


def test_the_page_preloads_exactly_the_modules_the_app_imports() -> None:
    page = (STATIC / "index.html").read_text()
    preloaded = set(re.findall(r'<link rel="modulepreload" href="/console/([^"]+)">', page))
    assert imported_modules() == preloaded
    assert {"vendor/preact-htm.js", "vendor/uplot.js", "campaign_page.js"} <= preloaded
