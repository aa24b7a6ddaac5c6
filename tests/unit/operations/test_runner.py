"""Several HSMs at once (operations/runner.py): the bounded runner, each HSM's entry, the progress line, the stop lines
and the exit code of a whole run."""

import json
import threading
import time
from types import SimpleNamespace
from unittest import mock

import pytest
from azure.cli.core import azclierror
from azure.core.exceptions import HttpResponseError

from azext_hsmbackup.errors import EXIT_SOME_FAILED, EXIT_TIMEOUT, ExitWith
from azext_hsmbackup.model import fleet
from azext_hsmbackup.model.fleet import Member
from azext_hsmbackup.operations import runner as runner_ops
from tests.unit.fakes import CONTAINER, HSMS, JOB, MHSM, http_error


def members(count):
    return [Member(f"https://h{i}{MHSM}", f"h{i}") for i in range(count)]


def test_at_most_parallel_run_at_once_and_entries_keep_the_given_order():
    lock, running, peak = threading.Lock(), [0], [0]

    def work(slot, stopping):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05 * (7 - int(slot.member.hsm_name[1:])))  # later ones finish first
        with lock:
            running[0] -= 1
        return runner_ops.entry(slot.member, "Succeeded", jobId=slot.member.hsm_name)

    out = runner_ops.run(members(7), work, 3, "backup")
    assert [e["hsmName"] for e in out] == [f"h{i}" for i in range(7)] and peak[0] == 3
    assert all(list(e) == list(runner_ops.ENTRY_KEYS) for e in out)


def test_wait_carries_what_create_no_wait_said_of_hsms_without_a_job():
    text = json.dumps(
        [
            {"hsmUrl": f"https://a{MHSM}", "status": "Skipped", "reason": "not active"},
            {"hsmUrl": f"https://b{MHSM}", "status": "Busy", "error": {"code": "Conflict", "message": "m"}},
            {"hsmUrl": f"https://c{MHSM}"},
            {"hsmUrl": f"https://d{MHSM}", "jobId": JOB},
        ]
    )
    out = runner_ops.run(
        fleet.members_from_jobs(text), lambda slot, _: runner_ops.entry(slot.member, "Succeeded"), 2, "wait"
    )
    assert [(e["hsmName"], e["status"]) for e in out] == [
        ("a", "Skipped"),
        ("b", "Busy"),
        ("c", "NotStarted"),
        ("d", "Succeeded"),
    ]
    assert out[0]["reason"] == "not active" and out[1]["error"] == {"code": "Conflict", "message": "m"}


def service_error(status, code):
    response = SimpleNamespace(status_code=status, reason="x", headers={}, text=lambda: "", request=None)
    error = HttpResponseError(message=f"({code}) busy", response=response)
    error.status_code, error.error = status, SimpleNamespace(code=code, message="busy")
    return error


def test_a_409_is_busy_and_other_answers_are_failed_with_the_services_code():
    member = members(1)[0]
    busy = runner_ops.failed_entry(member, service_error(409, "Conflict"), "backup", {})
    assert busy["status"] == "Busy" and busy["error"]["code"] == "Conflict"
    assert member.hsm_url in busy["error"]["message"] and "(409)" in busy["error"]["message"]
    denied = runner_ops.failed_entry(member, service_error(403, "Forbidden"), "backup", {"jobId": JOB})
    assert denied["status"] == "Failed" and denied["error"]["code"] == "Forbidden" and denied["jobId"] == JOB
    secret = runner_ops.failed_entry(member, ValueError("sig=SECRET123 in here"), "backup", {}, secrets=["SECRET123"])
    assert "SECRET123" not in json.dumps(secret)


def test_a_job_that_failed_is_failed_with_the_jobs_code():
    job = {"jobId": JOB, "status": "Failed", "error": {"code": "ContainerNotFound", "message": "no container"}}
    response = SimpleNamespace(status_code=200, reason="OK", headers={}, text=lambda: json.dumps(job), request=None)
    ex = HttpResponseError(message="failed", response=response)
    ex.status_code = 200
    out = runner_ops.failed_entry(members(1)[0], ex, "backup", job, container_uri=CONTAINER)
    assert out["status"] == "Failed" and out["error"]["code"] == "ContainerNotFound" and out["jobId"] == JOB
    assert "az storage container create" in out["error"]["message"]


def entries(*statuses, reason=None):
    return [runner_ops.entry(m, s, reason=reason) for m, s in zip(members(len(statuses)), statuses, strict=True)]


