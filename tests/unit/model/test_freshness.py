"""Freshness of one HSM (model/freshness.py): --max-age, every state, the age boundaries, clock skew, and how few
folders the HSM is asked about."""

from datetime import timedelta

import pytest

from azext_hsmbackup.model import freshness as f
from azext_hsmbackup.model.fleet import Member
from azext_hsmbackup.model.problems import InvalidValue
from azext_hsmbackup.model.retention import NOT_FINISHED, UNKNOWN, Folder, Verdict
from tests.unit.fakes import STAMP, Judge, blob

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
MAX = 26 * HOUR


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("26h", 26 * 3600), ("26H", 26 * 3600), (" 7d ", 7 * 86400), ("90m", 5400), ("2w", 14 * 86400),
        ("1.5d", 36 * 3600), ("1m", 60), ("366d", 366 * 86400), ("P1D", 86400), ("p1d", 86400),
        ("PT26H", 26 * 3600), ("P1DT2H", 26 * 3600), ("P2W", 14 * 86400), ("PT90M", 5400), ("PT60S", 60),
        ("P1DT2H30M", 95400), ("PT1,5H", 5400), ("P366D", 366 * 86400),
    ],
)  # fmt: skip
def test_max_age_takes_short_units_and_iso_8601(text, seconds):
    assert f.check_max_age(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "is not a duration"), ("   ", "is not a duration"), ("\t\n", "is not a duration"),
        ("0h", "is out of range"), ("0d", "is out of range"), ("PT0S", "is out of range"), ("59s", "is not a"),
        ("PT59S", "is out of range"), ("367d", "is out of range"), ("P367D", "is out of range"),
        ("53w", "is out of range"), ("9" * 30 + "d", "is out of range"), ("-1h", "is negative"),
        ("-P1D", "is negative"), ("26", "has no unit"), ("1.5", "has no unit"), ("nan", "is not a duration"),
        ("inf", "is not a duration"), ("infd", "is not a duration"), ("1e3h", "is not a duration"),
        ("P1M", "months or years"), ("P1Y", "months or years"), ("P1Y2D", "months or years"),
        ("P", "is not a duration"), ("PT", "is not a duration"), ("P1DT", "is not a duration"),
        ("26 h", "is not a duration"), ("h", "is not a duration"), ("1d2h", "is not a duration"),
        ("٣d", "is not a duration"), ("2\x00d", "is not a duration"), ("x" * 5000, "is not a duration"),
    ],
)  # fmt: skip
def test_max_age_refuses_anything_else_in_one_line_naming_the_flag_and_the_forms(text, why):
    with pytest.raises(InvalidValue) as info:
        f.check_max_age(text)
    message = info.value.error_msg
    assert message.startswith("--max-age ") and why in message, message
    assert "26h" in message and "P1D" in message and "366 days" in message
    assert "\n" not in message and len(message) < 300


@pytest.mark.parametrize("value", [None, 26, 26.0, True, ["26h"], {"h": 26}])
def test_max_age_refuses_what_is_not_text(value):
    with pytest.raises(InvalidValue, match=r"--max-age .* is not a duration"):
        f.check_max_age(value)


def test_durations_and_ages_as_printed():
    assert [f.iso_duration(d) for d in (26 * HOUR, DAY, 95400 * timedelta(seconds=1), timedelta(seconds=45))] == [
        "P1DT2H", "P1D", "P1DT2H30M", "PT45S",
    ]  # fmt: skip
    minute = timedelta(minutes=1)
    ages = (26 * HOUR, 5 * HOUR + 10 * minute, 45 * minute, timedelta(seconds=30), -HOUR, DAY, 5 * HOUR)
    assert [f.describe_age(d) for d in ages] == ["1d 2h", "5h 10m", "45m", "30s", "0s", "1d", "5h"]


def folder(when, blobs=2, hsm="myhsm"):
    name = f"mhsm-{hsm}-{when:%Y%m%d%H%M%S}{when.microsecond // 10000:02d}"
    return Folder(
        name, hsm, when, [blob(f"{name}/k{i}", created=when + timedelta(seconds=i + 1)) for i in range(blobs)]
    )


