"""Reading a do-not-call file: byte-order mark, header, comments, CSV, 1-based line numbers."""

from dialer.services.dnc_import import FileLine, file_lines


def test_a_spreadsheet_export_gives_its_numbers_with_their_line_numbers() -> None:
    lines = ["\ufeffPhone number,Name\n", "# note\n", "\n", '"07700 900111","Ann"\n', "x\n"]
    assert list(file_lines(lines)) == [
        "Phone number,Name",
        FileLine(4, "07700 900111"),
        FileLine(5, "x"),
    ]


def test_only_the_first_line_may_be_a_header_and_a_number_never_is() -> None:
    assert list(file_lines(["07700900111\n", "number\n"])) == [
        FileLine(1, "07700900111"),
        FileLine(2, "number"),
    ]
    # Not letters: a bad first line is a bad line, not a header.
    assert list(file_lines(["12\n"])) == [FileLine(1, "12")]
