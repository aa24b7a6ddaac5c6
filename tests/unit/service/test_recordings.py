"""The extension's job handling on REAL recorded Managed HSM traffic (../shared/reference/recordings).

The SDK client is built as the extension builds it (challenge verification on, our JobTracker in the pipeline) but
with a transport that replays the recording, so the tracker, the output shaping and the error mapping meet what
the real service sent.
"""

import io
import json

import pytest
import requests
import urllib3
from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import RequestsTransport

from azext_hsmbackup.errors import EXIT_JOB_FAILED
from azext_hsmbackup.model.target import Target
from azext_hsmbackup.operations.job import job_output
from azext_hsmbackup.service.failures import from_sdk_error
from azext_hsmbackup.service.pipeline import JobTracker, pipeline_kwargs
from tests.stack.constants import RECORDINGS_DIR


def test_recordings_are_there():
    """They lie in shared/ beside the checkout, locally and in CI; without them these tests would prove nothing."""
    assert sorted(RECORDINGS_DIR.glob("*.json")), f"no recordings in {RECORDINGS_DIR}"


class Replay(requests.adapters.BaseAdapter):
    """Answers each request with the next recorded entry of the same method and path."""

    def __init__(self, entries):
        super().__init__()
        self.entries = list(entries)
        self.sent = []

    def send(self, request, **kwargs):
        path = requests.utils.urlparse(request.url).path.replace("//", "/")
        self.sent.append((request.method, path, request.body))
        for index, entry in enumerate(self.entries):
            recorded = requests.utils.urlparse(entry["RequestUri"]).path.replace("//", "/")
            if entry["RequestMethod"] == request.method and recorded == path:
                self.entries.pop(index)
                return self._response(request, entry)
        raise AssertionError(f"unexpected request {request.method} {path}")

    @staticmethod
    def _response(request, entry):
        response = requests.Response()
        response.status_code = entry["StatusCode"]
        body = entry.get("ResponseBody")
        content = b"" if body is None else json.dumps(body).encode()
        headers = {k: v for k, v in entry["ResponseHeaders"].items() if k.lower() != "content-length"}
        headers["Content-Length"] = str(len(content))
        response.headers.update(headers)
        response.raw = urllib3.HTTPResponse(
            body=io.BytesIO(content),
            headers=headers,
            status=entry["StatusCode"],
            preload_content=False,
        )
        response.request, response.url = request, request.url
        response.reason = "Recorded"
        return response

    def close(self):
        pass


class ReplayTransport(RequestsTransport):
    """Sleeps are recorded, not slept: the pacing the real headers ask for is asserted, and costs no time."""

    def __init__(self, session):
        super().__init__(session=session, session_owner=False)
        self.sleeps = []

    def sleep(self, duration):
        self.sleeps.append(duration)


class Credential:
    def __init__(self):
        self.scopes = []

    def get_token(self, *scopes, **_):
        self.scopes.extend(scopes)
        return AccessToken("recorded-token", 2_000_000_000)


def client_for(recording, api_version):
    from azure.keyvault.administration import KeyVaultBackupClient
    from azure.keyvault.administration._internal import HttpChallengeCache

    HttpChallengeCache.clear()
    entries = json.loads((RECORDINGS_DIR / recording).read_text(encoding="utf-8-sig"))["Entries"]
    host = requests.utils.urlparse(entries[0]["RequestUri"]).netloc
    replay = Replay(entries)
    session = requests.Session()
    session.mount("https://", replay)
    tracker = JobTracker()
    credential = Credential()
    transport = ReplayTransport(session)
    client = KeyVaultBackupClient(
        f"https://{host}",
        credential,
        api_version=api_version,
        verify_challenge_resource=True,
        transport=transport,
        **pipeline_kwargs(tracker),  # the extension's own policies: 202 pacing, Retry-After cap, no resent start
    )
    replay.transport = transport
    return client, tracker, replay, credential, f"https://{host}"


R75 = "test_backup_client.pyTestBackupClientTeststest_full_backup_and_restore[7.5].json"
R76 = "test_backup_client.pyTestBackupClientTeststest_full_backup_and_restore[7.6].json"
RERR = "BackupRestoreClientTest.BackupFullErrorStatus_RECORDEDONLY_.json"


