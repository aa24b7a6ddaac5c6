"""The numbers and switches of the flags (model/bounds.py): seconds, counts, days, true or false, each within its bounds
and refused in one line that names the flag, the range and an example."""

import math

import pytest

from azext_hsmbackup.model import bounds, retention
from azext_hsmbackup.model.bounds import bounded_number, check_keep, check_older_than, three_state
from azext_hsmbackup.model.problems import InvalidValue
from tests.unit.fakes import refused


@pytest.mark.parametrize(
    "value", [0, -1, -(10**30), 10001, 10**30, True, 1.5, "0", "-1", "", " ", "1.5", "abc", "nan", "1e3", "10001"]
)
def test_keep_is_bounded(value):
    with pytest.raises(InvalidValue, match=r"--keep .* from 1 to 10000"):
        bounds.check_keep(value)


@pytest.mark.parametrize(
    ("value", "kept"), [(None, None), (1, 1), (7, 7), (10000, 10000), ("3", 3), (" 10000 ", 10000)]
)
def test_keep_in_range_passes(value, kept):
    assert bounds.check_keep(value) == kept


@pytest.mark.parametrize(
    "value",
    [
        0,
        0.0,
        -0.0,
        -1,
        -1e-9,
        math.nan,
        math.inf,
        -math.inf,
        36500.001,
        1e300,
        "0",
        "-0",
        "-1",
        "nan",
        "inf",
        "-inf",
        "1e300",
        "1e999",
        "",
        " ",
        "thirty",
        "36500.5",
    ],
)
def test_older_than_is_a_finite_positive_bounded_number_of_days(value):
    with pytest.raises(InvalidValue, match=r"--older-than .* above 0 and at most 36500"):
        bounds.check_older_than(value)


@pytest.mark.parametrize("value", [None, 1e-6, 0.5, 30, 36500, "30", "0.5", "36500"])
def test_older_than_in_range_passes_and_the_date_arithmetic_holds(value):
    days = bounds.check_older_than(value)
    assert days == (None if value is None else float(value))
    retention.cutoff_of(days)  # no OverflowError at either end


@pytest.mark.parametrize(
    "value, expected",
    [("5", 5.0), (" 0.1 ", 0.1), ("3600", 3600.0), ("1e2", 100.0), (2, 2.0), (0.5, 0.5), ("+7", 7.0)],
)
def test_bounded_number_accepts(value, expected):
    assert bounded_number(value, "--polling-interval", 0.1, 3600) == expected


@pytest.mark.parametrize(
    "value, why",
    [
        ("", "not a number"),
        ("  ", "not a number"),
        ("abc", "not a number"),
        ("5s", "not a number"),
        ("0x10", "not a number"),
        ("1_000", "not a number"),
        ("nan", "not a number"),
        ("inf", "not a number"),
        ("1e999", "out of range"),
        (float("nan"), "not a finite number"),
        (float("inf"), "not a finite number"),
        (-float("inf"), "not a finite number"),
        ("0", "out of range"),
        ("-1", "out of range"),
        ("0.01", "out of range"),
        ("3600.5", "out of range"),
        ("9" * 400, "out of range"),
        (True, "not a number"),
        ([5], "not a number"),
        (None, "not a number"),
    ],
)
def test_bounded_number_refuses_with_flag_range_and_fix(value, why):
    with pytest.raises(InvalidValue) as info:
        bounded_number(value, "--polling-interval", 0.1, 3600, example=5)
    message = info.value.error_msg
    assert message.startswith("--polling-interval") and why in message
    assert "from 0.1 to 3600" in message and "e.g. --polling-interval 5" in message
    assert all(c.isprintable() for c in message) and len(message) < 300


@pytest.mark.parametrize("value, why", [("2.5", "not a whole number"), (2.5, "not a whole number"), ("1e3", "whole")])
def test_bounded_whole_number(value, why):
    assert bounded_number("7", "--keep", 1, 1000, kind=int, unit="backups") == 7
    with pytest.raises(InvalidValue) as info:
        bounded_number(value, "--keep", 1, 1000, kind=int, unit="backups")
    assert why in info.value.error_msg and "a whole number of backups from 1 to 1000" in info.value.error_msg


@pytest.mark.parametrize(
    "value, expected", [(None, None), ("true", True), ("TRUE", True), ("false", False), (" False ", False)]
)
def test_three_state_flag_values(value, expected):
    assert three_state(value, "--mi") is expected


@pytest.mark.parametrize("value", ["", "yes", "1", "abc", "truee"])
def test_three_state_flag_refuses_other_words(value):
    with pytest.raises(InvalidValue) as info:
        three_state(value, "--use-user-managed-identity")
    assert info.value.error_msg.startswith("--use-user-managed-identity") and "true or false" in info.value.error_msg


def test_a_bounded_number_line_says_why_with_the_value():
    def line(value, kind=float, example=None):
        return refused(InvalidValue, bounded_number, value, "--f", 1, 10, kind=kind, example=example)

    assert line("abc") == "--f 'abc' is not a number: give a number of seconds from 1 to 10, e.g. --f 10."
    assert line("abc", int, 3) == "--f 'abc' is not a number: give a whole number of seconds from 1 to 10, e.g. --f 3."
    assert line("1.5", int).startswith("--f '1.5' is not a whole number: ")
    assert line(1.5, int).startswith("--f '1.5' is not a whole number: ")
    assert line("11").startswith("--f '11' is out of range: ")
    assert line("1e999").startswith("--f '1e999' is out of range: ")
    assert line(float("nan")).startswith("--f 'nan' is not a finite number: ")
    assert line(True).startswith("--f 'True' is not a number: ")


def test_keep_and_older_than_say_their_unit_and_example():
    assert refused(InvalidValue, check_keep, "0") == (
        "--keep '0' is out of range: give a whole number of newest backups of each HSM from 1 to 10000, e.g. --keep 7."
    )
    message = refused(InvalidValue, check_older_than, "-3")
    assert message.startswith("--older-than '-3' ") and message.endswith("e.g. --older-than 30.")


def test_three_state_shows_the_bad_value():
    assert refused(InvalidValue, three_state, "yes", "--f").startswith("--f 'yes' ")
