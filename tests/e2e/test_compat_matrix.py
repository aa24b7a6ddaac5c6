"""The extension on every az release it supports (tests/compat/hosts.py: 2.55.0 to 2.91.0), as users install it.

Each release runs from its own `.venv-az/<version>/` (made by `make test` or `make test-compat`), signs in to the
local stack with the service principal, adds the wheel with `az extension add --source`, and runs the commands users
script. Every az these tests start has a network guard (tests/compat/netguard): a connection to, or a name lookup
of, anything off this machine fails the test.
"""

import functools
import json
import re
from urllib.parse import urlsplit

import pytest

from tests.compat.hosts import MATRIX, host_dir
from tests.e2e.conftest import az_json, build_wheel, job_starts, requests_to, stderr_lines
from tests.stack.constants import RECORDINGS_DIR
from tests.stack.launcher import AZ, ROOT
from tests.unit.service.test_recordings import R75

NETGUARD = ROOT / "tests" / "compat" / "netguard"
# The release that first ships azure-keyvault-administration with the pre-checks (4.8.0b1).
PRE_CHECKS_FROM = (2, 88, 0)


def release(version):
    return tuple(int(p) for p in version.split("."))


@pytest.fixture(scope="session")
def wheel(tmp_path_factory):
    return build_wheel(tmp_path_factory.mktemp("wheel"))


class Host:
    """One az release, signed in to the stack, with the extension added from the wheel."""

    def __init__(self, stack, version, work):
        self.stack, self.version, self.work = stack, version, work
        self.az_path = host_dir(version) / "bin" / "az"
        self.net_log = work / "off-machine.jsonl"
        (work / "no-system-extensions").mkdir()
        self.env = stack.env(
            work / "config",
            AZURE_EXTENSION_DIR=work / "extensions",
            AZURE_EXTENSION_SYS_DIR=work / "no-system-extensions",
            PYTHONPATH=NETGUARD,
            HSMBACKUP_NET_LOG=self.net_log,
            HTTP_PROXY=stack.state["proxy_url"],  # plain http too (the instance-metadata address) meets the proxy
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            PIP_NO_INDEX="1",
        )

    def az(self, *args, **kwargs):
        # Not run from the checkout: az before 2.7x starts as `python -m azure.cli`, which puts the current folder
        # first on sys.path, and the checkout's azext_hsmbackup would shadow the wheel's.
        return self.stack.az(*args, env=self.env, az=self.az_path, cwd=self.work, **kwargs)

    def off_machine(self):
        lines = self.net_log.read_text().splitlines() if self.net_log.exists() else []
        return [json.loads(line) for line in lines]


# Session scope: a worker runs other files between the tests of one release, which would tear a module fixture down.
@pytest.fixture(scope="session", params=MATRIX, ids=lambda v: f"az{v}")
def host(request, stack, wheel, tmp_path_factory):
    version = request.param
    assert (host_dir(version) / "bin" / "az").exists(), f"az {version} is not installed: run make test-compat"
    made = Host(stack, version, tmp_path_factory.mktemp(f"az{version}"))
    stack.register_cloud(made.work / "config", az=made.az_path, env=made.env)
    stack.login(made.work / "config", az=made.az_path, env=made.env)
    made.added = made.az("extension", "add", "--source", wheel, "-y")
    # The first command after an add loads every command module; the slim host lacks the SDKs of some (tests/compat).
    made.az("hsm-backup", "--help")
    return made


@pytest.fixture(autouse=True)
def nothing_left_the_machine(request):
    """After each test of this file: no az of the matrix reached for anything but this machine."""
    yield
    if "host" in request.fixturenames:
        made = request.getfixturevalue("host")
        assert made.off_machine() == [], f"az {made.version} tried to leave the machine"


def create(host, hsm, *flags, container_uri=None):
    uri = container_uri or host.stack.container_uri()
    return host.az("hsm-backup", "create", "--hsm-name", hsm, "--storage-container-uri", uri, *flags)


def sas(stack, permissions):
    return ("--sas-token", stack.mint_sas(permissions=permissions))


def keys_of(stack, hsm):
    return {k["name"]: k for k in stack.emulator("GET", f"hsms/{hsm}/keys")["keys"]}


# ---- install --------------------------------------------------------------------------------------------------


