"""Backup folder names (model/folders.py) and what storage alone can tell of a folder's files."""

from datetime import datetime, timedelta

import pytest

from azext_hsmbackup.model import folders as folders_model
from azext_hsmbackup.model.folders import check_folder_name
from azext_hsmbackup.model.problems import InvalidValue
from azext_hsmbackup.model.urls import (
    hsm_url_from_id,
)
from tests.unit.fakes import FOLDER, MHSM, STAMP, SUBSCRIPTION, UTC, blob, refused


@pytest.mark.parametrize(
    "name, hsm, when",
    [
        ("mhsm-mcpatinotesthsm-2021091800411638", "mcpatinotesthsm", datetime(2021, 9, 18, 0, 41, 16, 380000, UTC)),
        ("mhsm-cli-test-hsm-bcup-000002-2023112206465081", "cli-test-hsm-bcup-000002", None),
        ("mhsm-myhsm-2026010112000050", "myhsm", STAMP),
    ],
)
def test_folder_names_the_service_writes_parse(name, hsm, when):
    parsed = folders_model.parse_folder_name(name)
    assert parsed[0] == hsm and (when is None or parsed[1] == when)
    assert folders_model.check_folder_name(name) == name


NOT_BACKUP_FOLDERS = [
    "",
    " ",
    "important",
    "important/x.txt",
    "mhsm-notes.txt",
    "mhsm-myhsm-2026010112000050/keys",
    "mhsm-myhsm-2026010112000050/",
    "/mhsm-myhsm-2026010112000050",
    "../x",
    "../mhsm-myhsm-2026010112000050",
    "mhsm-myhsm-2026010112000050-copy",
    "mhsm-myhsm-20260101",  # a prefix of a backup name
    "mhsm-myhsm-202601011200005",
    "mhsm-myhsm-20260101120000500",
    "mhsm-a-2026010112000050",  # HSM names have 3-24 characters
    "mhsm-myhsm--2026010112000050",
    "mhsm--myhsm-2026010112000050",
    "mhsm-" + "h" * 25 + "-2026010112000050",
    "mhsm-myhsm-2026023012000050",  # 30 February
    "mhsm-myhsm-2026010124000050",  # hour 24
    "mhsm-myhsm-2026130112000050",  # month 13
    "mhsm-myhsm-0000010112000050",  # year 0
    "mhsm-myhsm-2026010112000050\n",
    " mhsm-myhsm-2026010112000050",
    "MHSM-myhsm-2026010112000050",
    "mhsm-myhsm-٢٠٢٦٠١٠١١٢٠٠٠٠٥٠",  # digits of another script
    "mhsm-my_hsm-2026010112000050",
    "mhsm-myhsm-2026010112000050?comp=list",
    "mhsm-myhsm-*",
]


@pytest.mark.parametrize("name", NOT_BACKUP_FOLDERS)
def test_anything_else_is_not_a_backup_folder(name):
    assert folders_model.parse_folder_name(name) is None
    with pytest.raises(InvalidValue) as caught:
        folders_model.check_folder_name(name)
    message = str(caught.value.error_msg)
    assert "--backup-folder" in message and "mhsm-<hsm name>-<yyyyMMddHHmmssff>" in message and "\n" not in message


@pytest.mark.parametrize("value", [None, 5, b"mhsm-myhsm-2026010112000050", ["x"]])
def test_a_folder_name_of_the_wrong_type_is_not_a_backup_folder(value):
    assert folders_model.parse_folder_name(value) is None


STAMP_FOLDER = "mhsm-myhsm-2026010112000050"


