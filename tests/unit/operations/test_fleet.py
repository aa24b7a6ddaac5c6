"""One HSM's work in a fleet (operations/fleet.py: back_up, wait_for) and the two commands around it (create_many,
wait_many), with a fake Key Vault client: what is sent, in which order, and what each outcome becomes in that HSM's
entry."""

import json
import threading
from contextlib import contextmanager
from types import SimpleNamespace
from unittest import mock

import pytest
from azure.core.exceptions import HttpResponseError

from azext_hsmbackup.errors import ExitWith
from azext_hsmbackup.model import fleet
from azext_hsmbackup.model import target as target_model
from azext_hsmbackup.model.fleet import Member
from azext_hsmbackup.operations import fleet as fleet_ops
from azext_hsmbackup.operations import runner as runner_ops
from tests.unit.fakes import CONTAINER, HSMS, JOB, MHSM, http_error

CMD = SimpleNamespace(cli_ctx=SimpleNamespace(cloud=None, register_event=lambda *a: None))


def test_create_hands_on_the_secret_the_versions_and_the_identity():
    given = fleet.Fleet(tuple(HSMS[:2]), storage=target_model.Target(None, None, CONTAINER, "sas", "sv=1&sig=given"))
    patch, made = fake_clients()
    with (
        patch,
        mock.patch("azext_hsmbackup.operations.fleet.storage_secret", return_value="sv=1&sig=given") as secret,
        mock.patch("azext_hsmbackup.operations.fleet.cli_credential", return_value="CRED") as cred,
        mock.patch(
            "azext_hsmbackup.operations.fleet.secrets_redacted",
            wraps=__import__("azext_hsmbackup._secrets")._secrets.secrets_redacted,
        ) as redacted,
    ):
        out = create_many(given)
    assert secret.call_args.args == (CMD, given.storage, "crdw") and cred.call_args.args == (CMD.cli_ctx,)
    assert {c.args for c in redacted.call_args_list} >= {("sv=1&sig=given",)}
    assert [c.args for c in made] == [(f"https://hs0{MHSM}", "7.6", "CRED"), (f"https://hs1{MHSM}", "7.6", "CRED")]
    assert [c.calls[0][2]["_polling_interval"] for c in made] == [0, 0]  # the tracker paces, at --polling-interval
    assert [e["status"] for e in out] == ["Succeeded"] * 2


def test_create_no_wait_says_how_to_wait_and_a_stop_names_the_list_command():
    given = fleet.Fleet(tuple(HSMS[:1]), storage=target_model.Target(None, None, CONTAINER, "managedIdentity"))
    patch, _ = fake_clients()
    with (
        patch,
        mock.patch("azext_hsmbackup.operations.fleet.cli_credential"),
        mock.patch.object(runner_ops.logger, "warning") as warning,
        mock.patch.object(fleet_ops.logger, "warning", warning),
    ):
        out = create_many(given, skip_wait=True)
    assert out[0]["status"] == "InProgress"
    assert warning.call_args_list[-1].args[0].startswith("Wait for them all with: az hsm-backup wait --jobs @FILE")
    with (
        mock.patch.object(fleet_ops, "run", return_value=[]) as run,
        mock.patch("azext_hsmbackup.operations.fleet.cli_credential"),
    ):
        create_many(given, max_parallel=7)
    members, _, parallel, verb, shows = run.call_args.args
    assert (members, parallel, verb) == (given.members, 7, "backup")
    assert shows(HSMS[0]) == f"az hsm-backup list --storage-container-uri {CONTAINER} --hsm-name hs0"


def test_confirm_lists_ten_names_then_counts_the_rest():
    many = tuple(Member(f"https://h{i:02d}{MHSM}", f"h{i:02d}") for i in range(12))
    given = fleet.Fleet(many, storage=target_model.Target(None, None, CONTAINER, "managedIdentity"))
    with (
        mock.patch("azext_hsmbackup.operations.prompt.confirm", side_effect=SystemExit(10)) as confirm,
        pytest.raises(SystemExit),
    ):
        create_many(given, confirm=True)
    names = ", ".join(f"h{i:02d}" for i in range(10))
    assert confirm.call_args.args == (f"Perform a full backup of 12 HSM(s) ({names} and 2 more) into {CONTAINER}?",)
    assert confirm.call_args.kwargs == {"cli_ctx": CMD.cli_ctx}