def test_the_wheel_adds_without_a_compatibility_warning(host):
    assert host.added.returncode == 0, host.added.stderr
    warnings = [line for line in host.added.stderr.splitlines() if line.strip()]
    assert warnings == ["WARNING: The installed extension 'hsmbackup' is in preview."], warnings
    installed = sorted(p.name for p in (host.work / "extensions" / "hsmbackup").iterdir())
    assert [n for n in installed if not n.endswith((".dist-info", ".whl"))] == ["azext_hsmbackup"]


# ---- create, wait, restore, list, prune ---------------------------------------------------------------------------


def test_create_with_a_sas_and_with_the_hsms_identity(host, hsm):
    stack = host.stack
    with_sas = az_json(create(host, hsm, *sas(stack, "crdw")))
    with_identity = az_json(create(host, hsm, "--mi"))
    for out in (with_sas, with_identity):
        assert out["status"] == "Succeeded" and out["folderName"].startswith(f"mhsm-{hsm}-")
        assert sorted(out) == [
            "endTime", "folderName", "folderUrl", "hsmUrl", "jobId", "startTime", "status", "storageContainerUri",
        ]  # fmt: skip
        assert stack.list_blobs(prefix=out["folderName"] + "/")
    bodies = [r["body"] for r in job_starts(stack, hsm)]
    assert bodies[0]["token"] == "***" and bodies[1]["useManagedIdentity"] is True
    assert [r["query"].get("api-version") for r in job_starts(stack, hsm)] == ["2025-07-01"] * 2


def test_no_wait_then_wait(host, hsm):
    started = create(host, hsm, "--mi", "--no-wait")
    job = az_json(started)
    assert job["status"] == "InProgress" and f"--job-id {job['jobId']}" in started.stderr
    waited = az_json(host.az("hsm-backup", "wait", "--hsm-name", hsm, "--job-id", job["jobId"]))
    assert waited["status"] == "Succeeded" and waited["operation"] == "backup" and waited["jobId"] == job["jobId"]


def test_full_restore_through_a_401_in_mid_poll_and_one_key(host, hsm):
    """A full restore whose status poll gets a 401 (expired token, claims challenge) puts /restore once: the SDK
    builds with the replay bug (az 2.77-2.88) would send it again and get 409. Then one key alone."""
    stack = host.stack
    before = keys_of(stack, hsm)
    first, second = sorted(before)[:2]
    folder = az_json(create(host, hsm, "--mi"))["folderUrl"]
    for name in before:
        stack.emulator("DELETE", f"hsms/{hsm}/keys/{name}")
    since = len(requests_to(stack, hsm))
    challenge_the_second_poll(stack, "restore")
    full = host.az(
        "hsm-backup", "restore", "--id", mixed_case(stack, hsm), "--folder-url", folder, *sas(stack, "rl"), "--yes"
    )
    assert az_json(full)["status"] == "Succeeded" and "409" not in full.stderr
    assert keys_of(stack, hsm) == before
    challenged_once(stack, hsm, since)
    stack.emulator("DELETE", f"hsms/{hsm}/keys/{first}")
    stack.emulator("DELETE", f"hsms/{hsm}/keys/{second}")
    one = host.az(
        "hsm-backup", "restore", "--hsm-name", hsm, "--folder-url", folder, "--key-name", second, "--mi", "--yes"
    )
    assert az_json(one)["status"] == "Succeeded"
    after = keys_of(stack, hsm)
    assert after[second] == before[second] and first not in after
    puts = [(r["path"], r["status"]) for r in job_starts(stack, hsm) if r["method"] == "PUT"]
    assert puts == [("/restore", 202), (f"/keys/{second}/restore", 202)]  # every authorised PUT: no replay


