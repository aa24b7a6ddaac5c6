"""Property tests: whatever the HSM answers to a job start or a status read (a body of any JSON shape, times of any
size, error texts of any characters and lengths, a missing status link), the extension's client ends in a result
it can print or in one mapped line (never an exception it does not map), and nothing it prints holds a character
that is not printable.

The client is the real SDK with the extension's pipeline (tests/unit/test_retry_after.py's scripted network)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azext_hsmbackup.errors import one_line
from azext_hsmbackup.model.answers import iso_time
from azext_hsmbackup.model.target import Target
from azext_hsmbackup.operations.job import job_output
from azext_hsmbackup.service.failures import sdk_failure
from tests.unit.service.test_pipeline import CONTAINER, HSM, JOB, Script, accepted, challenge, job, status

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
any_text = st.text(st.characters(codec="utf-8"), max_size=300) | st.builds(
    lambda c, n: c * n, st.sampled_from(["\x1b[2J", "\x07", "\u202e", "x", "\r\n", "\x9b"]), st.integers(0, 50_000)
)
times = st.none() | st.integers() | st.floats() | st.text(max_size=10) | st.booleans()
statuses = st.sampled_from(["InProgress", "Succeeded", "Failed", "Canceled", "succeeded", "Paused", ""]) | json_values


@st.composite
def job_documents(draw):
    """A status document: mostly the real shape with one or more fields drawn from anything; sometimes anything."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    body = job(draw(st.sampled_from(["InProgress", "Succeeded", "Failed"])))
    fields = {
        "status": statuses,
        "startTime": times,
        "endTime": times,
        "jobId": st.sampled_from([JOB, JOB.upper(), "", "j1", None]) | json_values,
        "azureStorageBlobContainerUri": st.none() | any_text | st.just(CONTAINER + "/mhsm-myhsm-2025120300000000"),
        "statusDetails": st.none() | any_text | json_values,
        "error": st.none()
        | st.fixed_dictionaries({"code": st.none() | any_text | json_values, "message": st.none() | any_text})
        | json_values,
    }
    for key in draw(st.sets(st.sampled_from(sorted(fields)), min_size=1, max_size=3)):
        body[key] = draw(fields[key])
    return body


def run_backup(steps):
    """(job output, None) or (None, the one line the failure maps to): what the user sees of this exchange."""
    import requests
    from azure.core.pipeline.transport import RequestsTransport
    from azure.keyvault.administration import KeyVaultBackupClient
    from azure.keyvault.administration._internal import HttpChallengeCache

    from azext_hsmbackup.service.pipeline import JobTracker, pipeline_kwargs

    class Transport(RequestsTransport):
        def sleep(self, duration):  # recorded pacing costs no time here
            pass

    HttpChallengeCache.clear()
    session = requests.Session()
    session.mount("https://", Script(steps))
    tracker = JobTracker()
    sdk = KeyVaultBackupClient(
        HSM,
        _Credential(),
        api_version="7.6",
        verify_challenge_resource=True,
        transport=Transport(session=session, session_owner=False),
        **pipeline_kwargs(tracker),
    )
    target = Target(HSM, "myhsm", CONTAINER, "managedIdentity")
    try:
        sdk.begin_backup(CONTAINER, use_managed_identity=True, _polling_interval=0).result()
        return job_output(tracker.job, target), None
    except Exception as ex:
        failure = sdk_failure(ex, HSM, "backup", container_uri=CONTAINER)
        assert failure is not None, f"unmapped: {ex!r}"
        return None, one_line(failure.error)


class _Credential:
    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken

        return AccessToken("a.b.c", 4102444800)


def assert_printable(value):
    if isinstance(value, dict):
        for item in value.values():
            assert_printable(item)
    elif isinstance(value, str):
        assert all(c.isprintable() for c in value), repr(value)
        assert "\n" not in value


def enough_polls():
    return [status("Succeeded")] * 3


@SETTINGS
@given(body=job_documents())
def test_any_status_answer_ends_in_a_printable_result_or_one_mapped_line(body):
    output, line = run_backup([challenge(), accepted(), (200, {}, body), *enough_polls()])
    assert_printable(output if line is None else line)
    if line is None:
        assert output["status"] in ("Succeeded", "Failed", "Canceled", "InProgress")
    else:
        assert len(line) < 2000


@SETTINGS
@given(body=job_documents(), link=st.booleans())
def test_any_answer_to_the_job_start_ends_in_a_result_or_one_mapped_line(body, link):
    headers = {"azure-asyncoperation": f"{HSM}/backup/{JOB}/pending"} if link else {}
    output, line = run_backup([challenge(), (202, headers, body), *enough_polls()])
    assert_printable(output if line is None else line)
    if not link and line is not None and "status link" in line:
        assert JOB in line and "az hsm-backup show" in line  # the job id it promises, and how to check on it


@SETTINGS
@given(code=any_text, message=any_text)
def test_a_failed_jobs_code_and_message_reach_the_line_escaped_and_cut(code, message):
    failed = job("Failed")
    failed["error"] = {"code": code, "message": message}
    output, line = run_backup([challenge(), accepted(), (200, {}, failed)])
    assert output is None and line.startswith(f"The backup job {JOB} on {HSM} failed: (")
    assert_printable(line)
    assert len(line) < 1000


@SETTINGS
@given(seconds=st.integers(0, 253402300799))
def test_every_time_a_document_can_hold_prints(seconds):
    assert iso_time(seconds) is None or iso_time(seconds).endswith("Z")


def test_the_strategies_reach_the_cases_that_once_crashed():
    """The issue's examples, run once each by name, beside the random ones."""
    for body in ("Succeeded", ["x"], {**job("Succeeded"), "startTime": 10**30}):
        output, line = run_backup([challenge(), accepted(), (200, {}, body), *enough_polls()])
        assert output is None and JOB in line and "cannot be read" in line, line
    output, line = run_backup([challenge(), (202, {}, job()), *enough_polls()])
    assert "no status link" in line and f"--job-id {JOB}" in line
