"""How the extension's Managed HSM client paces and repeats requests (service/pipeline.py), through the real SDK and
azure-core pipeline: only the network is scripted and the transport's sleep is recorded, so these tests take no
time although they pin waits of up to 30 s."""

import io
import json
from http.client import RemoteDisconnected
from urllib.parse import urlsplit

import pytest
import requests
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline.policies import RetryPolicy
from azure.core.pipeline.transport import RequestsTransport
from urllib3.exceptions import ProtocolError

from azext_hsmbackup._constants import MAX_RETRY_AFTER_S
from azext_hsmbackup.service.pipeline import JobTracker, StartAnswerLost, pipeline_kwargs, retry_after_seconds
from tests.unit.fakes import JOB, Clock

HSM = "https://myhsm.managedhsm.azure.net"


CONTAINER = "https://account.blob.core.windows.net/backups"


CHALLENGE = 'Bearer authorization="https://login.microsoftonline.com/tenant", resource="https://managedhsm.azure.net"'


def job(status="InProgress"):
    return {
        "status": status,
        "statusDetails": None,
        "error": None,
        "startTime": 1764700000,
        "endTime": None if status == "InProgress" else 1764700010,
        "jobId": JOB,
        "azureStorageBlobContainerUri": None if status == "InProgress" else CONTAINER + "/mhsm-myhsm-2025120300000000",
    }


def challenge():
    return 401, {"WWW-Authenticate": CHALLENGE}, None


def accepted(family="backup", **headers):
    return 202, {"azure-asyncoperation": f"{HSM}/{family}/{JOB}/pending", **headers}, job()


def status(state="InProgress", **headers):
    return 200, headers, job(state)


def lost_answer():
    return requests.exceptions.ConnectionError(
        ProtocolError("Connection aborted.", RemoteDisconnected("Remote end closed connection without response"))
    )