def test_list_and_prune_what_if(host, hsm):
    stack = host.stack
    container = f"compat{hsm}"
    stack.create_container(container)
    uri = stack.container_uri(container)
    made = [az_json(create(host, hsm, "--mi", container_uri=uri))["folderName"] for _ in range(2)]
    table = host.az("hsm-backup", "list", "--storage-container-uri", uri, "--hsm-name", hsm, "-o", "table")
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["FolderName", "HsmName", "BackupTime"]
    assert [line.split()[0] for line in lines[2:]] == made[::-1]  # newest first
    preview = az_json(host.az("hsm-backup", "prune", "--storage-container-uri", uri, "--keep", "1", "--what-if"))
    assert [f["folderName"] for f in preview["wouldDelete"]] == made[:1]
    assert [f["folderName"] for f in preview["kept"]] == made[1:] and preview["kept"][0]["confirmed"] is True
    assert {b.split("/")[0] for b in stack.list_blobs(container)} == set(made)  # nothing deleted
    # The newest was confirmed by the HSM's pre-restore check: the SDK's call from az 2.88 on, the same request
    # through the client's pipeline before (the SDK there has none).
    (check,) = [r for r in job_starts(stack, hsm) if r["path"] == "/prerestore"]
    assert check["status"] == 202 and check["body"]["folderToRestore"] == made[1]
    assert check["body"]["sasTokenParameters"]["token"] == "***"  # a SAS minted for the HSM, masked in the log


def test_all_hsms_of_a_resource_group_then_wait_for_their_jobs(host, hsm):
    """--all lists through az's own ARM request machinery, which every release has; then wait --jobs from stdin."""
    stack = host.stack
    names = [f"{hsm}-f{i}" for i in range(3)]
    group = f"rg-{hsm}"
    fleet = [{"name": n, "resourceGroup": group} for n in names]
    fleet[1]["activationStatus"] = "NotActivated"
    stack.declare_fleet([*fleet, {"name": f"{hsm}-other", "resourceGroup": "rg-other"}], page_size=2)
    try:
        to = ["--storage-container-uri", stack.container_uri(), "--mi"]
        started = host.az("hsm-backup", "create", "--all", "-g", group, *to, "--no-wait", "--max-parallel", "2")
        out = az_json(started)
        assert [(e["hsmName"], e["status"]) for e in out] == [
            (names[0], "InProgress"),
            (names[1], "Skipped"),
            (names[2], "InProgress"),
        ]
        waited = az_json(host.az("hsm-backup", "wait", "--jobs", "-", input=started.stdout))
        assert [e["status"] for e in waited] == ["Succeeded", "Skipped", "Succeeded"]
        assert [len(job_starts(stack, n)) for n in names] == [1, 0, 1]
    finally:
        stack.declare_fleet([])


# ---- the traffic: the recordings', and the warm-up read only where the SDK replays a job start -------------------

# The SDK builds that keep a copy of a job start and send it again after a 401 (azure-keyvault-administration 4.4.0
# to 4.7.1 and 4.8.0b1): those of az 2.77 to 2.88. Only there does the extension send its body-less warm-up read.
REPLAY_BUG = ((2, 77, 0), (2, 88, 0))


def request_shape(method, path, status):
    """(method, path with job ids named by role, status): what two runs of the same traffic share."""
    path = urlsplit(path).path.replace("//", "/")
    path = re.sub(r"/0{32}/", "/{no-such-job}/", path)
    return method, re.sub(r"/[0-9a-f]{32}/", "/{job}/", path), status


def collapsed(shapes):
    """Repeated status reads once: how many a job takes depends on its length, not on the client."""
    return [s for i, s in enumerate(shapes) if i == 0 or s != shapes[i - 1]]


def recorded_backup():
    """The real service's backup exchange (R75, ../shared/reference/recordings): up to its last status read."""
    entries = json.loads((RECORDINGS_DIR / R75).read_text(encoding="utf-8-sig"))["Entries"]
    shapes = [request_shape(e["RequestMethod"], e["RequestUri"], e["StatusCode"]) for e in entries]
    return collapsed(shapes[: shapes.index(("PUT", "/restore", 202))])


def test_a_backups_traffic_is_the_recordings_and_the_warm_up_only_where_the_sdk_replays(host, hsm):
    az_json(create(host, hsm, "--mi"))
    seen = collapsed([request_shape(r["method"], r["path"], r["status"]) for r in requests_to(host.stack, hsm)])
    expected = recorded_backup()
    assert expected == [("POST", "/backup", 401), ("POST", "/backup", 202), ("GET", "/backup/{job}/pending", 200)]
    low, high = REPLAY_BUG
    if low <= release(host.version) <= high:  # the warm-up gets the challenge; the start goes once, with its token
        warm_up = "/backup/{no-such-job}/pending"
        expected = [("GET", warm_up, 401), ("GET", warm_up, 404), *expected[1:]]
    assert seen == expected