def test_the_exit_code_is_0_only_when_every_hsm_not_skipped_did_what_was_asked():
    assert runner_ops.outcome(entries("Succeeded", "Skipped", "Succeeded")) == (0, None)
    assert runner_ops.outcome(entries("InProgress", "InProgress")) == (0, None)  # --no-wait: started is done
    for bad in ("Failed", "Busy", "NotStarted"):
        code, line = runner_ops.outcome(entries("Succeeded", bad))
        assert code == EXIT_SOME_FAILED and f"1 of 2 HSMs were not backed up: h1 ({bad})" in line
    code, line = runner_ops.outcome(entries("InProgress", "Succeeded", reason=runner_ops.TIMED_OUT))
    assert code == EXIT_TIMEOUT and "--timeout" in line
    assert runner_ops.outcome(entries("Failed", "InProgress", reason=runner_ops.TIMED_OUT))[0] == EXIT_SOME_FAILED
    assert (
        "1 of 1 HSMs have no job that succeeded: h0 (Failed)."
        in runner_ops.outcome(entries("Failed"), "have no job that succeeded")[1]
    )
    code, line = runner_ops.outcome(entries(*["Failed"] * 12))
    assert "h9 (Failed) and 2 more" in line and "h10" not in line


def test_the_exit_code_comes_after_the_output():
    handlers = {}
    cli_ctx = SimpleNamespace(register_event=handlers.setdefault)
    runner_ops.exit_after_output(cli_ctx, entries("Succeeded"))
    assert handlers == {}
    with (
        mock.patch.object(azclierror.AzCLIError, "print_error"),
        mock.patch.object(azclierror.AzCLIError, "send_telemetry"),
    ):
        runner_ops.exit_after_output(cli_ctx, entries("Succeeded", "Busy"))
        (handler,) = handlers.values()
        with pytest.raises(ExitWith) as info:
            handler(cli_ctx, result=None)
    assert info.value.code == EXIT_SOME_FAILED


def test_a_stop_names_each_hsms_job_and_what_did_not_start():
    given = members(4)
    slots = [runner_ops.Slot(m) for m in given]
    slots[0].state, slots[0].entry = "done", runner_ops.entry(given[0], "Succeeded")
    slots[1].state, slots[1].tracker = "running", SimpleNamespace(job={"jobId": JOB})
    slots[2].state, slots[2].watch = "starting", SimpleNamespace(may_have_started=True)
    runner = runner_ops.Runner(
        slots, None, 2, "backup", where_it_shows=lambda m: f"az hsm-backup list --hsm-name {m.hsm_name}"
    )
    text = runner.stopped()
    assert runner.stopping.is_set()
    assert text.startswith("Stopped the backups. Each job already started keeps running on its HSM:\n")
    assert "h0: Succeeded." in text
    assert f"h1: job {JOB}, check on it with: az hsm-backup show --id https://h1{MHSM} --job-id {JOB}" in text
    assert "h2: the backup request went out unanswered" in text and "az hsm-backup list --hsm-name h2" in text
    assert "h3: not started." in text
    waiting = runner_ops.Runner([runner_ops.Slot(given[0].with_job(JOB))], None, 1, "wait").stopped()
    assert waiting.startswith("Stopped waiting. Each job already started keeps running on its HSM:")
    assert f"h0: job {JOB}, check on it with:" in waiting


def test_the_table_has_the_same_columns_in_every_row_whatever_is_empty():
    from azext_hsmbackup._format import job_table

    rows = job_table(entries("Succeeded", "Skipped", "Busy", reason="why"))
    assert [list(r) for r in rows] == [["HsmName", "Status", "FolderName", "JobId", "Error", "Reason"]] * 3
    assert all(value is not None for row in rows for value in row.values())  # az's table drops a None cell
    assert [r["Reason"] for r in rows] == ["", "why", ""]  # a reason shows for a skipped HSM only


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


def test_a_job_carried_over_from_create_keeps_its_status_or_is_not_started():
    carried = [
        Member(HSMS[0].hsm_url, "hs0", carried={"status": "InProgress", "jobId": JOB}),
        Member(HSMS[1].hsm_url, "hs1", carried={"jobId": None, "error": {"code": "Conflict", "message": "m"}}),
    ]
    out = runner_ops.run(carried, lambda slot, _: pytest.fail("a carried entry gets no work"), 2, "wait")
    assert [(e["hsmName"], e["status"], e["jobId"]) for e in out] == [
        ("hs0", "InProgress", JOB),
        ("hs1", "NotStarted", None),
    ]
    assert out[1]["error"] == {"code": "Conflict", "message": "m"}


def test_an_entry_names_the_hsms_resource_id():
    member = Member(HSMS[0].hsm_url, "hs0", resource_id="/subscriptions/s/x")
    assert runner_ops.entry(member, "Succeeded")["resourceId"] == "/subscriptions/s/x"


def test_an_unreadable_answer_about_a_job_is_unknown_with_that_jobs_id():
    from azext_hsmbackup.model.answers import UnreadableAnswer

    out = runner_ops.failed_entry(HSMS[0], UnreadableAnswer("is not JSON", JOB), "backup", {})
    assert (out["status"], out["jobId"], out["error"]["code"]) == ("Unknown", JOB, "UnreadableAnswer")
    assert out["folderUrl"] is None and out["startTime"] is None
    no_id = runner_ops.failed_entry(HSMS[0], UnreadableAnswer("is not JSON"), "backup", {})
    assert (no_id["status"], no_id["jobId"]) == ("Unknown", None)


