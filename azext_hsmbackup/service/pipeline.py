"""The policies that ride in every Managed HSM client, because they decide how the SDK paces, reads and repeats
requests:
- JobTracker reads each job document the HSM returns as untrusted input (model/answers.py), keeps the newest, and
  paces the status reads (model/pacing.py), the first after the 202's Retry-After;
- RetryAfterCap bounds every Retry-After the SDK would sleep (retries of a 429/503, the gap between status polls);
- JobStartRetryPolicy never sends a job start twice once it may have reached the HSM.

The classes that subclass azure-core's are made on first use (sdk_classes): importing azure-core's pipeline costs
about 40 ms, which a command that never calls the service (`az hsm-backup create -h`: az loads the command's module
to read its arguments) need not pay.
"""

import functools
import math
import re
import time
from datetime import datetime, timezone
from types import SimpleNamespace
from urllib.parse import urlsplit

from azext_hsmbackup._constants import MAX_RETRY_AFTER_S
from azext_hsmbackup.model import answers
from azext_hsmbackup.model.pacing import PollSchedule

_RETRY_AFTER_HEADERS = ("retry-after", "retry-after-ms", "x-ms-retry-after-ms")


_READ_ONLY_METHODS = ("GET", "HEAD")


def retry_after_seconds(headers):
    """The service's Retry-After in seconds, at most MAX_RETRY_AFTER_S; None when absent, not positive or unreadable.

    Reads what azure-core reads, in its order: Retry-After (seconds or an HTTP date), retry-after-ms,
    x-ms-retry-after-ms.
    """
    for name in _RETRY_AFTER_HEADERS:
        if headers.get(name):
            seconds = _header_seconds(name, headers[name])
            return min(seconds, MAX_RETRY_AFTER_S) if seconds and seconds > 0 else None
    return None


def _header_seconds(name, value):
    """Seconds a Retry-After header asks for (may be huge or negative), or None when it cannot be read."""
    try:
        seconds = float(value)
    except ValueError:
        return _seconds_until(value) if name == "retry-after" else None
    if math.isnan(seconds):
        return None
    return seconds if name == "retry-after" else seconds / 1000.0


