"""Jobs: one thread each, InProgress for `job_duration_s`, then Succeeded or Failed - and the bodies they show.

Body key order is the real service's (rest-api.md 2.2, recordings): a backup-family 202 lists the keys in spec order,
every other body (polls, and all restore-family bodies, 202 included) alphabetically. Restore-family bodies have no
azureStorageBlobContainerUri. A failed job keeps HTTP 200 and carries statusDetails = error.code.
"""

import threading
import time
import uuid

from tests.mhsm_emulator import clock
from tests.mhsm_emulator.reqlog import mask_text
from tests.mhsm_emulator.storage import StorageFailure

BACKUP_KINDS = ("backup", "prebackup")  # polled on /backup/{id}/pending
RESTORE_KINDS = ("restore", "selective", "prerestore")  # polled on /restore/{id}/pending


class Abandoned(Exception):
    """The emulator was reset while the job's work was under way: the job is forgotten."""


class Conflict(Exception):
    def __init__(self, running_kind):
        activity = uuid.uuid4()
        if running_kind in RESTORE_KINDS:
            text = (
                "User triggered Restore operation is in progress. Retry after the restore operation "
                f"(Activity ID: {activity})"
            )
        else:
            text = (
                f"Another backup operation is in progress. Retry after the backup operation (Activity ID: {activity})"
            )
        super().__init__(text)
        self.message = text


class Job:
    def __init__(self, hsm_name, kind, duration, generation, details):
        self.id = uuid.uuid4().hex
        self.hsm_name = hsm_name
        self.kind = kind
        self.family = "backup" if kind in BACKUP_KINDS else "restore"
        # The emulator's clock when the job starts, kept for the job's life: a set_clock while it runs moves
        # neither its pacing nor its end.
        self.offset = clock.offset()
        self.start = self.now()
        self.duration = duration
        self.generation = generation
        self.details = details  # what the admin API shows: storage URI (masked), folder, key, auth kind
        self.status = "InProgress"
        self.end = None
        self.status_details = None
        self.error = None
        self.result_uri = None

    def now(self):
        return time.time() + self.offset

    def body(self, accepted=False):
        values = {
            "status": self.status,
            "statusDetails": self.status_details,
            "error": self.error,
            "startTime": int(self.start),
            "endTime": None if self.end is None else int(self.end),
            "jobId": self.id,
        }
        if self.family == "backup":
            values["azureStorageBlobContainerUri"] = self.result_uri
            if accepted:
                return values  # spec order, as the real 202
        return dict(sorted(values.items()))

    def describe(self):
        # started/ended: the exact times (the bodies have whole seconds), so a test can see how many ran at once
        exact = {"started": self.start, "ended": self.end}
        return {"jobId": self.id, "hsm": self.hsm_name, "kind": self.kind, **self.body(), **exact, **self.details}


class JobManager:
    def __init__(self):
        self._lock = threading.Lock()
        self._jobs = {}
        self._generation = 0
        self._wake = threading.Event()  # set on reset/shutdown so that waiting jobs let go at once

    def start(self, hsm_name, kind, duration, work, take_forced_failure=None, details=None):
        """Create and start a job, or raise Conflict if one runs on this HSM.

        `work(job)` runs in the job's thread; it returns (commit, result_uri), where commit() (or None) applies the
        job's effect at the moment the job turns Succeeded. It raises StorageFailure to fail the job. Work that
        spreads over the job's duration (a backup fills its folder as a real one does) calls `job.pause_until(t)`.
        `take_forced_failure()` is called once the job is sure to start: a {"code", "message"} to fail it with.
        """
        with self._lock:
            for job in self._jobs.values():
                if job.hsm_name == hsm_name and job.status == "InProgress":
                    raise Conflict(job.kind)
            job = Job(hsm_name, kind, duration, self._generation, details or {})
            job.pause_until = self._pauser(job)
            self._jobs[job.id] = job
            forced_failure = take_forced_failure() if take_forced_failure else None
        thread = threading.Thread(
            target=self._run, args=(job, work, forced_failure), name=f"job-{job.id[:8]}", daemon=True
        )
        thread.start()
        return job

    def _pauser(self, job):
        wake = self._wake

        def pause_until(when):
            """Sleep until the wall-clock time `when`, or raise Abandoned at once if the emulator is reset."""
            remaining = when - job.now()
            if remaining > 0:
                wake.wait(remaining)
            if job.generation != self._generation:
                raise Abandoned()

        return pause_until

    def _run(self, job, work, forced_failure):
        commit, result_uri, failure = None, None, None
        try:
            if forced_failure:
                failure = (forced_failure["code"], forced_failure["message"])
            else:
                commit, result_uri = work(job)
        except Abandoned:
            return
        except StorageFailure as exc:
            failure = (exc.code, exc.message)
        except Exception as exc:
            failure = ("InternalError", mask_text(f"{type(exc).__name__}: {exc}"))
        remaining = job.start + job.duration - job.now()
        if remaining > 0:
            self._wake.wait(remaining)
        with self._lock:
            if job.generation != self._generation:
                return  # reset while running: forget it
            if failure is None and commit is not None:
                try:
                    commit()
                except Exception as exc:
                    failure = ("InternalError", mask_text(f"{type(exc).__name__}: {exc}"))
            job.end = max(job.now(), job.start)
            if failure is None:
                job.status, job.result_uri = "Succeeded", result_uri
            else:
                code, message = failure
                job.status, job.status_details = "Failed", code
                job.error = {"code": code, "innererror": None, "message": message}

    def get(self, job_id):
        with self._lock:
            return self._jobs.get(job_id)

    def describe(self):
        with self._lock:
            return [job.describe() for job in sorted(self._jobs.values(), key=lambda j: j.start)]

    def reset(self):
        with self._lock:
            self._generation += 1
            self._jobs = {}
            self._wake.set()
            self._wake = threading.Event()