def test_all_lists_with_the_clouds_suffix_and_a_stop_while_listing_is_one_line():
    storage = target_model.Target(None, None, CONTAINER, "managedIdentity")
    given = fleet.Fleet((), list_all=True, storage=storage, mhsm_dns_suffix=".managedhsm.example")
    record = {"name": "hs5", "type": "Microsoft.KeyVault/managedHSMs", "properties": {}}  # no hsmUri: the name
    with mock.patch("azext_hsmbackup.service.arm.list_managed_hsms", return_value=[record]) as listed:
        (out,) = create_many(given, what_if=True)
    assert listed.call_args.args == (CMD.cli_ctx, None)
    assert out["hsmUrl"] == "https://hs5.managedhsm.example" and "user-assigned" in out["reason"]
    with (
        mock.patch("azext_hsmbackup.service.arm.list_managed_hsms", side_effect=KeyboardInterrupt),
        mock.patch("azure.cli.core.azclierror.AzCLIError.print_error"),
        mock.patch("azure.cli.core.azclierror.AzCLIError.send_telemetry"),
        pytest.raises(ExitWith) as info,
    ):
        create_many(given)
    assert (info.value.code, info.value.error.error_msg) == (
        130,
        "Stopped while ARM listed the Managed HSMs: no job was started.",
    )
    with (
        mock.patch("azext_hsmbackup.service.arm.list_managed_hsms", return_value=[]),
        mock.patch("azure.cli.core.azclierror.AzCLIError.print_error"),
        mock.patch("azure.cli.core.azclierror.AzCLIError.send_telemetry"),
        pytest.raises(ExitWith) as info,
    ):
        create_many(given)
    assert info.value.error.error_msg == (
        "ARM lists no Managed HSM in the subscription: nothing to back up. Check --subscription and -g "
        "(az keyvault list --resource-type hsm)."
    )


def test_wait_many_hands_on_the_deadline_versions_and_one_worker_per_job():
    given = fleet.Fleet(
        (Member(HSMS[0].hsm_url, "hs0", job_id=JOB), Member(HSMS[1].hsm_url, "hs1", job_id=JOB), HSMS[2])
    )
    with (
        mock.patch.object(fleet_ops, "run", return_value=[]) as run,
        mock.patch("azext_hsmbackup.operations.fleet.cli_credential", return_value="CRED") as cred,
        mock.patch("time.monotonic", return_value=100.0),
        mock.patch.object(fleet_ops, "exit_after_output") as exit_after,
    ):
        fleet_ops.wait_many(CMD, given, timeout=30, polling_interval=0.7, api_version="7.6")
    members, work, parallel, verb = run.call_args.args
    assert (members, parallel, verb) == (given.members, 2, "wait") and cred.call_args.args == (CMD.cli_ctx,)
    assert work.keywords == {"api_version": "7.6", "polling_interval": 0.7, "deadline": 130.0, "credential": "CRED"}
    assert work.args == (CMD,) and exit_after.call_args.args == (CMD.cli_ctx, [])
    assert exit_after.call_args.kwargs == {"failed": "have no job that succeeded"}
    with (
        mock.patch.object(fleet_ops, "run", return_value=[]) as run,
        mock.patch("azext_hsmbackup.operations.fleet.cli_credential") as cred,
    ):
        fleet_ops.wait_many(CMD, fleet.Fleet((HSMS[2],)), timeout=None, polling_interval=1, api_version="7.6")
    assert run.call_args.args[2] == 1 and run.call_args.args[1].keywords["deadline"] is None and not cred.called
    many = fleet.Fleet(tuple(Member(f"https://h{i}{MHSM}", f"h{i}", job_id=JOB) for i in range(70)))
    with (
        mock.patch.object(fleet_ops, "run", return_value=[]) as run,
        mock.patch("azext_hsmbackup.operations.fleet.cli_credential"),
    ):
        fleet_ops.wait_many(CMD, many, timeout=None, polling_interval=1, api_version="7.6")
    assert run.call_args.args[2] == 64  # at most create's bound of threads, however many jobs