# ---- no second job after a 401 in mid-poll --------------------------------------------------------------------------


def challenge_the_second_poll(stack, operation):
    """The HSM answers the second status check of the job with its 401 challenge, as for an expired token."""
    stack.emulator("PUT", "config", {"job_duration_s": 2})
    poll = f"^/{operation}/(?!0{{32}}/)[0-9a-f]{{32}}/pending$"  # not the warm-up read before the start
    rule = {"match": {"method": "GET", "path": poll, "authorized": True}, "nth": 2, "action": "challenge"}
    stack.emulator("POST", "faults", {"rules": [rule]})


def mixed_case(stack, hsm):
    """The HSM's URL with its host in capitals: a miss in the SDK's case-sensitive challenge cache (4.4.x)."""
    return stack.hsm_url(hsm).replace(hsm, hsm.upper())


def challenged_once(stack, hsm, since):
    log = requests_to(stack, hsm)[since:]
    challenged = [r for r in log if (r["fault"] or {}).get("action") == "challenge"]
    assert len(challenged) == 1 and challenged[0]["status"] == 401, challenged
    assert log[-1]["method"] == "GET" and log[-1]["status"] == 200  # polled on to the end


def test_a_401_in_mid_poll_starts_exactly_one_backup(host, hsm):
    """On the builds with the replay bug (az 2.77-2.88), a 401 on a status poll re-sent POST /backup; the HSM
    answered 409 while the first job ran on."""
    stack = host.stack
    challenge_the_second_poll(stack, "backup")
    result = host.az(
        "hsm-backup", "create", "--id", mixed_case(stack, hsm), "--storage-container-uri", stack.container_uri(), "--mi"
    )
    assert az_json(result)["status"] == "Succeeded" and "409" not in result.stderr
    challenged_once(stack, hsm, 0)
    assert [(r["method"], r["status"]) for r in job_starts(stack, hsm)] == [("POST", 202)]


# ---- what an older SDK cannot do, and errors --------------------------------------------------------------------


def test_check_says_which_az_has_it_or_runs(host, hsm):
    result = host.az(
        "hsm-backup",
        "check",
        "backup",
        "--hsm-name",
        hsm,
        "--storage-container-uri",
        host.stack.container_uri(),
        "--mi",
    )
    if release(host.version) >= PRE_CHECKS_FROM:
        assert az_json(result)["status"] == "Succeeded"
        return
    assert result.returncode == 2, result.stderr
    (line,) = stderr_lines(result)
    assert line.startswith("ERROR: az hsm-backup check needs az 2.88.0 or later") and "az upgrade" in line
    assert requests_to(host.stack, hsm) == []


# The same mistakes on every release. One HSM name for all of them, so the project's own az (2.91) answers each once.
MISTAKES = {
    "invalid HSM name": ("create", "--hsm-name", "-bad-", "--mi"),
    "missing container": ("create", "--hsm-name", "comparehsm", "--mi", "--storage-container-uri", "missing"),
    "unknown job": ("show", "--hsm-name", "comparehsm", "--job-id", "0" * 32),
}


def mistake(stack, name):
    args = ["hsm-backup", *MISTAKES[name]]
    if args[-1] == "missing":
        args[-1] = stack.container_uri("missing")
    elif args[1] == "create":
        args += ["--storage-container-uri", stack.container_uri()]
    return args


@functools.cache
def on_the_newest_az(stack, name):
    result = stack.az(*mistake(stack, name), az=AZ)
    return result.returncode, error_lines(result)


@pytest.mark.parametrize("name", list(MISTAKES))
def test_errors_read_as_on_the_newest_az(host, stack, name):
    """The same mistake gives the same line and exit code as on the project's own az (2.91)."""
    stack.emulator("POST", "reset")
    here = host.az(*mistake(stack, name))
    assert (here.returncode, error_lines(here)) == on_the_newest_az(stack, name)
    assert here.returncode in (2, 3, 4) and len(error_lines(here)) == 1


def error_lines(result):
    """The ERROR lines, with the one thing that differs between two runs (the job id) taken out."""
    lines = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    return [re.sub(r"\b[0-9a-f]{32}\b", "JOB", line) for line in lines]
