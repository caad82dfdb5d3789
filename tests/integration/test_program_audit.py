"""The suite's audit of the programs it runs (tests/conftest.py) sees real processes."""

import subprocess

from tests.system_programs import ProgramAudit


def test_the_suite_audit_records_a_program_the_tests_run(program_audit: ProgramAudit) -> None:
    subprocess.run(["sox", "--version"], check=True, capture_output=True)
    assert program_audit.ran["sox"].endswith("sox")