class FakeClient:
    """KeyVaultBackupClient enough for the fleet: begin_backup and send_request, recorded; jobs fill the tracker."""

    def __init__(self, tracker, start_error=None, statuses=()):
        self.tracker, self.start_error, self.statuses = tracker, start_error, list(statuses)
        self.calls = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send_request(self, request):
        self.calls.append(("GET", request.url))
        if "/0000" in request.url:
            return SimpleNamespace(status_code=404)
        status, body = self.statuses.pop(0) if self.statuses else (404, None)
        if body is not None:
            self.tracker.job = body
            self.tracker.plan_next_read()  # what the real tracker does with each status answer

        def raise_for_status():
            if status >= 400:
                raise http_error(status, "Boom")

        return SimpleNamespace(
            status_code=status, read=lambda: json.dumps(body).encode(), raise_for_status=raise_for_status
        )

    def begin_backup(self, container_uri, **kwargs):
        kwargs.pop("raw_request_hook"), kwargs.pop("raw_response_hook")  # StartWatch's hooks
        self.calls.append(("begin_backup", container_uri, kwargs))
        if self.start_error:
            raise self.start_error
        self.tracker.job = {"jobId": JOB, "status": "InProgress", "startTime": 1764800000}

        def result():
            folder = f"{container_uri}/mhsm-hs1-2026120400000000"
            self.tracker.job = {
                **self.tracker.job,
                "status": "Succeeded",
                "endTime": 1764800009,
                "azureStorageBlobContainerUri": folder,
            }
            return SimpleNamespace(folder_url=folder)

        return SimpleNamespace(result=result)


def fake_clients(**behaviour):
    made = []

    def factory(cli_ctx, hsm_url, api_version, tracker=None, credential=None):
        client = FakeClient(tracker, **behaviour)
        client.args = (hsm_url, api_version, credential)
        made.append(client)
        return client

    return _patched_clients(factory), made


@contextmanager
def _patched_clients(factory):
    """The client of a backup (operations/job.py) and of a wait (operations/fleet.py), both the fake."""
    with (
        mock.patch("azext_hsmbackup.operations.job.backup_client", factory),
        mock.patch("azext_hsmbackup.operations.fleet.backup_client", factory),
    ):
        yield


def a_fleet(auth="sas"):
    storage = target_model.Target(None, None, CONTAINER, auth, "sv=1&sig=given" if auth == "sas" else None)
    return fleet.Fleet((Member(f"https://hs1{MHSM}", "hs1"),), storage=storage)


def back_up(stopping=None, skip_wait=False, auth="sas", **behaviour):
    patch, made = fake_clients(**behaviour)
    slot = runner_ops.Slot(Member(f"https://hs1{MHSM}", "hs1"))
    with patch:
        out = fleet_ops.back_up(
            CMD,
            a_fleet(auth),
            slot,
            stopping or threading.Event(),
            secret="sv=1&sig=minted" if auth != "managedIdentity" else None,
            api_version="2025-07-01",
            polling_interval=0.5,
            skip_wait=skip_wait,
            credential="CRED",
        )
    return out, made, slot


@pytest.fixture
def replaying_sdk():
    """An SDK build that replays a job start after a 401 (4.4.0-4.7.1, 4.8.0b1): the warm-up read goes first."""
    with mock.patch("azext_hsmbackup.service.keyvault.sdk_resends_job_start_after_401", return_value=True):
        yield


def test_a_backup_starts_with_the_sas_and_waits_and_the_tracker_paces():
    out, (client,), slot = back_up()
    assert client.args == (f"https://hs1{MHSM}", "2025-07-01", "CRED")
    assert [c[0] for c in client.calls] == ["begin_backup"]  # an SDK without the replay bug: no warm-up read
    assert client.calls[0][1:] == (CONTAINER, {"_polling_interval": 0, "sas_token": "sv=1&sig=minted"})
    assert slot.tracker.schedule.fixed == 0.5  # --polling-interval fixes the gap
    assert out["status"] == "Succeeded" and out["jobId"] == JOB and slot.state == "running"
    assert (
        out["folderUrl"] == f"{CONTAINER}/mhsm-hs1-2026120400000000"
        and out["folderName"] == "mhsm-hs1-2026120400000000"
    )
    assert out["startTime"] == "2025-12-03T22:13:20Z" and out["endTime"] == "2025-12-03T22:13:29Z"


