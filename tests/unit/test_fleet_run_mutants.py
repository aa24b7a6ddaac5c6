"""What `make mutation MODULE=fleet_run` found held by nothing: the progress line's counts, each slot's state, the
stop line of every kind of slot, the exact exit-9 line, and what create_many and wait_many hand on."""

import threading
from types import SimpleNamespace
from unittest import mock

import pytest

from azext_hsmbackup.errors import EXIT_SOME_FAILED, ExitWith
from azext_hsmbackup.model import fleet
from azext_hsmbackup.model import target as target_model
from azext_hsmbackup.model.fleet import Member
from azext_hsmbackup.operations import fleet as fleet_ops
from azext_hsmbackup.operations import runner as runner_ops
from tests.unit.test_fleet_work import CMD, CONTAINER, JOB, MHSM, create_many, fake_clients, http_error

HSMS = [Member(f"https://hs{i}{MHSM}", f"hs{i}") for i in range(4)]


def progress(members, statuses, parallel):
    """Run with work that ends as `statuses` say, in order; the progress lines logged."""
    turns = [threading.Event() for _ in members]
    turns[0].set()
    all_taken = threading.Barrier(parallel)

    def work(slot, _):
        index = members.index(slot.member)
        all_taken.wait(5)  # every worker has its slot before the first one ends
        turns[index].wait(5)
        out = runner_ops.entry(
            slot.member, statuses[index], folderName=f"f{index}" if statuses[index] == "Succeeded" else None
        )
        if statuses[index] == "Failed":
            out["error"] = {"code": "Boom", "message": "m"}
        if index + 1 < len(turns):
            threading.Timer(0.05, turns[index + 1].set).start()
        return out

    with mock.patch.object(runner_ops.logger, "warning") as warning:
        entries = runner_ops.run(members, work, parallel, "backup")
    return entries, [call.args[0] % call.args[1:] for call in warning.call_args_list]


def test_the_progress_line_counts_done_running_and_failed():
    entries, lines = progress(HSMS[:3], ["Succeeded", "Failed", "Busy"], parallel=3)
    assert lines == [
        "Backing up 3 HSM(s), at most 3 at once.",
        "hs0: Succeeded (f0). Done 1 of 3, running 2, failed 0.",
        "hs1: Failed (Boom). Done 2 of 3, running 1, failed 1.",
        "hs2: Busy. Done 3 of 3, running 0, failed 2.",
    ]
    assert [e["status"] for e in entries] == ["Succeeded", "Failed", "Busy"]


def test_the_first_line_names_what_was_skipped_and_waiting_says_so():
    given = [HSMS[0], Member(HSMS[1].hsm_url, "hs1", skip_reason="why")]
    with mock.patch.object(runner_ops.logger, "warning") as warning:
        runner_ops.run(given, lambda slot, _: runner_ops.entry(slot.member, "Succeeded"), 5, "wait")
    lines = [call.args[0] % call.args[1:] for call in warning.call_args_list]
    assert lines[0] == "Skipped hs1: why" and lines[1] == "Waiting for 1 HSM(s), at most 1 at once; skipped 1."


def test_each_slot_is_done_after_the_run_and_starting_while_its_work_runs():
    seen = []

    def work(slot):
        seen.append(slot.state)
        return runner_ops.entry(slot.member, "Succeeded")

    slots = [runner_ops.Slot(m) for m in HSMS[:2]]
    runner = runner_ops.Runner(slots, work, 2, "backup")
    runner.run()
    assert seen == ["starting", "starting"] and [s.state for s in slots] == ["done", "done"]
    assert runner._take() is None


def test_a_crash_in_the_work_is_reported_with_the_runs_verb():
    def work(slot, _):
        raise http_error(409, "Conflict")

    (out,) = runner_ops.run(HSMS[:1], work, 1, "backup")
    assert out["status"] == "Busy" and "to the backup" not in out["error"]["message"]
    assert out["error"]["message"].startswith(f"Another backup or restore is already running on https://hs0{MHSM}")


def test_a_stopped_runner_takes_nothing_more():
    runner = runner_ops.Runner([runner_ops.Slot(m) for m in HSMS[:2]], None, 1, "backup")
    runner.stopping.set()
    assert runner._take() is None


