"""Several HSMs at once: at most `parallel` of them in worker threads of one process, each HSM's outcome in its own
entry (a failure or a 409 on one never stops the others), progress on stderr, and on Ctrl+C each HSM's job id with
the command that checks on it. What the work of one HSM is: operations/fleet.py."""

import threading

from knack.log import get_logger

from azext_hsmbackup._stop import stops_with
from azext_hsmbackup._text import code_text, service_line
from azext_hsmbackup.errors import (
    EXIT_BAD_ANSWER,
    EXIT_CONFLICT,
    EXIT_SOME_FAILED,
    EXIT_TIMEOUT,
    fail_after_output,
    one_line,
    show_command,
)
from azext_hsmbackup.model.answers import folder_name, iso_time
from azext_hsmbackup.service.failures import sdk_failure

logger = get_logger(__name__)


ENTRY_KEYS = (
    "hsmName",
    "hsmUrl",
    "resourceId",
    "status",
    "folderUrl",
    "folderName",
    "jobId",
    "startTime",
    "endTime",
    "error",
    "reason",
)


# What a status means for the exit code: these end in EXIT_SOME_FAILED (the rest of the array is still printed).
# Unknown: the HSM's answer about the job could not be read, so whether it was backed up is not known.
NOT_DONE = ("Failed", "Busy", "NotStarted", "Unknown")


def entry(member, status, **fields):
    """One HSM's line of the output, always with every key, in one order."""
    values = {"hsmName": member.hsm_name, "hsmUrl": member.hsm_url, "resourceId": member.resource_id, "status": status}
    values.update(fields)
    return {key: values.get(key) for key in ENTRY_KEYS}


def job_fields(job):
    """The fields of an entry that a job document (checked by answers.read_job) gives."""
    folder_url = job.get("azureStorageBlobContainerUri")
    return {
        "jobId": job.get("jobId"),
        "folderUrl": folder_url,
        "folderName": folder_name(folder_url),
        "startTime": iso_time(job.get("startTime")),
        "endTime": iso_time(job.get("endTime")),
    }


def failed_entry(member, ex, operation, job, *, secrets=(), container_uri=None):
    """Failed (Busy for a 409, Unknown for an answer that cannot be read) with the service's code and our one line,
    from whatever the SDK raised."""

    failure = sdk_failure(ex, member.hsm_url, operation, secrets, container_uri)
    if failure is None:  # not the service's or the network's words: still this HSM's failure only
        code, status = "UnexpectedError", "Failed"
        message = f"{member.hsm_url}: the {operation} stopped on an unexpected error: {service_line(str(ex), secrets)}"
    else:
        service = getattr(getattr(ex, "error", None), "code", None)
        code = failure.service_code or code_text(service) or type(failure.error).__name__
        message = one_line(failure.error)
        status = {EXIT_CONFLICT: "Busy", EXIT_BAD_ANSWER: "Unknown"}.get(failure.code, "Failed")
    fields = job_fields(job) if job.get("jobId") else {}
    if not fields and getattr(ex, "job_id", None):  # an unreadable answer about a job whose id was readable
        fields = {"jobId": ex.job_id}
    return entry(member, status, **fields, error={"code": code, "message": message})


class Slot:  # pylint: disable=too-few-public-methods  # a record of one worker's progress
    """What one HSM's worker has got to, for the progress line and for an honest answer to Ctrl+C."""

    def __init__(self, member):
        self.member = member
        self.state = "queued"  # queued -> starting -> running -> done
        self.tracker = None
        self.watch = None
        self.entry = None

    @property
    def job_id(self):
        return (self.tracker.job.get("jobId") if self.tracker else None) or self.member.job_id