def test_on_an_sdk_that_replays_a_start_the_body_less_read_goes_first(replaying_sdk):
    _, (client,), _ = back_up()
    assert [c[0] for c in client.calls] == ["GET", "begin_backup"]  # cache_the_challenge, then the one start


def test_with_the_hsms_identity_no_sas_is_sent():
    _, (client,), _ = back_up(auth="managedIdentity")
    assert client.calls[0][2] == {"_polling_interval": 0, "use_managed_identity": True}


def test_no_wait_returns_the_started_job_without_waiting():
    out, _, _ = back_up(skip_wait=True)
    assert (out["status"], out["jobId"], out["folderUrl"]) == ("InProgress", JOB, None)


def test_a_stop_before_the_start_starts_nothing():
    stopping = threading.Event()
    stopping.set()
    out, (client,), _ = back_up(stopping=stopping)
    assert out["status"] == "NotStarted" and out["reason"] == "Stopped before its job started."
    assert client.calls == []


def test_a_409_at_the_start_is_busy_and_a_403_failed():
    out, _, _ = back_up(start_error=http_error(409, "Conflict"))
    assert (out["status"], out["error"]["code"], out["jobId"]) == ("Busy", "Conflict", None)
    out, _, _ = back_up(start_error=http_error(403, "Forbidden"))
    assert out["status"] == "Failed" and "Managed HSM Backup" in out["error"]["message"]


class Pause(threading.Event):
    """The `stopping` event a worker waits on between status reads: each wait is recorded and returns at once;
    `stop_on_wait` sets the event at the first wait (Ctrl+C between two reads)."""

    def __init__(self, stop_on_wait=False):
        super().__init__()
        self.waits, self.stop_on_wait = [], stop_on_wait

    def wait(self, timeout=None):
        self.waits.append(timeout)
        if self.stop_on_wait:
            self.set()
        return self.is_set()


def wait_for(statuses, deadline=None, stopping=None):
    patch, made = fake_clients(statuses=statuses)
    slot = runner_ops.Slot(Member(f"https://hs1{MHSM}", "hs1", job_id=JOB))
    stopping = stopping or Pause()
    with patch:
        out = fleet_ops.wait_for(
            CMD,
            slot,
            stopping,
            api_version="7.6",
            polling_interval=0.25,
            deadline=deadline,
            credential="CRED",
        )
    return out, made[0], stopping


def job(status, **extra):
    return {"jobId": JOB, "status": status, "startTime": 1764800000, **extra}


def test_wait_polls_the_backup_until_it_ends():
    done = job("Succeeded", azureStorageBlobContainerUri=f"{CONTAINER}/mhsm-hs1-2026120400000000", endTime=1764800009)
    out, client, pause = wait_for([(200, job("InProgress")), (200, job("InProgress")), (200, done)])
    assert [c[1] for c in client.calls] == [f"/backup/{JOB}/pending"] * 3 and client.args[1:] == ("7.6", "CRED")
    assert pause.waits == [pytest.approx(0.25, abs=0.05)] * 2  # --polling-interval fixes the gap
    assert out["status"] == "Succeeded" and out["folderName"] == "mhsm-hs1-2026120400000000"


def test_wait_finds_a_restore_job_and_reports_its_failure():
    failed = job("Failed", error={"code": "BlobNotFound", "message": "The specified blob does not exist."})
    out, client, _ = wait_for([(404, None), (200, failed)])
    assert [c[1] for c in client.calls] == [f"/backup/{JOB}/pending", f"/restore/{JOB}/pending"]
    assert out["status"] == "Failed" and out["error"]["code"] == "BlobNotFound"
    assert out["error"]["message"].startswith(f"The restore job {JOB} on https://hs1{MHSM} failed: (BlobNotFound)")


def test_wait_for_a_job_the_hsm_does_not_have():
    out, _, _ = wait_for([(404, None), (404, None)])
    assert out["status"] == "Failed" and out["error"] == {
        "code": "NotFound",
        "message": f"No job {JOB} on https://hs1{MHSM}.",
    }


def test_wait_past_the_deadline_leaves_the_job_running():
    out, _, pause = wait_for([(200, job("InProgress"))], deadline=1)
    assert (out["status"], out["reason"], out["jobId"]) == ("InProgress", runner_ops.TIMED_OUT, JOB)
    assert pause.waits == []


