"""Data-plane clients built from the CLI's signed-in credential and the CLI's pipeline settings.

Three policies ride in every Managed HSM client, because they decide how the SDK paces and repeats requests:
- JobTracker keeps the newest job document and honours the Retry-After of the 202 that started a job;
- RetryAfterCap bounds every Retry-After the SDK would sleep (retries of a 429/503, the gap between status polls);
- JobStartRetryPolicy never sends a job start twice once it may have reached the HSM.
"""

import json
import math
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.core.pipeline.policies import RetryPolicy, SansIOHTTPPolicy

from azext_hsmbackup._constants import MAX_RETRY_AFTER_S

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


class JobTracker(SansIOHTTPPolicy):
    """Remembers the newest job document the HSM returned (the 202 and every status poll) and its Retry-After.

    The SDK's poller exposes only the folder URL; jobId, status and the times come from these bodies. The SDK polls
    at once after the 202, although the 202's Retry-After (10 s from the real service) is "the recommended number of
    seconds to wait before calling" the status URL: the first status request waits for it here.
    """

    def __init__(self):
        super().__init__()
        self.job = {}
        self.retry_after = None  # seconds, from the newest job document's answer (capped), or None
        self._not_before = None  # monotonic time before which no status request leaves

    def on_request(self, request):
        if self._not_before is None or request.http_request.method.upper() != "GET":  # only a status check waits
            return
        delay, self._not_before = self._not_before - time.monotonic(), None
        if delay > 0:
            request.context.transport.sleep(delay)

    def on_response(self, request, response):
        http = response.http_response
        if http.status_code not in (200, 202) or "json" not in (http.headers.get("content-type") or ""):
            return
        try:
            body = json.loads(_body(http))
        except ValueError:
            return
        if isinstance(body, dict) and body.get("jobId"):
            self.job = body
            self.retry_after = retry_after_seconds(http.headers)
            if http.status_code == 202 and self.retry_after:
                self._not_before = time.monotonic() + self.retry_after


def _body(http):
    """The response's bytes, read once and kept for the SDK.

    Newer SDK builds stream the 202 of a job start (azure.core.rest: read() caches the bytes, which the SDK then
    iterates); the builds in az before 2.77 use azure-core's older transport responses, which have body() instead.
    """
    read = getattr(http, "read", None)
    return read() if callable(read) else http.body()


class RetryAfterCap(SansIOHTTPPolicy):
    """Bounds a Retry-After before azure-core reads it.

    azure-core sleeps whatever the header says, before a retry and between status polls, so `Retry-After: 99999`
    from a broken or hostile server would hang the command. A value above MAX_RETRY_AFTER_S becomes that; one that
    cannot be read is dropped (azure-core would raise on it). This runs after the retry policy in the pipeline, so
    the retry policy and the poller only ever see the bounded value.
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


class JobStartRetryPolicy(RetryPolicy):
    """azure-core's retries, except that a job start is never sent twice once it may have reached the HSM.

    azure-core resends a PUT (restore) whose answer was lost, and a POST (backup) answered 500 or 504: the HSM may
    have started that job, and a second start gets 409 while it runs, or starts a second job once it has ended.
    Behind a proxy a lost answer even looks like a connection that never opened. So a job start is sent again only
    when the HSM said it did nothing (429, 503); after a transport error it ends in StartAnswerLost.
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


class StartAnswerLost(ServiceResponseError):
    """The request that starts a job went out, and its answer never came back: a job may be running."""

    def __init__(self, method, error):
        super().__init__(f"The connection broke before the HSM answered the {method}: {error}", error=error)


def pipeline_kwargs(tracker):
    """The policies every Managed HSM client of the extension gets (see the module docstring)."""
    return {
        "retry_policy": JobStartRetryPolicy(),
        "per_call_policies": [tracker],
        "per_retry_policies": [RetryAfterCap()],
    }


def _cli_client_kwargs(cli_ctx):
    """User agent, request id, TLS-verify switch and the token-redacting network trace policy of az."""
    try:
        from azure.cli.core.commands.client_factory import _prepare_client_kwargs_track2
    except ImportError:  # a future az without it: the SDK's own defaults still work
        return {}
    kwargs = _prepare_client_kwargs_track2(cli_ctx)
    kwargs.pop("http_logging_policy", None)  # as az keyvault does: Key Vault has its own allow-list
    return kwargs


# The status of a job no HSM has (job ids are 32 hex digits, never all zeros): what the warm-up request reads.
_NO_SUCH_JOB = "0" * 32


def cache_the_challenge(client):
    """Send one body-less request through `client` before it starts a job; its answer (404) is not read.

    The Key Vault challenge policy of azure-keyvault-administration 4.4.0 to 4.7.1 and 4.8.0b1 (az 2.77 to 2.88)
    keeps a copy of the first request that has a body when the host's challenge is not cached yet (the job start),
    never drops it, and sends that copy again after any later 401 on the client: an expired token or a claims
    challenge in mid-poll turns a status check into a second `POST /backup`, which the HSM answers 409. A body-less
    first request gets the challenge cached without a copy being kept, on every SDK build; the job start then goes
    out once, with its token.
    """
    from azure.core.rest import HttpRequest

    client.send_request(HttpRequest("GET", f"/backup/{_NO_SUCH_JOB}/pending"))


def _lower_host(url):
    """The SDK's challenge cache is keyed by host, case-sensitively in 4.4.x, and the HSM names itself in lower
    case in the status URLs it returns: a mixed-case host would miss the cache on every poll."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.lower()).geturl()


def cli_credential(cli_ctx):
    """The signed-in az account's credential (one per command: several HSMs' clients share it and its tokens)."""
    from azure.cli.core._profile import Profile

    credential, _, _ = Profile(cli_ctx=cli_ctx).get_login_credentials(
        subscription_id=cli_ctx.data.get("subscription_id")
    )
    return credential


def backup_client(cli_ctx, hsm_url, api_version, tracker=None, credential=None):
    """A KeyVaultBackupClient for hsm_url, authenticated as the signed-in az account.

    The challenge-resource check stays ON: a server that is not the HSM never receives a Managed HSM token.
    """
    from azure.keyvault.administration import KeyVaultBackupClient

    credential = credential or cli_credential(cli_ctx)
    kwargs = {**_cli_client_kwargs(cli_ctx), **pipeline_kwargs(tracker or JobTracker())}
    return KeyVaultBackupClient(
        vault_url=_lower_host(hsm_url),
        credential=credential,
        api_version=api_version,
        verify_challenge_resource=True,
        **kwargs,
    )