def state_of(folders, now=STAMP, judge=None, max_age=MAX):
    judge = judge or Judge()
    return f.freshness_of(folders, judge, lambda _: pytest.fail("listed again"), now, max_age), judge


def test_fresh_rests_on_the_newest_folder_the_hsm_confirms_and_asks_no_further():
    newest, older = folder(STAMP - HOUR), folder(STAMP - 2 * DAY)
    result, judge = state_of([newest, older])
    assert (result.state, result.folder, result.confirmed, result.reason) == (f.FRESH, newest, True, None)
    assert judge.asked == [newest.name]


def test_an_age_of_exactly_max_age_is_fresh_one_second_more_is_stale():
    exactly, _ = state_of([folder(STAMP - MAX)])
    assert exactly.state == f.FRESH
    past, _ = state_of([folder(STAMP - MAX - timedelta(seconds=1))])
    assert (past.state, past.confirmed) == (f.STALE, True)
    assert "older than --max-age 1d 2h" in past.reason and past.folder.name in past.reason


def test_unfinished_newer_folders_are_passed_over_for_an_older_finished_one():
    running, failed, done = folder(STAMP - HOUR), folder(STAMP - 2 * HOUR), folder(STAMP - 3 * DAY)
    judge = Judge(**{running.name: Verdict(NOT_FINISHED, "still running"), failed.name: Verdict(NOT_FINISHED, "x")})
    result, judge = state_of([running, failed, done], judge=judge)
    assert (result.state, result.folder, result.confirmed) == (f.STALE, done, True)
    assert judge.asked == [running.name, failed.name, done.name]


def test_missing_says_whether_there_is_no_folder_or_only_unfinished_ones():
    nothing, _ = state_of([])
    assert (nothing.state, nothing.folder) == (f.MISSING, None)
    assert nothing.reason == "no backup folder of this HSM in the container"
    half = folder(STAMP - HOUR)
    only_half, _ = state_of([half], judge=Judge(**{half.name: Verdict(NOT_FINISHED, "(InvalidBackup) torn")}))
    assert only_half.state == f.MISSING
    assert only_half.reason == (
        f"1 folder(s), none a finished backup; the newest, {half.name}, is not a finished backup: (InvalidBackup) torn"
    )


def test_a_folder_storage_shows_is_no_backup_is_passed_over_unasked():
    empty = folder(STAMP - HOUR, blobs=0)
    result, judge = state_of([empty])
    assert result.state == f.MISSING and judge.asked == []
    assert result.reason.endswith("is not a backup: it holds no blobs")


def test_clock_skew_a_folder_dated_a_little_ahead_is_fresh_one_far_ahead_is_passed_over():
    ahead = folder(STAMP + timedelta(minutes=14))
    result, _ = state_of([ahead])
    assert result.state == f.FRESH
    entry = f.freshness_entry(Member("https://myhsm.x", "myhsm"), result, "https://a/c", STAMP, MAX)
    assert (entry["ageSeconds"], entry["age"]) == (0, "0s")  # never a negative age
    future, real = folder(STAMP + timedelta(minutes=16)), folder(STAMP - 30 * HOUR)
    result, judge = state_of([future, real])
    assert (result.state, result.folder) == (f.STALE, real) and judge.asked == [real.name]
    only_future, _ = state_of([future])
    assert only_future.state == f.MISSING and "in the future" in only_future.reason


def test_an_hsm_that_cannot_confirm_a_recent_folder_is_unknown_an_old_one_stale_unconfirmed():
    recent = folder(STAMP - HOUR)
    busy = Verdict(UNKNOWN, "storage refused the HSM (AuthorizationFailure)", 5)
    result, judge = state_of([recent, folder(STAMP - 2 * DAY)], judge=Judge(**{recent.name: busy}))
    assert (result.state, result.folder, result.confirmed) == (f.UNKNOWN, recent, False)
    assert judge.asked == [recent.name]  # no older folder can make it fresh, nor is it known to be stale
    assert result.reason == f"the HSM could not confirm {recent.name}: storage refused the HSM (AuthorizationFailure)"
    old = folder(STAMP - 2 * DAY)
    result, _ = state_of([old], judge=Judge(**{old.name: busy}))
    assert (result.state, result.folder, result.confirmed) == (f.STALE, old, False)
    assert result.reason.startswith("no finished backup within --max-age 1d 2h; whether ")