def test_wait_stopped_before_a_poll_says_the_job_runs_on():
    stopping = threading.Event()
    stopping.set()
    out, client, _ = wait_for([], stopping=stopping)
    assert (out["status"], out["jobId"], client.calls) == ("InProgress", JOB, [])


def test_a_status_error_is_that_hsms_failure():
    out, _, _ = wait_for([(403, None)])
    assert out["status"] == "Failed" and out["error"]["code"] == "Boom"


def create_many(given, **flags):
    """create_many as the create command calls it, with the flags a test does not care about filled in."""
    values = {"what_if": False, "confirm": False, "skip_wait": False, "api_version": "7.6", "polling_interval": 0.3}
    values.update({"max_parallel": None, **flags})
    return fleet_ops.create_many(CMD, given, **values)


def test_what_if_touches_no_hsm_and_mints_nothing():
    given = fleet.Fleet(
        (Member(f"https://hs1{MHSM}", "hs1"), Member(f"https://hs2{MHSM}", "hs2", skip_reason="why")),
        storage=target_model.Target(None, None, CONTAINER, "mintedSas"),
    )
    patch, made = fake_clients()
    with patch, mock.patch("azext_hsmbackup.operations.fleet.storage_secret") as mint:
        out = create_many(given, what_if=True, confirm=True)
    assert [(e["hsmName"], e["status"]) for e in out] == [("hs1", "WouldBackUp"), ("hs2", "Skipped")]
    assert out[0]["reason"] == f"What if: a full backup of HSM hs1 into {CONTAINER}." and out[1]["reason"] == "why"
    assert made == [] and not mint.called


def test_create_asks_once_mints_once_and_backs_up_each(monkeypatch):
    members = tuple(Member(f"https://hs{i}{MHSM}", f"hs{i}") for i in range(1, 4))
    given = fleet.Fleet(
        (*members, Member(f"https://hs9{MHSM}", "hs9", skip_reason="why")),
        storage=target_model.Target(None, None, CONTAINER, "mintedSas"),
    )
    patch, made = fake_clients()
    with (
        patch,
        mock.patch("azext_hsmbackup.operations.fleet.storage_secret", return_value="sv=1&sig=m") as mint,
        mock.patch("azext_hsmbackup.operations.prompt.confirm") as confirm,
        mock.patch("azext_hsmbackup.operations.fleet.cli_credential", return_value="CRED") as cred,
    ):
        out = create_many(given, confirm=True, max_parallel=2)
    assert [e["status"] for e in out] == ["Succeeded"] * 3 + ["Skipped"]
    assert mint.call_count == 1 and cred.call_count == 1 and len(made) == 3
    assert (
        confirm.call_args.args[0] == f"Perform a full backup of 3 HSM(s) (hs1, hs2, hs3) into {CONTAINER} (1 skipped)?"
    )
    assert all(c.calls[0][2]["sas_token"] == "sv=1&sig=m" for c in made)


def test_nothing_is_minted_or_signed_in_when_every_hsm_is_skipped():
    given = fleet.Fleet(
        (Member(f"https://hs9{MHSM}", "hs9", skip_reason="why"),),
        storage=target_model.Target(None, None, CONTAINER, "mintedSas"),
    )
    with (
        mock.patch("azext_hsmbackup.operations.fleet.storage_secret") as mint,
        mock.patch("azext_hsmbackup.operations.fleet.cli_credential") as cred,
        mock.patch("azext_hsmbackup.operations.prompt.confirm") as confirm,
    ):
        out = create_many(given, confirm=True)
    assert [e["status"] for e in out] == ["Skipped"] and not mint.called and not cred.called and not confirm.called


def test_all_that_lists_no_hsm_is_an_error_not_a_quiet_success():
    storage = target_model.Target(None, None, CONTAINER, "managedIdentity")
    given = fleet.Fleet((), list_all=True, resource_group="rg", storage=storage, mhsm_dns_suffix=MHSM)
    with (
        mock.patch("azext_hsmbackup.service.arm.list_managed_hsms", return_value=[]) as listed,
        mock.patch("azure.cli.core.azclierror.AzCLIError.print_error"),
        mock.patch("azure.cli.core.azclierror.AzCLIError.send_telemetry"),
        pytest.raises(ExitWith) as info,
    ):
        create_many(given, what_if=True)
    assert listed.call_args.args[1] == "rg" and info.value.code == 3
    assert info.value.error.error_msg.startswith("ARM lists no Managed HSM in resource group rg: nothing to back up.")


