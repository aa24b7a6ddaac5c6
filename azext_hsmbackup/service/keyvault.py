"""The Managed HSM's backup data plane: a KeyVaultBackupClient built from the CLI's credential, cloud and pipeline
settings with the extension's policies (service/pipeline.py), the warm-up read where the SDK needs it, and a job's
status read field by field. SDK imports stay inside the functions."""

import re
from urllib.parse import urlsplit

from azext_hsmbackup.model.answers import parse_json, read_job
from azext_hsmbackup.service.credential import cli_credential
from azext_hsmbackup.service.pipeline import JobTracker, pipeline_kwargs


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


def _version_key(version):
    """'4.8.0b1' -> (4, 8, 0, 1, 1); a final release sorts after its pre-releases (a/b/rc: 0/1/2, final: 3)."""
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)(?:(a|b|rc)(\d+))?", str(version).strip())
    if not match:
        return None
    major, minor, patch, pre, number = match.groups()
    rank = {"a": 0, "b": 1, "rc": 2}.get(pre, 3)
    return int(major), int(minor), int(patch), rank, int(number or 0)


def resends_job_start_after_401(version):
    """Whether this azure-keyvault-administration build has the challenge policy that replays a job start.

    4.4.0 to 4.7.1 and 4.8.0b1 (az 2.77 to 2.88) keep a copy of the first request with a body when the host's
    challenge is not cached yet (the job start), never drop it, and send it again after any later 401 on the client:
    an expired token or a claims challenge in mid-poll turns a status read into a second `POST /backup`, which the
    HSM answers 409. 4.4.0b2 (az 2.55-2.76), 4.7.2 and 4.8.0b2 on keep the copy per request. A version we cannot
    read is taken to have the bug: the warm-up then costs one request, where its absence could cost a job.
    """
    key = _version_key(version)
    if key is None:
        return True
    return (4, 4, 0, 3, 0) <= key <= (4, 7, 1, 3, 0) or key == (4, 8, 0, 1, 1)


def sdk_resends_job_start_after_401():
    from azure.keyvault.administration._version import VERSION

    return resends_job_start_after_401(VERSION)


def cache_the_challenge(client):
    """On SDK builds that replay a job start after a 401, send one body-less request through `client` before it
    starts a job; its answer (404) is not read. The challenge gets cached without a copy of the start being kept,
    so the start goes out once, with its token. On the other builds nothing is sent: the traffic is the SDK's own.
    """
    if not sdk_resends_job_start_after_401():
        return
    from azure.core.rest import HttpRequest

    client.send_request(HttpRequest("GET", f"/backup/{_NO_SUCH_JOB}/pending"))


def _lower_host(url):
    """The SDK's challenge cache is keyed by host, case-sensitively in 4.4.x, and the HSM names itself in lower
    case in the status URLs it returns: a mixed-case host would miss the cache on every poll."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.lower()).geturl()


def backup_client(cli_ctx, hsm_url, api_version, tracker=None, *, credential=None, session=None):
    """A KeyVaultBackupClient for hsm_url, authenticated as the signed-in az account; with `session`
    (service/transport.py), over that shared HTTPS session, which it does not close.

    The challenge-resource check stays ON: a server that is not the HSM never receives a Managed HSM token.
    """
    from azure.keyvault.administration import KeyVaultBackupClient

    credential = credential or cli_credential(cli_ctx)
    kwargs = {**_cli_client_kwargs(cli_ctx), **pipeline_kwargs(tracker or JobTracker())}
    if session is not None:
        from azure.core.pipeline.transport import RequestsTransport

        # the connection settings az gives a client (connection_verify...) go to the transport it would have made
        kwargs["transport"] = RequestsTransport(session=session, session_owner=False, **kwargs)
    return KeyVaultBackupClient(
        vault_url=_lower_host(hsm_url),
        credential=credential,
        api_version=api_version,
        verify_challenge_resource=True,
        **kwargs,
    )


def job_status(client, job_id):
    """(kind, job document) of a backup or restore job, or (None, None) when the HSM has neither; the HSM keeps each
    kind under its own path. The document is read field by field (UnreadableAnswer otherwise). What the SDK raises
    is the caller's to map (one HSM: ExitWith; several: an entry)."""
    from azure.core.rest import HttpRequest

    for kind in ("backup", "restore"):
        response = client.send_request(HttpRequest("GET", f"/{kind}/{job_id}/pending"))
        if response.status_code != 404:
            response.raise_for_status()
            return kind, read_job(parse_json(response.read()), job_id)
    return None, None
