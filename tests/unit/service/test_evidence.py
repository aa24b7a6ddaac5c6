"""The HSM's word on a backup folder (service/evidence.py): its pre-restore check through the real SDK and
the extension's pipeline, with the network scripted - what each answer becomes, what is sent, and the same request
where an az's SDK has no pre-restore call."""

import json
from types import SimpleNamespace
from unittest import mock

import pytest

from azext_hsmbackup.model import retention
from azext_hsmbackup.service import evidence
from tests.unit.fakes import CONTAINER
from tests.unit.service.test_pipeline import HSM, JOB, RecordingTransport, Script, challenge, job

FOLDER = "mhsm-myhsm-2026120400000000"


class Clock:
    now = 0.0


def restore_started():
    return 202, {"azure-asyncoperation": f"{HSM}/restore/{JOB}/pending", "Retry-After": "1"}, job()


def restore_status(state="Succeeded", error=None):
    body = {**job(state), "azureStorageBlobContainerUri": None}
    if error:
        body["error"], body["statusDetails"] = {"code": error, "message": f"{error} says so."}, error
    return 200, {}, body


def conflict():
    return 409, {}, {"error": {"code": "Conflict", "message": "Another backup operation is in progress."}}


def judge_with(steps, auth=None):
    """An HsmJudge whose clients talk to `steps`; (judge, script)."""
    from azure.keyvault.administration import KeyVaultBackupClient

    from azext_hsmbackup.service.pipeline import pipeline_kwargs

    script = Script(steps)

    def client(cli_ctx, hsm_url, api_version, tracker=None, credential=None, session=None):
        sdk = KeyVaultBackupClient(
            hsm_url,
            SimpleNamespace(get_token=lambda *s, **k: SimpleNamespace(token="a.b.c", expires_on=4102444800)),
            api_version=api_version,
            transport=RecordingTransport(script, Clock()),
            **pipeline_kwargs(tracker),
        )
        return sdk

    judge = evidence.HsmJudge(None, CONTAINER, auth or {"use_managed_identity": True}, lambda n: HSM, credential="C")
    return judge, script, client


@pytest.fixture(autouse=True)
def _fresh_challenge_cache():
    from azure.keyvault.administration._internal import HttpChallengeCache

    HttpChallengeCache.clear()


def verdict(steps, **kwargs):
    judge, script, client = judge_with(steps, **kwargs)
    with mock.patch("azext_hsmbackup.service.evidence.backup_client", client), mock.patch("time.sleep"):
        return judge.verdict("myhsm", FOLDER), script


def test_a_check_that_succeeds_is_the_hsms_word_that_the_backup_is_finished():
    result, script = verdict([challenge(), restore_started(), restore_status()])
    assert result == retention.Verdict(retention.FINISHED)
    assert [(m, p) for m, p, _ in script.sent] == [("PUT", "/prerestore")] * 2 + [("GET", f"/restore/{JOB}/pending")]


def test_a_check_that_fails_on_the_folder_says_it_is_not_a_finished_backup():
    result, _ = verdict([challenge(), restore_started(), restore_status("Failed", "InvalidBackupFolder")])
    assert (
        result.state == retention.NOT_FINISHED and "(InvalidBackupFolder) InvalidBackupFolder says so." in result.reason
    )


@pytest.mark.parametrize("code", evidence.STORAGE_ACCESS_CODES)
def test_a_check_that_fails_on_storage_access_is_no_verdict_on_the_folder(code):
    result, _ = verdict([challenge(), restore_started(), restore_status("Failed", code)])
    assert result.state == retention.UNKNOWN and code in result.reason and result.code == 4


@pytest.mark.parametrize(("status", "code"), [(401, 5), (403, 5), (404, 3), (500, 1)])
def test_an_hsm_that_refuses_the_check_gives_no_verdict_and_the_exit_code_of_why(status, code):
    refused = (status, {}, {"error": {"code": "Nope", "message": "No."}})
    steps = [challenge(), refused] + ([refused] * 3 if status == 500 else [])
    result, _ = verdict(steps)
    assert result.state == retention.UNKNOWN and result.code == code


def test_a_busy_hsm_is_asked_again_until_it_is_free():
    result, script = verdict([challenge(), conflict(), conflict(), restore_started(), restore_status()])
    assert result.state == retention.FINISHED and [p for m, p, a in script.sent if a].count("/prerestore") == 3


def test_an_hsm_busy_for_longer_than_the_wait_gives_no_verdict(monkeypatch):
    clock = iter(range(0, 1000, 10))  # each look at the clock is 10 s later
    monkeypatch.setattr(evidence.time, "monotonic", lambda: next(clock))
    result, _ = verdict([challenge(), *[conflict()] * 5])
    assert result.state == retention.UNKNOWN and result.code == 6 and "409" in result.reason


def test_an_odd_answer_to_the_check_is_no_verdict():
    odd = (200, {}, {**job("Succeeded"), "startTime": "soon"})
    result, _ = verdict([challenge(), restore_started(), odd])
    assert result.state == retention.UNKNOWN and result.code == 11 and "cannot be read" in result.reason


def test_without_the_sdks_call_the_same_request_goes_through_the_pipeline():
    """az before 2.88 ships an SDK without begin_pre_restore: the body and path the SDK would send, our pacing."""
    from azure.keyvault.administration import KeyVaultBackupClient

    from azext_hsmbackup.service.pipeline import JobTracker, pipeline_kwargs

    script = Script([challenge(), restore_started(), restore_status("InProgress"), restore_status()])
    tracker = JobTracker()
    sdk = KeyVaultBackupClient(
        HSM,
        SimpleNamespace(get_token=lambda *s, **k: SimpleNamespace(token="a.b.c", expires_on=4102444800)),
        api_version="2025-07-01",
        transport=RecordingTransport(script, Clock()),
        **pipeline_kwargs(tracker),
    )
    judge = evidence.HsmJudge(None, CONTAINER, {"sas_token": "sv=1&sig=abc"}, lambda n: HSM, credential="C")
    with mock.patch("time.sleep"):
        done = judge._pre_restore(SimpleNamespace(send_request=sdk.send_request), tracker, FOLDER)
    assert done["status"] == "Succeeded" and done["jobId"] == JOB
    assert [(m, p) for m, p, _ in script.sent] == [("PUT", "/prerestore")] * 2 + [
        ("GET", f"/restore/{JOB}/pending")
    ] * 2
    body = json.loads(script.bodies[1])
    assert body == {
        "sasTokenParameters": {"storageResourceUri": CONTAINER, "token": "sv=1&sig=abc"},
        "folderToRestore": FOLDER,
    }
    assert "api-version=2025-07-01" in script.urls[1]


def test_a_busy_hsm_is_asked_again_every_two_seconds_at_most_within_the_wait(monkeypatch):
    now, slept = [0.0], []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(evidence, "time", SimpleNamespace(monotonic=lambda: now[0], sleep=sleep))
    result, script = verdict([challenge(), *[conflict()] * 20])
    assert slept == [1.0] + [2.0] * 7  # asked at 0, 1, 3, ... 15 s: then no verdict
    assert result.state == retention.UNKNOWN and [p for m, p, a in script.sent if a].count("/prerestore") == 9
