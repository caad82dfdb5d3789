"""The console's vendored frontend libraries are the files scripts/vendor-console took from npm
(name, exact version, sha256 in each manifest), and the console loads nothing from elsewhere."""

import hashlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "src" / "dialer" / "console" / "static"
MANIFESTS = [
    STATIC / "vendor" / "manifest.json",
    ROOT / "tests" / "browser" / "vendor" / "manifest.json",
]


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_vendored_file_matches_its_manifest(manifest: Path) -> None:
    entries = json.loads(manifest.read_text())
    assert entries
    on_disk = {p.name for p in manifest.parent.iterdir()} - {"manifest.json"}
    assert on_disk == {e["file"] for e in entries}  # nothing vendored by hand beside them
    for entry in entries:
        assert re.fullmatch(r"\d+\.\d+\.\d+", entry["version"]), entry  # an exact pin
        data = (manifest.parent / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["file"]


def test_the_console_names_no_other_origin() -> None:
    """Every script, style and import is the service's own: no URL with a scheme or host."""
    for path in STATIC.glob("*.*"):
        text = path.read_text()
        assert not re.search(r"""(src|href|import[^'"]*from)\s*=?\s*["'](https?:)?//""", text), path
        assert "http://" not in text, path
        assert "https://" not in text, path