class Script(requests.adapters.BaseAdapter):
    """Answers each request with the next scripted (status, headers, body) or raises the scripted error."""

    def __init__(self, steps):
        super().__init__()
        self.steps, self.sent, self.bodies, self.urls = list(steps), [], [], []

    def send(self, request, **kwargs):
        self.sent.append((request.method, urlsplit(request.url).path, "Authorization" in request.headers))
        self.bodies.append(request.body)
        self.urls.append(request.url)
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        code, headers, body = step
        content = b"" if body is None else json.dumps(body).encode()
        response = requests.Response()
        response.status_code, response.url, response.request = code, request.url, request
        response.headers = requests.structures.CaseInsensitiveDict(
            {"Content-Type": "application/json; charset=utf-8", "Content-Length": str(len(content)), **headers}
        )
        response.raw = io.BytesIO(content)
        return response

    def close(self):
        pass


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The tracker's clock, moved by the transport's sleeps: a wait the SDK has slept is not slept again."""
    import time
    from types import SimpleNamespace

    from azext_hsmbackup.service import pipeline as pipeline_module

    moved = Clock()
    monkeypatch.setattr(pipeline_module, "time", SimpleNamespace(monotonic=moved, time=time.time))
    return moved


class RecordingTransport(RequestsTransport):
    def __init__(self, script, clock):
        session = requests.Session()
        session.mount("https://", script)
        super().__init__(session=session, session_owner=False)
        self.slept, self.clock = [], clock

    def sleep(self, duration):
        if duration:  # the SDK's own gap is 0: the tracker paces
            self.slept.append(duration)
            self.clock.now += duration


class Credential:
    def get_token(self, *scopes, **kwargs):
        return AccessToken("a.b.c", 4102444800)


@pytest.fixture(autouse=True)
def _fresh_challenge_cache():
    from azure.keyvault.administration._internal import HttpChallengeCache

    HttpChallengeCache.clear()


def client(steps, retry_policy=None, tracker=None):
    """(KeyVaultBackupClient as backup_client builds it, its script, its transport)."""
    from azure.keyvault.administration import KeyVaultBackupClient

    from azext_hsmbackup.service import pipeline as pipeline_module

    script = Script(steps)
    transport = RecordingTransport(script, pipeline_module.time.monotonic)
    kwargs = pipeline_kwargs(tracker or JobTracker())
    if retry_policy is not None:
        kwargs["retry_policy"] = retry_policy
    sdk = KeyVaultBackupClient(
        HSM, Credential(), api_version="7.6", verify_challenge_resource=True, transport=transport, **kwargs
    )
    return sdk, script, transport


def backup(sdk):
    return sdk.begin_backup(CONTAINER, use_managed_identity=True, _polling_interval=0).result()  # as _run_job


def restore(sdk):
    folder = CONTAINER + "/mhsm-myhsm-2025120300000000"
    return sdk.begin_restore(folder, use_managed_identity=True, _polling_interval=0).result()


def test_the_first_status_check_waits_for_the_202s_retry_after():
    sdk, script, transport = client([challenge(), accepted(**{"Retry-After": "10"}), status("Succeeded")])
    assert backup(sdk).folder_url.endswith("/mhsm-myhsm-2025120300000000")
    assert script.sent == [
        ("POST", "/backup", False),
        ("POST", "/backup", True),
        ("GET", f"/backup/{JOB}/pending", True),
    ]
    assert transport.slept == pytest.approx([10], abs=0.5)  # the SDK alone polls at once


def test_without_a_retry_after_the_first_status_check_goes_at_once():
    sdk, _, transport = client([challenge(), accepted(), status(), status("Succeeded")])
    backup(sdk)
    assert transport.slept == [0.5]  # only the first gap of the poll schedule between the two reads


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "99999"}, [MAX_RETRY_AFTER_S]),
        ({"Retry-After": "inf"}, [MAX_RETRY_AFTER_S]),
        ({"Retry-After": "1e400"}, [MAX_RETRY_AFTER_S]),
        ({"Retry-After": "Fri, 31 Dec 2100 23:59:59 GMT"}, [MAX_RETRY_AFTER_S]),
        ({"retry-after-ms": "99999000"}, [MAX_RETRY_AFTER_S]),
        ({"Retry-After": "nan"}, []),
        ({"Retry-After": "soon"}, []),
        ({"Retry-After": "-5"}, []),
        ({"Retry-After": "0"}, []),
    ],
)
def test_an_absurd_or_unreadable_retry_after_on_the_202_is_bounded(headers, expected):
    sdk, _, transport = client([challenge(), accepted(**headers), status("Succeeded")])
    backup(sdk)
    assert transport.slept == pytest.approx(expected, abs=0.5)


def test_the_202s_retry_after_paces_a_restore_too():
    sdk, script, transport = client([challenge(), accepted("restore", **{"Retry-After": "10"}), status("Succeeded")])
    restore(sdk)
    assert [s[0] for s in script.sent] == ["PUT", "PUT", "GET"] and transport.slept == pytest.approx([10], abs=0.5)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, [3]),
        ({"retry-after-ms": "1500"}, [1.5]),
        ({"Retry-After": "99999"}, [MAX_RETRY_AFTER_S]),
        ({"x-ms-retry-after-ms": "99999999"}, [MAX_RETRY_AFTER_S]),
        ({"Retry-After": "soon"}, [0.5]),  # azure-core alone raises on it; dropped, the polling interval counts
    ],
)
def test_a_polls_retry_after_sets_the_next_gap_within_the_bound(headers, expected):
    sdk, _, transport = client([challenge(), accepted(), status(**headers), status("Succeeded")])
    backup(sdk)
    assert transport.slept == expected


@pytest.mark.parametrize("code", [429, 503])
def test_a_refused_job_start_is_sent_again_after_a_bounded_retry_after(code):
    refused = (code, {"Retry-After": "99999"}, {"error": {"code": "Throttled", "message": "Later."}})
    sdk, script, transport = client([challenge(), refused, accepted(), status("Succeeded")])
    backup(sdk)
    assert [s[:2] for s in script.sent].count(("POST", "/backup")) == 3  # probe, refused, accepted
    assert transport.slept == [MAX_RETRY_AFTER_S]


@pytest.mark.parametrize("operation", [backup, restore])
def test_a_job_start_whose_answer_was_lost_is_not_sent_again(operation):
    sdk, script, _ = client([challenge(), lost_answer()])
    with pytest.raises(StartAnswerLost):
        operation(sdk)
    assert [s[2] for s in script.sent] == [False, True]  # the probe, then the one start


def test_azure_core_alone_would_send_a_restore_again_after_a_lost_answer():
    """Why JobStartRetryPolicy exists: azure-core treats PUT as idempotent; for the HSM it starts a second job."""
    sdk, script, _ = client([challenge(), lost_answer(), accepted("restore"), status("Succeeded")], RetryPolicy())
    restore(sdk)
    assert [s[:2] for s in script.sent].count(("PUT", "/restore")) == 3  # probe, lost, sent again


@pytest.mark.parametrize("code", [500, 504])
def test_a_job_start_answered_500_or_504_is_not_sent_again(code):
    failed = (code, {}, {"error": {"code": "InternalError", "message": "Something broke."}})
    sdk, script, _ = client([challenge(), failed])
    with pytest.raises(HttpResponseError) as info:
        backup(sdk)
    assert info.value.status_code == code and len(script.sent) == 2


def test_a_status_poll_whose_answer_was_lost_is_sent_again():
    sdk, script, _ = client([challenge(), accepted(), lost_answer(), status("Succeeded")])
    backup(sdk)
    assert [s[0] for s in script.sent] == ["POST", "POST", "GET", "GET"]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"Retry-After": "10"}, 10),
        ({"Retry-After": " 7 "}, 7),
        ({"Retry-After": "2", "retry-after-ms": "9000"}, 2),  # azure-core's order
        ({"retry-after-ms": "250"}, 0.25),
        ({"x-ms-retry-after-ms": "1500"}, 1.5),
        ({"Retry-After": "31"}, MAX_RETRY_AFTER_S),
        ({"Retry-After": "Mon, 01 Jan 2001 00:00:00 GMT"}, None),  # in the past
        ({"Retry-After": ""}, None),
        ({"retry-after-ms": "soon"}, None),
    ],
)
def test_retry_after_seconds(headers, expected):
    assert retry_after_seconds(requests.structures.CaseInsensitiveDict(headers)) == expected