def _seconds_until(http_date):
    from email.utils import parsedate_to_datetime  # 4 ms of email.* that only an HTTP-date Retry-After needs

    try:
        when = parsedate_to_datetime(http_date.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return (when - datetime.now(timezone.utc)).total_seconds()


def starts_a_job(http_request):
    """A request that can start a job: not a read (backup, restore, key restore, pre-checks are POST/PUT), and with a
    token (the SDK's first request of a process goes without body and token, only to elicit the 401 challenge)."""
    return http_request.method.upper() not in _READ_ONLY_METHODS and "Authorization" in http_request.headers


# GET /backup/{job id}/pending and /restore/{job id}/pending: where a job's status is read.
_STATUS_PATH_RE = re.compile(r"/+(backup|restore)/+([^/?]+)/+pending/*$", re.IGNORECASE)


# The job starts that name a folder when they succeed: a full backup (a pre-check's document names none).
_FOLDER_NAMING_START_RE = re.compile(r"/+backup/*$", re.IGNORECASE)


def status_read_job(http_request):
    """The job id a status read asks about, or None when the request is not a status read."""
    if http_request.method.upper() != "GET":
        return None
    match = _STATUS_PATH_RE.search(urlsplit(http_request.url).path)
    return match.group(2) if match else None


class JobTracker:
    """Reads every job document the HSM returns (the answer to a job start, every status read) as untrusted input,
    keeps the newest, and paces the status reads.

    The SDK's poller exposes only the folder URL; jobId, status and the times come from these bodies, each checked
    field by field (answers.read_job): an answer of the wrong shape raises UnreadableAnswer, which stops the SDK
    and becomes one line (exit 11) that names the job when it is known. The SDK reads the status at once after the
    202 and then at its own fixed interval; here the first read waits for the 202's Retry-After ("the recommended
    number of seconds to wait before calling" the status URL, 10 s from the real service), and each next one for
    the poll schedule (model/pacing.py) or the service's Retry-After. The SDK is given a polling interval of 0.
    It rides in the pipeline as azure-core's SansIOHTTPPolicy around it (pipeline_kwargs).
    """

    def __init__(self, schedule=None):
        self.job = {}
        self.schedule = schedule or PollSchedule()
        self.retry_after = None  # seconds, from the newest job document's answer (bounded), or None
        self.started = None  # monotonic time of the answer to the job start; None while unknown
        self.next_read = None  # monotonic time before which no status read leaves
        self._folder_expected = False

    # ---- pacing --------------------------------------------------------------------------------------------------

    def on_request(self, request):
        if status_read_job(request.http_request) is None or self.next_read is None:
            return
        delay = self.next_read - time.monotonic()
        if delay > 0:
            request.context.transport.sleep(delay)

    def waited(self, now):
        """Seconds the job has run: since its start was answered, or since the startTime its document gives."""
        if self.started is not None:
            return now - self.started
        start = self.job.get("startTime")
        return max(0.0, time.time() - start) if start else 0.0

    def plan_next_read(self, now=None):
        now = time.monotonic() if now is None else now
        self.next_read = now + self.schedule.gap(self.waited(now), self.retry_after)

    # ---- reading ---------------------------------------------------------------------------------------------------

    def on_response(self, request, response):
        http_request, http = request.http_request, response.http_response
        asked = status_read_job(http_request)
        start = starts_a_job(http_request)
        if http.status_code not in (200, 202) or not (start or asked):
            return
        if start:
            self._folder_expected = bool(_FOLDER_NAMING_START_RE.search(urlsplit(http_request.url).path))
        known = asked or self.job.get("jobId")
        try:
            body = answers.parse_json(_body(http))
        except answers.UnreadableAnswer as ex:
            raise answers.UnreadableAnswer(ex.what, known) from None
        self.job = answers.read_job(body, asked, self._folder_expected)
        self.retry_after = retry_after_seconds(http.headers)
        now = time.monotonic()
        if start:
            if not http.headers.get("azure-asyncoperation"):
                raise answers.UnreadableAnswer("gives no status link (Azure-AsyncOperation)", self.job["jobId"])
            self.started = now
            self.next_read = now + (self.retry_after or 0)
        else:
            self.plan_next_read(now)


def _body(http):
    """The response's bytes, read once and kept for the SDK.

    Newer SDK builds stream the 202 of a job start (azure.core.rest: read() caches the bytes, which the SDK then
    iterates); the builds in az before 2.77 use azure-core's older transport responses, which have body() instead.
    """
    read = getattr(http, "read", None)
    return read() if callable(read) else http.body()


@functools.lru_cache(maxsize=None)
def sdk_classes():
    """The policies and the error that subclass azure-core's, made once, on first use (see the module docstring)."""
    from azure.core.exceptions import ServiceRequestError, ServiceResponseError
    from azure.core.pipeline.policies import RetryPolicy, SansIOHTTPPolicy

    class Tracking(SansIOHTTPPolicy):
        """A JobTracker as a policy of the pipeline."""

        def __init__(self, tracker):
            super().__init__()
            self.tracker = tracker

        def on_request(self, request):
            self.tracker.on_request(request)

        def on_response(self, request, response):
            self.tracker.on_response(request, response)

    class RetryAfterCap(SansIOHTTPPolicy):
        """Bounds a Retry-After before azure-core reads it.

        azure-core sleeps whatever the header says, before a retry and between status polls, so
        `Retry-After: 99999` from a broken or hostile server would hang the command. A value above MAX_RETRY_AFTER_S
        becomes that; one that cannot be read is dropped (azure-core would raise on it). This runs after the retry
        policy in the pipeline, so the retry policy and the poller only ever see the bounded value.
        """

        def on_response(self, request, response):
            headers = response.http_response.headers
            for name in _RETRY_AFTER_HEADERS:
                if not headers.get(name):
                    continue
                seconds = _header_seconds(name, headers[name])
                if seconds is None:
                    del headers[name]
                elif seconds > MAX_RETRY_AFTER_S:
                    headers[name] = str(MAX_RETRY_AFTER_S if name == "retry-after" else MAX_RETRY_AFTER_S * 1000)

    class StartAnswerLost(ServiceResponseError):
        """The request that starts a job went out, and its answer never came back: a job may be running."""

        def __init__(self, method, error):
            super().__init__(f"The connection broke before the HSM answered the {method}: {error}", error=error)

    class JobStartRetryPolicy(RetryPolicy):
        """azure-core's retries, except that a job start is never sent twice once it may have reached the HSM.

        azure-core resends a PUT (restore) whose answer was lost, and a POST (backup) answered 500 or 504: the HSM
        may have started that job, and a second start gets 409 while it runs, or starts a second job once it has
        ended. Behind a proxy a lost answer even looks like a connection that never opened. So a job start is sent
        again only when the HSM said it did nothing (429, 503); after a transport error it ends in StartAnswerLost.
        """

        def is_retry(self, settings, response):
            if starts_a_job(response.http_request) and response.http_response.status_code not in (429, 503):
                return False
            return super().is_retry(settings, response)

        def increment(self, settings, response=None, error=None):
            if error is not None and starts_a_job(response.http_request):
                return False
            return super().increment(settings, response=response, error=error)

        def send(self, request):
            try:
                return super().send(request)
            except (ServiceRequestError, ServiceResponseError) as error:
                if starts_a_job(request.http_request):
                    raise StartAnswerLost(request.http_request.method, error) from error
                raise

    for made in (Tracking, RetryAfterCap, StartAnswerLost, JobStartRetryPolicy):
        made.__qualname__ = made.__name__  # as tracebacks and --debug name them: not sdk_classes.<locals>.X
    return SimpleNamespace(
        Tracking=Tracking,
        RetryAfterCap=RetryAfterCap,
        JobStartRetryPolicy=JobStartRetryPolicy,
        StartAnswerLost=StartAnswerLost,
    )


def __getattr__(name):
    """pipeline.StartAnswerLost, pipeline.RetryAfterCap, pipeline.JobStartRetryPolicy: made on first use."""
    if name in ("RetryAfterCap", "JobStartRetryPolicy", "StartAnswerLost"):
        return getattr(sdk_classes(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def pipeline_kwargs(tracker):
    """The policies every Managed HSM client of the extension gets (see the module docstring)."""
    sdk = sdk_classes()
    return {
        "retry_policy": sdk.JobStartRetryPolicy(),
        "per_call_policies": [sdk.Tracking(tracker)],
        "per_retry_policies": [sdk.RetryAfterCap()],
    }