def test_all_backs_up_what_arm_lists_each_once_with_the_identity_rule():
    records = [
        {"name": n, "type": "Microsoft.KeyVault/managedHSMs", "properties": {"hsmUri": f"https://{n}{MHSM}"}}
        for n in ("hs1", "hs1", "hs2")
    ]
    records[2]["identity"] = {"userAssignedIdentities": {"/x": {}}}
    storage = target_model.Target(None, None, CONTAINER, "managedIdentity")
    given = fleet.Fleet((), list_all=True, storage=storage, mhsm_dns_suffix=MHSM)
    with mock.patch("azext_hsmbackup.service.arm.list_managed_hsms", return_value=records):
        out = create_many(given, what_if=True)
    assert [(e["hsmName"], e["status"]) for e in out] == [("hs1", "Skipped"), ("hs2", "WouldBackUp")]


def test_wait_many_waits_for_the_jobs_and_carries_the_rest():
    given = fleet.Fleet(
        (
            Member(f"https://hs1{MHSM}", "hs1", job_id=JOB),
            Member(f"https://hs2{MHSM}", "hs2", carried={"status": "Skipped"}),
        )
    )
    done = job("Succeeded")
    patch, made = fake_clients(statuses=[(200, done)])
    with patch, mock.patch("azext_hsmbackup.operations.fleet.cli_credential", return_value="CRED"):
        out = fleet_ops.wait_many(CMD, given, timeout=None, polling_interval=1, api_version="7.6")
    assert [e["status"] for e in out] == ["Succeeded", "Skipped"] and len(made) == 1
    assert json.dumps(out)


def test_a_backup_job_that_fails_names_the_operation_and_the_container():
    job = {"jobId": JOB, "status": "Failed", "error": {"code": "ContainerNotFound", "message": "gone"}}
    response = SimpleNamespace(status_code=200, reason="OK", headers={}, text=lambda: json.dumps(job), request=None)
    failed = HttpResponseError(message="failed", response=response)
    failed.status_code = 200

    class Failing(FakeClient):
        def begin_backup(self, container_uri, **kwargs):
            poller = super().begin_backup(container_uri, **kwargs)
            poller.result = lambda: (_ for _ in ()).throw(failed)
            return poller

    slot = runner_ops.Slot(Member(f"https://hs1{MHSM}", "hs1"))
    with _patched_clients(lambda *a, **k: Failing(a[3])):
        out = fleet_ops.back_up(
            CMD, a_fleet(), slot, threading.Event(), secret="s", api_version="x", polling_interval=1, skip_wait=False,
            credential=None,
        )  # fmt: skip
    assert out["status"] == "Failed" and out["jobId"] == JOB
    assert out["error"]["message"].startswith(f"The backup job {JOB} on https://hs1{MHSM} failed: (ContainerNotFound)")
    assert "--account-name acct --name bkp" in out["error"]["message"]


def test_wait_stopped_between_polls_says_the_job_runs_on():
    stopping = Pause(stop_on_wait=True)
    patch, made = fake_clients(statuses=[(200, job("InProgress"))])
    slot = runner_ops.Slot(Member(f"https://hs1{MHSM}", "hs1", job_id=JOB))
    with patch:
        out = fleet_ops.wait_for(
            CMD, slot, stopping, api_version="7.6", polling_interval=1, deadline=None, credential=None
        )
    assert (out["status"], out["jobId"], out["error"]) == ("InProgress", JOB, None) and len(made[0].calls) == 1
    assert made[0].args[0] == f"https://hs1{MHSM}" and slot.state == "running"


def test_the_workers_are_daemon_threads_named_for_the_extension():
    seen, both = [], threading.Barrier(2)

    def work(slot, _):
        both.wait(5)  # each worker holds one HSM
        seen.append((threading.current_thread().daemon, threading.current_thread().name))
        return runner_ops.entry(slot.member, "Succeeded")

    runner_ops.run([Member(f"https://hs{i}{MHSM}", f"hs{i}") for i in range(2)], work, 2, "backup")
    assert sorted(seen) == [(True, "hsm-backup-0"), (True, "hsm-backup-1")]  # Ctrl+C never waits for a worker