def test_the_entry_says_everything_a_script_needs():
    done = folder(STAMP - 3 * HOUR - timedelta(minutes=5))
    result, _ = state_of([done])
    member = Member("https://myhsm.managedhsm.azure.net", "myhsm", "/subscriptions/x/rg/y")
    entry = f.freshness_entry(member, result, "https://acct.blob.core.windows.net/bkp", STAMP, MAX)
    assert entry == {
        "hsmName": "myhsm",
        "hsmUrl": "https://myhsm.managedhsm.azure.net",
        "resourceId": "/subscriptions/x/rg/y",
        "state": "Fresh",
        "lastBackupTime": "2026-01-01T08:55:00.500000Z",
        "lastBackupFolder": done.name,
        "lastBackupUrl": f"https://acct.blob.core.windows.net/bkp/{done.name}",
        "confirmed": True,
        "age": "3h 5m",
        "ageSeconds": 11100,
        "maxAge": "P1DT2H",
        "reason": None,
    }
    skipped = f.freshness_entry(member, f.Freshness(f.SKIPPED, reason="not provisioned"), "https://a/c", STAMP, MAX)
    assert (skipped["state"], skipped["lastBackupTime"], skipped["age"], skipped["reason"]) == (
        "Skipped", None, None, "not provisioned",
    )  # fmt: skip


def test_the_boundaries_of_the_rules_that_decide_without_the_hsm():
    at_skew = folder(STAMP + timedelta(minutes=15))  # exactly the clock skew ahead: still counts
    assert state_of([at_skew])[0].state == f.FRESH
    busy = Verdict(UNKNOWN, "busy", 6)
    edge = folder(STAMP - MAX)  # an unconfirmed folder exactly --max-age old could still be fresh: unknown
    assert state_of([edge], judge=Judge(**{edge.name: busy}))[0].state == f.UNKNOWN
    assert f.iso_duration(timedelta(0)) == "PT0S"


def test_a_folder_that_is_no_backup_is_passed_over_for_the_next_one():
    empty, done = folder(STAMP - HOUR, blobs=0), folder(STAMP - 2 * HOUR)
    result, judge = state_of([empty, done])
    assert (result.state, result.folder) == (f.FRESH, done) and judge.asked == [done.name]


def test_stale_unconfirmed_names_the_newer_folders_that_do_not_count():
    running, old = folder(STAMP - HOUR), folder(STAMP - 3 * DAY)
    judge = Judge(**{running.name: Verdict(NOT_FINISHED, "still running"), old.name: Verdict(UNKNOWN, "busy", 6)})
    result, _ = state_of([running, old], judge=judge)
    assert (result.state, result.confirmed) == (f.STALE, False)
    assert result.reason == (
        f"no finished backup within --max-age 1d 2h (1 newer folder(s) do not count; the newest, {running.name}, is "
        f"not a finished backup: still running); whether {old.name} is one could not be confirmed: busy"
    )


def test_a_refusal_word_for_word():
    with pytest.raises(InvalidValue) as info:
        f.check_max_age("-2h")
    assert info.value.error_msg == (
        "--max-age '-2h' is negative: give minutes, hours, days or weeks such as 26h, 90m, 7d or 2w, or ISO 8601 "
        "such as P1D or PT26H, from 1 minute to 366 days."
    )
    messages = []
    for value in ("P1M", "26", "x", "0h"):
        with pytest.raises(InvalidValue) as info:
            f.check_max_age(value)
        messages.append(info.value.error_msg.split(":")[0])
    assert messages == [
        "--max-age 'P1M' counts months or years, which have no fixed length",
        "--max-age '26' has no unit",
        "--max-age 'x' is not a duration",
        "--max-age '0h' is out of range",
    ]