def test_the_stop_line_of_each_kind_of_slot():
    slots = [runner_ops.Slot(m) for m in HSMS]
    slots[0].state, slots[0].entry = "done", runner_ops.entry(HSMS[0], "InProgress", jobId=JOB)  # --no-wait
    slots[0].tracker = SimpleNamespace(job={"jobId": JOB})
    slots[1].state = "starting"  # no watch yet: nothing went out
    slots[2].state, slots[2].watch = "starting", SimpleNamespace(may_have_started=False)
    slots[3].state, slots[3].watch = "starting", SimpleNamespace(may_have_started=True)
    text = runner_ops.Runner(slots, None, 1, "backup").stopped()
    assert text.splitlines() == [
        "Stopped the backups. Each job already started keeps running on its HSM:",
        f"  hs0: job {JOB}, check on it with: az hsm-backup show --id https://hs0{MHSM} --job-id {JOB}",
        "  hs1: not started.",
        "  hs2: not started.",
        "  hs3: the backup request went out unanswered: a job may have started",
    ]


def test_the_exit_line_word_for_word():
    rows = [runner_ops.entry(m, s) for m, s in zip(HSMS, ["Failed", "Succeeded", "Busy", "InProgress"], strict=True)]
    code, line = runner_ops.outcome(rows)
    assert code == EXIT_SOME_FAILED
    assert line == (
        "2 of 4 HSMs were not backed up: hs0 (Failed), hs2 (Busy). Each HSM's status, error and reason are in the "
        "output; run the command again for those once the cause is fixed."
    )
    ten = [runner_ops.entry(Member(f"https://h{i:02d}{MHSM}", f"h{i:02d}"), "Failed") for i in range(10)]
    assert " more" not in runner_ops.outcome(ten)[1] and "h09 (Failed)." in runner_ops.outcome(ten)[1]
    eleven = [*ten, runner_ops.entry(HSMS[0], "Failed")]
    assert "h09 (Failed) and 1 more." in runner_ops.outcome(eleven)[1]
    assert runner_ops.outcome([runner_ops.entry(HSMS[0], "InProgress", reason="other")]) == (0, None)


def test_exit_after_output_says_what_failed():
    handlers = []
    cli_ctx = SimpleNamespace(register_event=lambda name, fn: handlers.append(fn))
    runner_ops.exit_after_output(cli_ctx, [runner_ops.entry(HSMS[0], "Failed")], failed="have no job that succeeded")
    with (
        mock.patch("azure.cli.core.azclierror.AzCLIError.print_error"),
        mock.patch("azure.cli.core.azclierror.AzCLIError.send_telemetry"),
        pytest.raises(ExitWith) as info,
    ):
        handlers[0](cli_ctx)
    assert info.value.error.error_msg.startswith("1 of 1 HSMs have no job that succeeded: hs0 (Failed).")


def test_the_folder_name_is_the_last_segment_of_the_folder_url():
    fields = runner_ops.job_fields(
        {"jobId": JOB, "azureStorageBlobContainerUri": f"{CONTAINER}/mhsm-hs1-2026120400000000/"}
    )
    assert fields["folderName"] == "mhsm-hs1-2026120400000000"
    deep = runner_ops.job_fields({"azureStorageBlobContainerUri": "https://a.blob.core.windows.net/x/y/mhsm-b-1"})
    assert deep["folderName"] == "mhsm-b-1" and deep["folderUrl"].endswith("/x/y/mhsm-b-1")


def test_a_failed_job_entry_names_the_operation_and_the_container():
    from azure.core.exceptions import HttpResponseError

    job = {"jobId": JOB, "status": "Failed", "error": {"code": "ContainerNotFound", "message": "gone"}}
    response = SimpleNamespace(status_code=200, reason="OK", headers={}, text=lambda: __import__("json").dumps(job))
    ex = HttpResponseError(message="failed", response=response)
    ex.status_code = 200
    out = runner_ops.failed_entry(HSMS[0], ex, "backup", job, container_uri=CONTAINER)
    assert out["error"]["message"].startswith(f"The backup job {JOB} on https://hs0{MHSM} failed: (ContainerNotFound)")
    assert "az storage container create --account-name acct --name bkp" in out["error"]["message"]
    assert out["jobId"] == JOB and runner_ops.failed_entry(HSMS[0], ex, "backup", {})["jobId"] is None


def test_an_unmapped_error_is_an_unexpected_error_of_that_hsm_and_masks_secrets():
    out = runner_ops.failed_entry(HSMS[0], KeyError(""), "backup", {})
    assert out["error"] == {
        "code": "UnexpectedError",
        "message": f"https://hs0{MHSM}: the backup stopped on an unexpected error: ''",
    }
    masked = runner_ops.failed_entry(HSMS[0], RuntimeError("x SECRET1 y"), "backup", {}, secrets=["SECRET1"])
    assert "SECRET1" not in masked["error"]["message"]


def test_a_service_error_without_a_code_is_named_by_its_class():
    error = http_error(500, None)
    error.error = None
    out = runner_ops.failed_entry(HSMS[0], error, "backup", {})
    assert out["error"]["code"] == "AzureResponseError"


# ---- what the commands hand on --------------------------------------------------------------------------------


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
