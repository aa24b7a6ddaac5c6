"""When the next status read of a running job goes: soon at first, then less often the longer the job has run.

A backup of a real HSM takes minutes. Reading its status every half second keeps the wait after the job's end
short but costs about 1,200 reads for a 10-minute job (each one a line in the HSM's audit log); `az keyvault backup
start` reads every 5 s and keeps users waiting up to 5 s for nothing. Here the gap is a small share of the time
the job has already run (so the wait after it ends stays a small share of its length), never under BASE_S and
never over CAP_S; a Retry-After from the service always wins, and `--polling-interval` fixes the gap instead.
"""

from dataclasses import dataclass
from typing import Optional

from azext_hsmbackup._constants import MAX_RETRY_AFTER_S

BASE_S = 0.5
SHARE = 0.03  # a job that has run 10 minutes is read every 18 s: it ends at most 3 % of its length before we know
CAP_S = MAX_RETRY_AFTER_S


@dataclass(frozen=True)
class PollSchedule:
    """The gap before the next status read; `fixed` (--polling-interval) replaces the growing gap."""

    fixed: Optional[float] = None

    def gap(self, waited, retry_after=None):
        """Seconds until the next read, `waited` seconds after the job started, given the last answer's
        Retry-After (already bounded by MAX_RETRY_AFTER_S) or None."""
        if retry_after:
            return min(retry_after, CAP_S)
        if self.fixed:
            return self.fixed
        return min(CAP_S, max(BASE_S, SHARE * max(waited, 0.0)))
