"""What the service sends back is read as untrusted input (model/answers.py): job documents field by field, JSON bounded
before it is parsed."""

import json

import pytest

from azext_hsmbackup.model import answers
from azext_hsmbackup.model.answers import UnreadableAnswer, parse_json, read_job
from tests.unit.fakes import JOB

FOLDER = "https://acct.blob.core.windows.net/bkp/mhsm-myhsm-2026120400000000"


def doc(**fields):
    base = {
        "status": "Succeeded",
        "statusDetails": None,
        "error": None,
        "startTime": 1764800000,
        "endTime": 1764800009,
        "jobId": JOB,
        "azureStorageBlobContainerUri": FOLDER,
    }
    return {**base, **fields}


def test_a_real_document_is_read_as_it_is():
    assert read_job(doc(), JOB, folder_expected=True) == doc()


def test_the_status_and_the_job_id_are_read_in_any_case():
    job = read_job(doc(status="inprogress", jobId=JOB.upper(), azureStorageBlobContainerUri=None))
    assert (job["status"], job["jobId"]) == ("InProgress", JOB)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("Succeeded", "is a string, not a job document"),
        ([doc()], "is an array, not a job document"),
        (None, "is null, not a job document"),
        (7, "is a number, not a job document"),
        (doc(jobId=None), "names no job"),
        (doc(jobId="j1"), "names the job 'j1', which is not a job id"),
        (doc(jobId=7), "names the job '7', which is not a job id"),
        (doc(status="Paused"), "gives the status 'Paused', which the extension does not know"),
        (doc(status=None), "gives the status 'null'"),
        (doc(status=["Succeeded"]), "gives the status '[\"Succeeded\"]'"),
        (doc(startTime=1e30), "gives startTime '1e+30', which is not a time"),
        (doc(startTime=-1), "gives startTime '-1', which is not a time"),
        (doc(endTime=answers.MAX_UNIX_TIME + 1), "gives endTime '253402300800', which is not a time"),
        (doc(startTime="1764800000"), "gives startTime as a string '1764800000', not a time"),
        (doc(startTime=True), "gives startTime as a boolean 'true', not a time"),
        (doc(startTime=float("nan")), "gives startTime 'NaN', which is not a time"),
        (doc(endTime=float("inf")), "gives endTime 'Infinity', which is not a time"),
        (doc(error="boom"), "gives its error as a string, not an object"),
        (doc(error={"code": 7}), "gives code as a number, not text"),
        (doc(statusDetails={"a": 1}), "gives statusDetails as an object, not text"),
        (doc(azureStorageBlobContainerUri=7), "gives azureStorageBlobContainerUri as a number, not a URL"),
        (doc(azureStorageBlobContainerUri="http://acct/bkp/f"), "which is not the URL of a folder"),
        (doc(azureStorageBlobContainerUri="https://acct"), "which is not the URL of a folder"),
        (doc(azureStorageBlobContainerUri=f"{FOLDER}\x1b[2J"), "which is not the URL of a folder"),
        (doc(azureStorageBlobContainerUri=f"{FOLDER}\u202e"), "which is not the URL of a folder"),
        (doc(azureStorageBlobContainerUri="https://a/" + "x" * 2048), "which is not the URL of a folder"),
        (doc(azureStorageBlobContainerUri=None), "says Succeeded but names no backup folder"),
    ],
)
def test_a_document_of_the_wrong_shape_is_unreadable_and_says_which_field(body, words):
    with pytest.raises(UnreadableAnswer) as caught:
        read_job(body, folder_expected=True)
    assert words in caught.value.what


def test_the_job_is_named_when_its_id_was_readable_or_asked_for():
    with pytest.raises(UnreadableAnswer) as caught:
        read_job(doc(startTime=1e30))
    assert caught.value.job_id == JOB
    with pytest.raises(UnreadableAnswer) as caught:
        read_job([], JOB)
    assert caught.value.job_id == JOB
    with pytest.raises(UnreadableAnswer) as caught:
        read_job(doc(jobId="1" * 32), JOB)  # an answer about another job than the one asked for
    assert caught.value.job_id == JOB and "not the one asked for" in caught.value.what


def test_a_pre_check_names_no_folder_and_a_huge_message_is_cut_before_anything_else():
    job = read_job(doc(azureStorageBlobContainerUri=None, error={"code": "X", "message": "m" * 10**6}))
    assert job["azureStorageBlobContainerUri"] is None and len(job["error"]["message"]) == answers.MAX_FIELD_CHARS


def test_times_at_the_bounds():
    assert read_job(doc(startTime=0, endTime=answers.MAX_UNIX_TIME))["endTime"] == answers.MAX_UNIX_TIME
    assert read_job(doc(startTime=1764800000.9))["startTime"] == 1764800000
    assert answers.iso_time(answers.MAX_UNIX_TIME) == "9999-12-31T23:59:59Z" and answers.iso_time(0) is None


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested more than 32 levels deep"),
        ("{" * 40, "nested more than 32 levels deep"),
        (b"x" * (answers.MAX_BODY_BYTES + 1), "more than the 1048576 a job's answer can be"),
        (b"\xff\xfe", "not UTF-8 text"),
        (b"", "not JSON"),
        (b"<html>", "not JSON"),
        (None, "not text"),
    ],
)
def test_json_that_cannot_be_a_jobs_answer_is_refused_before_parsing(data, words):
    with pytest.raises(UnreadableAnswer) as caught:
        parse_json(data)
    assert words in caught.value.what


def test_brackets_inside_strings_do_not_count_as_depth():
    text = json.dumps({"message": "[" * 1000 + '\\"{' * 100})
    assert answers.nesting_depth(text) == 1 and parse_json(text.encode())["message"].startswith("[[[")
    assert answers.nesting_depth('[[["]"]]]') == 3
    assert answers.nesting_depth("[" * 32 + "]" * 32) == 32 and parse_json(("[" * 32 + "]" * 32).encode())  # allowed