class Runner:  # pylint: disable=too-many-instance-attributes  # the run's state, shared with its threads
    """Runs `work(slot)` for each slot on at most `parallel` threads; `work` returns the slot's entry."""

    def __init__(self, slots, work, parallel, verb, *, where_it_shows=None):
        self.slots, self.work, self.verb = slots, work, verb
        self.where_it_shows = where_it_shows  # member -> the command that shows a job that may have started
        self.parallel = max(1, min(parallel, len(slots)))
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._next = 0

    def run(self):
        if not self.slots:
            return
        workers = [
            threading.Thread(target=self._worker, name=f"hsm-backup-{number}", daemon=True)
            for number in range(self.parallel)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:  # each worker ends once no HSM is left (or dies of a bug: the command still ends)
            while worker.is_alive():
                worker.join(0.2)  # short waits: Ctrl+C reaches the main thread at once

    def _take(self):
        with self._lock:
            if self.stopping.is_set() or self._next >= len(self.slots):
                return None
            slot = self.slots[self._next]
            self._next += 1
            slot.state = "starting"
            return slot

    def _worker(self):
        while True:
            slot = self._take()
            if slot is None:
                return
            try:
                slot.entry = self.work(slot)
            except Exception as ex:  # pylint: disable=broad-exception-caught
                slot.entry = failed_entry(slot.member, ex, self.verb, {})
            with self._lock:
                slot.state = "done"
                try:
                    self._report(slot)
                except Exception:  # pylint: disable=broad-exception-caught  # a progress line never stops the work
                    logger.debug("The progress line of %s failed.", slot.member.hsm_name, exc_info=True)

    def _report(self, slot):
        """One HSM's line as it leaves the runner. A job is counted as done only once it has ended: under --no-wait,
        or when --timeout ran out, it runs on and counts as running."""
        counts = {"done": 0, "running": 0, "failed": 0}
        for other in self.slots:
            running_job = other.state == "done" and other.entry["status"] == "InProgress"
            if other.state in ("starting", "running") or running_job:
                counts["running"] += 1
            elif other.state == "done":
                counts["done"] += 1
                counts["failed"] += other.entry["status"] in NOT_DONE
        done = slot.entry
        if done["status"] == "InProgress":
            detail = f"job {done['jobId']}" if done["jobId"] else ""
        else:
            detail = done["folderName"] or (done["error"] or {}).get("code") or ""
        logger.warning(
            "%s: %s%s. Done %d of %d, running %d, failed %d.",
            slot.member.hsm_name,
            done["status"],
            f" ({detail})" if detail else "",
            counts["done"],
            len(self.slots),
            counts["running"],
            counts["failed"],
        )

    def stopped(self):
        """The Ctrl+C / SIGTERM message: per HSM, its job and the command that checks it, or what did not start."""
        self.stopping.set()
        waiting = "waiting" if self.verb == "wait" else f"the {self.verb}s"
        lines = [f"Stopped {waiting}. Each job already started keeps running on its HSM:"]
        for slot in self.slots:
            name, job_id = slot.member.hsm_name, slot.job_id
            if slot.state == "done" and slot.entry["status"] not in ("InProgress",):
                lines.append(f"  {name}: {slot.entry['status']}.")
            elif job_id:
                lines.append(f"  {name}: job {job_id}, check on it with: {show_command(slot.member.hsm_url, job_id)}")
            elif slot.state == "queued" or not (slot.watch and slot.watch.may_have_started):
                lines.append(f"  {name}: not started.")
            else:
                shows = f"; its folder shows up in: {self.where_it_shows(slot.member)}" if self.where_it_shows else ""
                lines.append(f"  {name}: the {self.verb} request went out unanswered: a job may have started{shows}")
        return "\n".join(lines)


def run(members, work, parallel, verb, where_it_shows=None):
    """Entries in the members' order: the skipped ones as they are, the others through `work(slot, stopping)` in
    parallel (`stopping` is set once Ctrl+C came: a worker starts no job after it)."""

    slots = [Slot(m) for m in members]
    pending = [s for s in slots if s.entry is None and not _settled(s)]
    runner = Runner(pending, lambda slot: work(slot, runner.stopping), parallel, verb, where_it_shows=where_it_shows)
    if pending:
        logger.warning(
            "%s %d HSM(s), at most %d at once%s.",
            "Backing up" if verb == "backup" else "Waiting for",
            len(pending),
            runner.parallel,
            f"; skipped {len(slots) - len(pending)}" if len(slots) > len(pending) else "",
        )
    with stops_with(runner.stopped):
        runner.run()
    return [s.entry for s in slots]


def _settled(slot):
    """A member that gets no job: skipped before anything starts, or carried over from create --no-wait's output."""
    member = slot.member
    if member.skip_reason:
        slot.entry = entry(member, "Skipped", reason=member.skip_reason)
        logger.warning("Skipped %s: %s", member.hsm_name, member.skip_reason)
    elif member.carried is not None:
        carried = dict(member.carried)
        slot.entry = entry(member, carried.pop("status", None) or "NotStarted", **carried)
    return slot.entry is not None


def outcome(entries, failed="were not backed up"):
    """(exit code, one line) of a whole run; (0, None) when every HSM that was not skipped did what was asked."""

    bad = [e for e in entries if e["status"] in NOT_DONE]
    if entries and all(e["status"] == "Skipped" for e in entries):  # nothing was backed up: never a quiet success
        return EXIT_SOME_FAILED, (
            f"None of the {len(entries)} HSM(s) was backed up: every one was skipped. Each entry's reason says why; "
            "fix that, or name the HSMs to back up with --ids or --hsm-object."
        )
    if bad:
        listed = ", ".join(f"{e['hsmName']} ({e['status']})" for e in bad[:10])
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        return EXIT_SOME_FAILED, (
            f"{len(bad)} of {len(entries)} HSMs {failed}: {listed}{more}. Each HSM's status, error and reason are "
            "in the output; run the command again for those once the cause is fixed."
        )
    still = [e for e in entries if e["status"] == "InProgress"]
    if still and any(e.get("reason") == TIMED_OUT for e in still):
        return EXIT_TIMEOUT, f"{len(still)} job(s) still running when --timeout ran out; they keep running."
    return 0, None


TIMED_OUT = "Still running when --timeout ran out; the job keeps running."


def exit_after_output(cli_ctx, entries, failed="were not backed up"):
    """A run with a failed HSM exits non-zero, but only after az has printed the whole array to stdout."""

    code, line = outcome(entries, failed)
    if code:
        fail_after_output(cli_ctx, code, line)
