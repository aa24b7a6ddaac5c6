"""Text from outside in a line of ours (_text.py): secrets masked, what is not printable escaped, cut."""

import pytest

from azext_hsmbackup import _text as text
from azext_hsmbackup._text import clean_text, code_text, first_line, shown


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain words", "plain words"),
        ("clear\x1b[2Jscreen", "clear\\x1b[2Jscreen"),
        ("title\x1b]0;pwned\x07", "title\\x1b]0;pwned\\x07"),
        ("bell\x07", "bell\\x07"),
        ("right\u202eto left", "right\\u202eto left"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("c1\x9bcsi", "c1\\x9bcsi"),
        ("two\r\nlines", "two lines"),
        ("del\x7f", "del\\x7f"),
    ],
)
def test_every_character_that_is_not_printable_is_escaped(text, shown):
    assert clean_text(text) == shown


def test_a_huge_line_is_cut_and_only_its_start_is_looked_at():
    cut = clean_text("x" * 305_000)
    assert len(cut) == text.MAX_TEXT_CHARS and cut.endswith("…")
    assert clean_text("y" * text.MAX_TEXT_CHARS) == "y" * text.MAX_TEXT_CHARS


def test_first_line_drops_the_storage_request_dump():
    message = "Container missing.\nRequestId:abc\r\nStatus: 404 (x)\r\nErrorCode: ContainerNotFound\r\n<?xml ...>"
    assert first_line(message) == "Container missing."


def test_shown_quotes_and_escapes_user_values():
    assert shown("a\nb") == "'a\\nb'" and len(shown("x" * 500)) == 62


def test_code_text_is_the_enum_value():
    from azure.storage.blob import StorageErrorCode

    assert code_text(StorageErrorCode.AUTHORIZATION_FAILURE) == "AuthorizationFailure" and code_text(None) is None


@pytest.mark.parametrize("char", ["\n", "\r", "\t", "\x0b", "\x00", "\x1b"])
def test_shown_escapes_every_control_character(char):
    text = shown(f"a{char}b")
    assert text.isprintable() and text.startswith("'a\\") and text.endswith("b'")


def test_shown_cuts_long_values_at_the_limit_and_keeps_short_ones_whole():
    assert shown("x" * 60) == "'" + "x" * 60 + "'"
    assert shown("x" * 61) == "'" + "x" * 59 + "…'"
    assert shown("abcdef", limit=4) == "'abc…'"
    assert shown(12) == "'12'"


def test_first_line_cuts_each_dump_marker_and_joins_whitespace():
    assert first_line("A  b\r\nc\nStatus: 403\nx") == "A b c"
    assert first_line("A.<?xml version='1.0'?><Error/>") == "A."
    assert first_line("A.\nRequestId:1") == "A."
    assert first_line(None) == "" and first_line("  ") == ""


def test_first_line_cuts_at_the_first_marker():
    assert first_line("A.\nRequestId:1\nB.\nRequestId:2") == "A."


def test_shown_keeps_printable_characters_as_they_are():
    assert shown("é\\x") == "'é\\x'"


def test_a_password_in_a_shown_url_is_masked_and_the_url_kept():
    assert shown("https://user:pw@host.example/x") == "'https://***@host.example/x'"


def test_a_long_value_whose_secret_is_masked_still_shows_it_was_cut():
    assert shown("sig=" + "a" * 250) == "'sig=***…'"
    assert shown("sig=" + "a" * 236) == "'sig=***'", "240 characters are shown whole once masked"


def test_printable_characters_beyond_ascii_are_kept_as_they_are():
    assert clean_text("café ✓ 東京") == "café ✓ 東京"


def test_only_four_times_the_limit_is_read_and_more_is_said_to_be_cut():
    assert clean_text(" " * 30 + "abcdefghij", 10) == "abcdefghij"  # exactly 4 x the limit: whole
    assert clean_text(" " * 31 + "abcdefghij", 10) == "abcdefghi…"  # one more: what was read, marked as cut
    assert clean_text(" " * 45 + "abc", 10) == "…"  # what lies past 4 x the limit is not read


def test_a_code_is_cut_at_100_characters():
    assert code_text("C" * 100) == "C" * 100
    assert code_text("C" * 101) == "C" * 99 + "…"


def test_shown_value_quotes_json_for_what_is_not_text_and_cuts_at_its_limit():
    assert text.shown_value({"a": [1, None]}) == """'{"a": [1, null]}'"""
    assert text.shown_value("x" * 61) == "'" + "x" * 59 + "…'"
    assert text.shown_value("x" * 20, limit=10) == "'" + "x" * 9 + "…'"
    assert text.shown_value(float("nan")) == "'NaN'"
    assert text.shown_value({1j}) == "'set'"  # what JSON cannot write is named by its type
    assert text.shown_value([" " * 38 + "ab"], limit=10) == """'["'"""  # only 4 x the limit of the JSON is read
