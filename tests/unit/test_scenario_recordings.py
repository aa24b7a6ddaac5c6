"""The recordings of the scenario tests (azext_hsmbackup/tests/latest/recordings/*.yaml): one for each test that
talks to a service, none for a test that must send nothing, and not one secret in any of them: no JWT, SAS
signature, bearer value, account or delegation key, client secret, local port, temporary path or name of the local
stack. Each file is read as text, whatever its YAML says, and the scrubber that writes them is held to the same
patterns."""

import ast
import re
from pathlib import Path

import pytest
import yaml

from azext_hsmbackup.tests.latest import recording
from tests.stack import constants as C

LATEST = Path(__file__).resolve().parents[2] / "azext_hsmbackup" / "tests" / "latest"
RECORDINGS = sorted((LATEST / "recordings").glob("*.yaml"))
SCENARIOS = LATEST / "test_hsmbackup_scenario.py"

FORBIDDEN = {
    "a JWT": re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\."),
    "a SAS signature": re.compile(r"sig(?:=|%3D)(?!REDACTED(?:[&\"'\s<]|$))", re.IGNORECASE),
    "a bearer value": re.compile(r"Bearer\s+(?!REDACTED\b|authorization=)\S", re.IGNORECASE),
    "an access token, secret or password field": re.compile(
        r"(access_token|refresh_token|id_token|client_secret|client_assertion|password)\"?\s*[:=]\s*\"?(?!REDACTED)\w",
        re.IGNORECASE,
    ),
    "an account key": re.compile(r"AccountKey=(?!REDACTED)|[A-Za-z0-9+/]{86}=="),
    "a delegation key": re.compile(rf"<Value>(?!{re.escape(recording.PLAYBACK_DELEGATION_KEY)}</Value>)"),
    "an Authorization header": re.compile(r"^\s*[Aa]uthorization:", re.MULTILINE),
    "a local port": re.compile(r"(?:127\.0\.0\.1|localhost|\[::1\]):\d+"),
    "a caller's address": re.compile(r"(?<![A-Za-z0-9_])addr=(?!0\.0\.0\.0(?![0-9.]))[0-9A-Fa-f:.]"),
    "a path of this machine": re.compile(r"/tmp/|/home/|/root/|/Users/|[A-Za-z]:\\\\|\.pytest-tmp|\.stack"),
    "the recorder's platform": re.compile(r"\((?:Linux|Windows|macOS|Darwin)-"),
    "a name of the local stack": re.compile(r"hsmbackup\.test|devstoreaccount1|contosohsm|HsmBackupLocal", re.I),
    "an id of the local stack's tenant, subscription or identities": re.compile(
        "|".join(
            re.escape(i)
            for i in (C.TENANT_ID, C.SUBSCRIPTION_ID, C.SP_APP_ID, C.SP_OBJECT_ID, C.MI_CLIENT_ID, C.MI_OBJECT_ID)
        ),
        re.IGNORECASE,
    ),
    "the stack's secrets": re.compile(
        "|".join(re.escape(s) for s in (C.SP_SECRET, C.STORAGE_ACCOUNT_KEY, C.MI_IDENTITY_HEADER))
    ),
}


