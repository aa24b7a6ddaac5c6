"""wait's own poller (operations/status.py): the same pacing as a running create."""

import pytest

from azext_hsmbackup.operations import status as status_ops
from azext_hsmbackup.service.pipeline import JobTracker
from tests.unit.fakes import JOB, Clock


@pytest.fixture(autouse=True)
def _fresh_challenge_cache():
    from azure.keyvault.administration._internal import HttpChallengeCache

    HttpChallengeCache.clear()


def poller(monkeypatch, answers, interval=None):
    """A _JobPoller over scripted (status, Retry-After seconds or None) answers, on a clock the test moves."""
    from azext_hsmbackup.model.pacing import PollSchedule

    clock, tracker, fetched, ticks = Clock(), JobTracker(PollSchedule(interval)), [], []
    monkeypatch.setattr(status_ops.time, "monotonic", clock)

    def fetch():  # what job_status does through the client, whose tracker reads each answer
        state, tracker.retry_after = answers[len(fetched)]
        fetched.append(clock.now)
        tracker.job = {"jobId": JOB, "status": state}
        tracker.plan_next_read(clock.now)
        return "backup", tracker.job

    return status_ops.JobPoller(fetch, tracker, lambda: ticks.append(clock.now)), clock, fetched, ticks


def test_wait_checks_again_after_the_polls_retry_after(monkeypatch):
    job_poller, clock, fetched, ticks = poller(
        monkeypatch, [("InProgress", 3), ("InProgress", None), ("Succeeded", None)]
    )
    for _ in range(60):  # az's progress loop calls done() every 100 ms
        if job_poller.done():
            break
        clock.now += 0.1
    assert [round(t - fetched[0], 1) for t in fetched] == [0, 3.0, 3.5]  # Retry-After 3, then the first 0.5 s gap
    assert job_poller.result()["status"] == "Succeeded" and len(ticks) == 36  # --timeout checked on every tick


def test_wait_honours_a_retry_after_shorter_than_the_interval(monkeypatch):
    job_poller, clock, fetched, _ = poller(monkeypatch, [("InProgress", 1), ("Succeeded", None)], interval=5)
    while not job_poller.done():
        clock.now += 0.1
    assert round(fetched[1] - fetched[0], 1) == 1.0  # the service's pace, as the SDK's poller does in create


def test_a_fixed_polling_interval_replaces_the_growing_gap(monkeypatch):
    job_poller, clock, fetched, _ = poller(monkeypatch, [("InProgress", None), ("Succeeded", None)], interval=5)
    while not job_poller.done():
        clock.now += 0.1
    assert round(fetched[1] - fetched[0], 1) == 5.0