@pytest.mark.parametrize(
    "blobs, problem",
    [
        ([], "it holds no blobs"),
        ([blob(f"{STAMP_FOLDER}/a", size=0)], "it has 1 empty blob"),
        ([blob(f"{STAMP_FOLDER}/a", created=STAMP + timedelta(days=40))], "not written by a backup started at"),
        ([blob(f"{STAMP_FOLDER}/a", created=STAMP - timedelta(hours=1))], "not written by a backup started at"),
        ([blob(f"{STAMP_FOLDER}/a", created=None)], "not written by a backup started at"),
        (
            [blob(f"{STAMP_FOLDER}/a"), blob(f"{STAMP_FOLDER}/notes.txt", created=STAMP + timedelta(days=2))],
            "it has 1 blob not written",
        ),
    ],
)
def test_a_folder_that_only_looks_like_a_backup_is_not_one(blobs, problem):
    assert problem in folders_model.blob_problem(blobs, STAMP)


def test_within_the_job_window_and_clock_skew_the_blobs_are_a_backups():
    for created in (STAMP - timedelta(minutes=14), STAMP + timedelta(hours=24, minutes=14)):
        assert folders_model.blob_problem([blob(f"{STAMP_FOLDER}/a", created=created)], STAMP) is None


@pytest.mark.parametrize("name", ["", None, "/abs", "a/../b", "..", "a?b", "a#b", "a\\b"])
def test_a_folder_name_that_escapes_or_is_not_a_name_is_refused(name):
    assert refused(InvalidValue, check_folder_name, name, "--flag-y").startswith("--flag-y ")


def test_a_folder_name_is_returned_as_given():
    assert check_folder_name(FOLDER) == FOLDER


@pytest.mark.parametrize(
    "name",
    [
        f"a/{FOLDER}",
        f"{FOLDER}/",
        f"{FOLDER}/x",
        "mhsm-a-2026112812000000",  # an HSM name has 3-24 characters
        "mhsm-9bc-2026112812000000",  # and starts with a letter
        "mhsm-myhsm-2026023012000000",  # February 30th is no time
        "mhsm-myhsm-202611281200000",  # 15 digits
        "a..b",
    ],
    ids=["inner path", "trailing slash", "below", "1-letter hsm", "digit first", "no such day", "short stamp", "dots"],
)
def test_only_a_folder_name_of_the_services_form_is_accepted(name):
    assert refused(InvalidValue, check_folder_name, name).startswith("--backup-folder ")


def test_a_bad_folder_name_is_shown():
    assert "'../x'" in refused(InvalidValue, check_folder_name, "../x")


def test_folder_and_hsm_names_may_hold_any_letter_at_either_end():
    assert check_folder_name("mhsm-XhsmZ-2026112812000000") == "mhsm-XhsmZ-2026112812000000"
    rid = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/g/providers/Microsoft.KeyVault/managedHSMs/hsmX"
    assert hsm_url_from_id(rid, MHSM) == "https://hsmx.managedhsm.azure.net"


def test_what_storage_says_against_a_folder_word_for_word():
    assert folders_model.blob_problem([], STAMP) == "it holds no blobs"
    assert folders_model.blob_problem([blob("f/a", size=0)], STAMP) == "it has 1 empty blob"
    assert folders_model.blob_problem([blob("f/a", size=0), blob("f/b", size=0)], STAMP) == "it has 2 empty blobs"
    late = STAMP + timedelta(days=3)
    assert folders_model.blob_problem([blob("f/a", created=late), blob("f/b", created=late)], STAMP) == (
        "it has 2 blobs not written by a backup started at 2026-01-01T12:00:00.500000Z"
    )


def test_the_job_window_and_the_skew_include_their_ends():
    earliest = STAMP - folders_model.CLOCK_SKEW
    latest = STAMP + folders_model.JOB_WINDOW + folders_model.CLOCK_SKEW
    for created in (earliest, latest):
        assert folders_model.blob_problem([blob("f/a", created=created)], STAMP) is None
    for created in (earliest - timedelta(microseconds=1), latest + timedelta(microseconds=1)):
        assert folders_model.blob_problem([blob("f/a", created=created)], STAMP) is not None


def test_a_folder_names_hundredths_are_its_time():
    assert folders_model.parse_folder_name("mhsm-myhsm-2026010112000099")[1].microsecond == 990000
    assert folders_model.check_folder_name("mhsm-myhsm-2026010112000099") == "mhsm-myhsm-2026010112000099"