def test_sas_backup_and_restore_at_7_5():
    client, tracker, replay, credential, hsm = client_for(R75, "7.5")
    container = "https://blob_storage_account_name.blob.keyvault.azure.net/backup"
    poller = client.begin_backup(container, sas_token="fake-sas", _polling_interval=0)
    folder_url = poller.result().folder_url
    out = job_output(tracker.job, Target(hsm, "managedhsmvaultname", container, "sas"))
    assert out["jobId"] == "bfb4be06adeb4a42b456a4147e14e9be" and out["status"] == "Succeeded"
    assert out["folderUrl"] == folder_url and out["folderName"] == folder_url.rsplit("/", 1)[1]
    assert out["startTime"] == "2024-01-29T20:03:19Z" and out["endTime"].startswith("2024-01-29T20:03")
    assert credential.scopes == ["https://managedhsm.azure.net/.default"]  # from the real challenge, verified
    client.begin_restore(folder_url, sas_token="fake-sas", _polling_interval=0).result()
    assert tracker.job["jobId"] == "dc1547b8ddba45bca3eb33dba3bde178" and tracker.job["status"] == "Succeeded"
    assert not replay.entries
    # Each of the two 202s said Retry-After: 10; the first status check of each job waited for it.
    assert [round(s) for s in replay.transport.sleeps if s > 1] == [10, 10]


def test_managed_identity_prebackup_backup_at_7_6():
    client, tracker, replay, _, hsm = client_for(R76, "7.6")
    container = "https://Sanitized.blob.core.windows.nethsmbackups"  # as the recording's sanitizer left it
    client.begin_pre_backup(container, use_managed_identity=True, _polling_interval=0).result()
    assert tracker.job["jobId"] == "0165b27c3122495bb2d4637a363b1145"
    poller = client.begin_backup(container, use_managed_identity=True, _polling_interval=0)
    out = job_output(tracker.job, Target(hsm, "x", container, "managedIdentity")) if poller.result() else None
    assert out["jobId"] == "9acddefabdbe47aea710457a85ed6613" and out["folderName"].startswith("mhsm-")
    body = json.loads(next(b for m, p, b in replay.sent if m == "POST" and p == "/backup" and b))
    assert body["useManagedIdentity"] is True and "token" not in body


def test_on_this_sdk_the_extension_adds_no_request_to_the_recorded_traffic():
    """The SDK az 2.91 ships (4.8.0b2) has no replay bug, so cache_the_challenge sends nothing: the replay serves
    exactly the recorded requests, in their order, and would fail on any other."""
    from azext_hsmbackup.service.keyvault import cache_the_challenge, sdk_resends_job_start_after_401

    assert not sdk_resends_job_start_after_401()
    client, tracker, replay, _, _ = client_for(R75, "7.5")
    cache_the_challenge(client)
    container = "https://blob_storage_account_name.blob.keyvault.azure.net/backup"
    client.begin_backup(container, sas_token="fake-sas", _polling_interval=0).result()
    assert [(m, p) for m, p, _ in replay.sent] == [("POST", "/backup"), ("POST", "/backup")] + [
        ("GET", f"/backup/{tracker.job['jobId']}/pending")
    ] * 3


def test_real_failed_job_is_one_line_with_the_service_code_and_exit_4():
    client, tracker, _, _, hsm = client_for(RERR, "7.5")
    poller = client.begin_backup(
        "https://tdb694d9204c847a6.blob.core.windows.net", sas_token="sv=x&sig=SECRET", _polling_interval=0
    )
    with pytest.raises(Exception) as info:
        poller.result()
    mapped = from_sdk_error(info.value, hsm, "backup", secrets=["sv=x&sig=SECRET"])
    assert mapped.code == EXIT_JOB_FAILED
    message = mapped_message(mapped)
    assert message.startswith(
        f"The backup job 06be028e4eb64c6686ebebd6c018dc84 on {hsm} failed: (InvalidQueryParameterValue)"
    )
    assert "Value for one of the query parameters specified in the request URI is invalid." in message
    assert "\n" not in message and "<?xml" not in message and "RequestId" not in message
    assert tracker.job["status"] == "Failed"


def mapped_message(exit_with):
    return exit_with.error.error_msg
