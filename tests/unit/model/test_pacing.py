"""When the next status read goes (model/pacing.py): the gap grows with the time the job has run, within its bounds."""

import pytest

from azext_hsmbackup.model.pacing import BASE_S, CAP_S, PollSchedule


def test_the_gap_grows_with_the_time_the_job_has_run_within_its_bounds():
    schedule = PollSchedule()
    assert [schedule.gap(t) for t in (0, 10, 16)] == [BASE_S] * 3
    assert schedule.gap(100) == pytest.approx(3.0) and schedule.gap(600) == pytest.approx(18.0)
    assert schedule.gap(10_000) == CAP_S and schedule.gap(-5) == BASE_S


def test_a_retry_after_wins_and_a_fixed_interval_replaces_the_growing_gap():
    assert PollSchedule().gap(600, retry_after=2) == 2 and PollSchedule().gap(0, retry_after=99) == CAP_S
    assert PollSchedule(fixed=5).gap(600) == 5 and PollSchedule(fixed=5).gap(0, retry_after=1) == 1


def simulated(job_s, schedule, first=10.0):
    """(status reads, lag after the later of the job's end and the 202's Retry-After) for a job of job_s seconds."""
    reads, now = 0, first
    while True:
        reads += 1
        if now >= job_s:
            return reads, now - max(job_s, first)
        now += schedule.gap(now)


@pytest.mark.parametrize("job_s", [2, 30, 600, 3600])
def test_the_lag_stays_within_5_percent_of_the_job_and_the_reads_are_bounded(job_s):
    reads, lag = simulated(job_s, PollSchedule())
    assert lag <= max(1.0, 0.05 * job_s)
    old_reads, _ = simulated(job_s, PollSchedule(fixed=0.5))  # the fixed half second before this schedule
    if job_s == 600:
        assert reads <= old_reads / 5, (reads, old_reads)