def scenario_tests():
    """{test name: whether it asserts that it sends nothing} of the scenario test module."""
    tree = ast.parse(SCENARIOS.read_text(encoding="utf-8"))
    return {
        node.name: "sent_nothing" in ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


def secrets_in(text):
    return sorted({what for what, pattern in FORBIDDEN.items() if pattern.search(text)})


def test_there_are_twelve_scenario_tests_or_more_and_their_recordings():
    assert len(scenario_tests()) >= 12
    assert len(RECORDINGS) >= 10, f"no recordings in {LATEST / 'recordings'}: run `make record`"


def test_each_test_that_talks_has_its_recording_and_each_recording_its_test():
    tests = scenario_tests()
    recorded = {path.stem for path in RECORDINGS}
    assert recorded <= set(tests), f"recordings of no test: {sorted(recorded - set(tests))}"
    talking = {name for name, silent in tests.items() if not silent}
    assert talking <= recorded, f"tests without a recording (run `make record`): {sorted(talking - recorded)}"
    assert not recorded & {name for name, silent in tests.items() if silent}


@pytest.mark.parametrize("path", RECORDINGS, ids=[p.stem for p in RECORDINGS])
def test_a_recording_holds_no_secret_no_local_detail_and_only_playback_hosts(path):
    text = path.read_text(encoding="utf-8")
    assert secrets_in(text) == []
    interactions = yaml.safe_load(text)["interactions"]
    assert interactions, "an empty recording"
    hosts = {re.match(r"https://([^/?]+)", i["request"]["uri"]).group(1) for i in interactions}
    assert {h.split(".", 1)[1] for h in hosts} <= {"managedhsm.azure.net", "blob.core.windows.net"}, hosts
    for interaction in interactions:
        assert not {k.lower() for k in interaction["request"]["headers"]} & {"authorization", "cookie"}


SAMPLES = [
    # what live traffic holds, each of which the scrubber must take out
    '"x-ms-token": "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZWRoc20ifQ.c2lnbmF0dXJl"',
    '{"token": "sv=2025-01-05&sr=c&sp=crdw&se=2026-12-08T20:00:00Z&sig=Zm9vYmFyYmF6cXV4%2Bcw%3D"}',
    "https://acct.blob.core.windows.net/c?restype=container&sv=2025-01-05&skoid=x&sig=abc%2Bdef%3D&comp=list",
    "https://x/?q=1&sas=sv%3D2025%26sig%3DAbCdEf%252B",
    '{"access_token": "opaque-token-value", "token_type": "Bearer", "refresh_token": "r"}',
    f"<UserDelegationKey><SignedOid>{C.SP_OBJECT_ID}</SignedOid><Value>c2VjcmV0LWtleS1ieXRl</Value></UserDelegationKey>",
    "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=" + C.STORAGE_ACCOUNT_KEY + ";",
    'Bearer authorization="https://127.0.0.1:41234/' + C.TENANT_ID + '", resource="https://managedhsm.azure.net"',
    "see https://127.0.0.1:5555/x and localhost:8080",
    "Bearer opaque.token.value-with-no-jwt-shape",
    "conn_type=Ipv4;addr=203.0.113.7;act_addr_fam=Ipv4;",
]


@pytest.mark.parametrize("sample", SAMPLES)
def test_the_scrubber_takes_out_what_the_scan_looks_for(sample):
    assert secrets_in(sample) != [], "the scan must see this sample's secret"
    scrubbed = recording.scrub_text(recording.normalize_sas_in_url(sample))
    assert secrets_in(scrubbed) == [], scrubbed


def test_a_challenge_keeps_its_shape_and_a_sas_url_its_fields():
    challenge = 'Bearer authorization="https://127.0.0.1:41234/tenant", resource="https://managedhsm.azure.net"'
    assert recording.scrub_text(challenge) == (
        f'Bearer authorization="{recording.PLAYBACK_AUTHORITY}", resource="https://managedhsm.azure.net"'
    )
    url = "https://a.blob.core.windows.net/c?restype=container&sp=rl&se=2026-12-08T20%3A00%3A00Z&sig=abc&comp=list"
    assert recording.normalize_sas_in_url(url) == (
        "https://a.blob.core.windows.net/c?restype=container&sp=rl&se=2000-01-01T00%3A00%3A00Z&sig=REDACTED&comp=list"
    )


def test_live_names_and_suffixes_become_the_playback_ones():
    replacer = recording.NameReplacer(
        [("managedhsm.hsmbackup.test", "managedhsm.azure.net"), (".blob.hsmbackup.test", ".blob.core.windows.net")],
        [("contosohsm", "hsmbackuptest"), ("devstoreaccount1", "hsmbackupstore"), ("hsm", "hsm"), ("", "x")],
    )
    live = (
        '{"azureStorageBlobContainerUri": "https://devstoreaccount1.blob.hsmbackup.test/backups/'
        'mhsm-contosohsm-2026120620000000"} https://contosohsm.managedhsm.hsmbackup.test/backup'
    )
    assert replacer.fix(live) == (
        '{"azureStorageBlobContainerUri": "https://hsmbackupstore.blob.core.windows.net/backups/'
        'mhsm-hsmbackuptest-2026120620000000"} https://hsmbackuptest.managedhsm.azure.net/backup'
    )
    assert recording.NameReplacer([], [("hsm", "vault")]).fix("https://a.managedhsm.azure.net/hsm/x") == (
        "https://a.managedhsm.azure.net/vault/x"
    )
