"""Every program the code, tests or benchmarks run is on requirements/debian.txt, the one list
scripts/test installs from: a fresh machine then has all of them (issue 10: sox was missing)."""

import sys
from pathlib import Path

import pytest

from tests import system_programs
from tests.system_programs import (
    PACKAGE_LIST,
    ROOT,
    ProgramAudit,
    listed_programs,
    programs_in_source,
    programs_in_tree,
)


def test_every_program_named_in_the_sources_is_on_the_install_list() -> None:
    listed = listed_programs()
    named = programs_in_tree([ROOT / "src", ROOT / "tests", ROOT / "bench"])
    unlisted = {name: sorted(files) for name, files in named.items() if name not in listed}
    assert unlisted == {}, f"add these programs' Debian packages to {PACKAGE_LIST.name}"


def test_the_scan_finds_programs_however_they_are_called() -> None:
    source = """
import shutil, subprocess, asyncio
subprocess.run(["sox", "-n", "x.wav"])
subprocess.Popen(("/usr/bin/sipp", "-sn", "uac"))
shutil.which("chromium")
_run_tool("espeak-ng", "-w", "a.wav")
self._run("pg_ctl", "start")
asyncio.create_subprocess_exec("lsof", "-i", "lo")
def speak(text, binary="flite"): ...
run("not-a-program")
"""
    assert programs_in_source(source) == {
        "sox",
        "sipp",
        "chromium",
        "espeak-ng",
        "pg_ctl",
        "lsof",
        "flite",
    }


def test_the_known_programs_are_found_in_this_tree() -> None:
    # The scan must not go blind: these are run today, by these files.
    named = programs_in_tree([ROOT / "src"])
    assert "src/dialer/testing/sipp.py" in named["sox"]
    assert "src/dialer/testing/postgres.py" in named["initdb"]


def test_the_install_list_reads_package_and_programs(tmp_path: Path) -> None:
    listing = tmp_path / "debian.txt"
    listing.write_text("# comment\npostgresql  initdb pg_ctl  # the server\n\nsox sox\n")
    expected = {"initdb": "postgresql", "pg_ctl": "postgresql", "sox": "sox"}
    assert listed_programs(listing) == expected


def test_the_audit_records_programs_started_but_not_our_own_python(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As if sox and lsof were installed: the audit records only programs that exist.
    installed = {"sox", "lsof"}
    monkeypatch.setattr(system_programs, "_exists", lambda p: Path(p).name in installed or "/" in p)
    audit = ProgramAudit()
    audit("subprocess.Popen", ("/usr/bin/sox", ["sox", "--version"], None, None))
    audit("subprocess.Popen", (None, ["lsof", "-h"], None, None))
    audit("subprocess.Popen", (sys.executable, [sys.executable, "-c", "1"], None, None))
    console_script = str(Path(sys.prefix) / "bin" / "dialer")
    audit("subprocess.Popen", (None, [console_script, "serve"], None, None))
    audit("os.system", ("rm -rf /",))
    audit("subprocess.Popen", (None, ["espeak-ng-not-here", "-w"], None, None))
    assert audit.unlisted({"sox"}) == {"lsof": "lsof"}