def test_a_run_that_skipped_every_hsm_says_so_word_for_word():
    assert runner_ops.outcome(entries("Skipped", "Skipped")) == (
        EXIT_SOME_FAILED,
        "None of the 2 HSM(s) was backed up: every one was skipped. Each entry's reason says why; fix that, or name "
        "the HSMs to back up with --ids or --hsm-object.",
    )


def test_only_the_jobs_still_running_count_for_the_timeout_line():
    rows = [*entries("InProgress", "InProgress", reason=runner_ops.TIMED_OUT), *entries("Succeeded")]
    assert runner_ops.outcome(rows) == (
        EXIT_TIMEOUT,
        "2 job(s) still running when --timeout ran out; they keep running.",
    )


def test_a_job_left_running_counts_as_running_and_names_its_job():
    slots = [runner_ops.Slot(m) for m in HSMS[:3]]
    slots[0].state, slots[0].entry = "done", runner_ops.entry(HSMS[0], "InProgress", jobId=JOB)
    slots[1].state, slots[1].entry = "done", runner_ops.entry(HSMS[1], "InProgress")  # no job id readable
    slots[2].state = "running"
    runner = runner_ops.Runner(slots, None, 1, "backup")
    with mock.patch.object(runner_ops.logger, "warning") as warning:
        runner._report(slots[0])
        runner._report(slots[1])
    lines = [call.args[0] % call.args[1:] for call in warning.call_args_list]
    assert lines == [
        f"hs0: InProgress (job {JOB}). Done 0 of 3, running 3, failed 0.",
        "hs1: InProgress. Done 0 of 3, running 3, failed 0.",
    ]


def test_a_stopped_run_says_where_a_job_that_may_have_started_shows():
    def stop_mid_start(self):
        self.slots[0].state, self.slots[0].watch = "starting", SimpleNamespace(may_have_started=True)
        raise KeyboardInterrupt

    with (
        mock.patch.object(runner_ops.Runner, "run", stop_mid_start),
        mock.patch.object(azclierror.AzCLIError, "print_error"),
        mock.patch.object(azclierror.AzCLIError, "send_telemetry"),
        pytest.raises(ExitWith) as info,
    ):
        runner_ops.run(
            HSMS[:1], None, 1, "backup", where_it_shows=lambda m: f"az hsm-backup list --hsm-name {m.hsm_name}"
        )
    assert info.value.error.error_msg.endswith(
        "hs0: the backup request went out unanswered: a job may have started; its folder shows up in: "
        "az hsm-backup list --hsm-name hs0"
    )


def test_a_skipped_member_gets_no_work_and_a_crash_is_that_members_failure():
    called = []

    def work(slot, stopping):
        called.append(slot.member.hsm_name)
        if slot.member.hsm_name == "h1":
            raise RuntimeError("boom at h1")
        return runner_ops.entry(slot.member, "Succeeded")

    given = members(3)
    given[2] = Member(given[2].hsm_url, "h2", skip_reason="not active")
    out = runner_ops.run(given, work, 5, "backup")
    assert sorted(called) == ["h0", "h1"]
    assert [e["status"] for e in out] == ["Succeeded", "Failed", "Skipped"]
    assert out[1]["error"]["code"] == "UnexpectedError"  # the class name of a Python error is no error code
    assert out[1]["error"]["message"].endswith("the backup stopped on an unexpected error: boom at h1")
    assert out[2]["reason"] == "not active"


def test_a_progress_line_that_fails_stops_neither_the_others_nor_the_run():
    def work(slot, _):
        return runner_ops.entry(slot.member, "Succeeded")

    with (
        mock.patch.object(runner_ops.Runner, "_report", side_effect=RuntimeError("log broke")),
        mock.patch.object(runner_ops.logger, "debug") as debug,
    ):
        out = runner_ops.run(HSMS[:3], work, 1, "backup")
    assert [e["status"] for e in out] == ["Succeeded"] * 3
    assert [c.args for c in debug.call_args_list] == [("The progress line of %s failed.", f"hs{i}") for i in range(3)]
    assert all(c.kwargs == {"exc_info": True} for c in debug.call_args_list)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_worker_that_dies_of_a_bug_does_not_leave_the_command_waiting():
    def work(slot, _):
        raise RuntimeError("boom")

    started = time.monotonic()
    with mock.patch.object(runner_ops, "failed_entry", side_effect=RuntimeError("a bug in the bookkeeping")):
        out = runner_ops.run(HSMS[:2], work, 2, "backup")
    assert out == [None, None] and time.monotonic() - started < 5
