"""What the service or the network says, as one az error and a documented exit code (errors.py): the SDK's and
azure-core's exceptions, a job that ended Failed, an answer that cannot be read, and storage's refusals. Each line
names the HSM (or container) and the service's words once, and ends with the next step."""

import re
from urllib.parse import urlsplit

from azure.cli.core import azclierror

from azext_hsmbackup._constants import BACKUP_ROLES
from azext_hsmbackup._text import code_text, first_line, service_line
from azext_hsmbackup.errors import (
    EXIT_BAD_ANSWER,
    EXIT_BAD_INPUT,
    EXIT_CONFLICT,
    EXIT_CONNECTION,
    EXIT_JOB_FAILED,
    EXIT_NOT_FOUND,
    EXIT_UNAUTHORIZED,
    ExitWith,
    Failure,
    list_command,
    show_command,
)
from azext_hsmbackup.model.answers import UnreadableAnswer, parse_json, read_job
from azext_hsmbackup.model.urls import split_container_uri
from azext_hsmbackup.service import pipeline

# Hints for the storage errors a job most often ends with.
_STORAGE_HINTS = {
    "AuthenticationFailed": "The SAS token was refused: check that it is for this container and not expired.",
    "AuthorizationPermissionMismatch": "The SAS token (or the HSM's identity) may not write there: "
    "a SAS needs permissions 'crdw'; an identity needs 'Storage Blob Data Contributor'.",
    "AuthorizationFailure": "Storage refused the request: check the SAS token or the HSM identity's role, "
    "and the storage firewall.",
    "ContainerNotFound": "Create the container first (az storage container create).",
    "InvalidQueryParameterValue": "Check that the storage URI names an existing container.",
}


def service_words(ex, secrets=()):
    """What the service said, once: "(Code) message".

    azure-core's str() of an error with a JSON body says it twice ("(Code) text\nCode: Code\nMessage: text");
    its parsed `error` holds each part once.
    """
    error = getattr(ex, "error", None)
    code, message = code_text(getattr(error, "code", None)), getattr(error, "message", None)
    if not message:
        message = getattr(ex, "message", None) or str(ex)
        message = message.split("\nCode:", 1)[0]
    message = service_line(message, secrets)
    if code and message.startswith(f"({code})"):
        return message
    return f"({code}) {message}" if code else message


def _storage_hint(code, container_uri):
    """The next step for a storage code a job ended with; a missing container gets the command that creates it."""
    if code == "ContainerNotFound" and container_uri:
        _, account, container = split_container_uri(container_uri)
        return (
            "Create the container first: az storage container create "
            f"--account-name {account} --name {container} --auth-mode login"
        )
    return _STORAGE_HINTS.get(code)


def job_failed(job, operation, secrets=(), hsm_url=None, container_uri=None):
    failure = job_failure(job, operation, secrets, hsm_url, container_uri)
    return ExitWith(failure.error, failure.code)


def job_failure(job, operation, secrets=(), hsm_url=None, container_uri=None):
    """A job that ended Failed (or Canceled): the service's code and reason, and the next step."""
    error = job.get("error") or {}
    code = code_text(error.get("code") or job.get("statusDetails") or job.get("status") or "Failed")
    message = service_line(error.get("message"), secrets) or "The service gave no reason."
    where = f" on {hsm_url}" if hsm_url else ""
    failure = azclierror.AzureResponseError(
        f"The {operation} job {job.get('jobId')}{where} failed: ({code}) {message}",
        _storage_hint(code, container_uri),
    )
    return Failure(failure, EXIT_JOB_FAILED, code)


def from_sdk_error(ex, hsm_url, operation, secrets=(), container_uri=None):
    """Map an exception from the SDK or the network to ExitWith (or None if it is not ours to map)."""
    failure = sdk_failure(ex, hsm_url, operation, secrets, container_uri)
    return None if failure is None else ExitWith(failure.error, failure.code)


# One return per kind of failure reads better than a chain of assignments (as PLR0911 in ruff.toml).
def sdk_failure(ex, hsm_url, operation, secrets=(), container_uri=None):  # pylint: disable=too-many-return-statements
    """What an exception from the SDK or the network means, as a Failure (or None if it is not ours to map).

    Each line names the HSM's URL and the service's words once, and ends with the next step. `container_uri`, when
    the command has one, makes that step a complete command.
    """
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    if isinstance(ex, ValueError) and "challenge resource" in str(ex):
        return Failure(
            azclierror.AzureConnectionError(
                f"{hsm_url} asked for a token of another service; no token was sent to it.",
                "Check the HSM URL (--id / --hsm-name / --hsm-object) and the cloud (az cloud show).",
            ),
            EXIT_UNAUTHORIZED,
        )
    if isinstance(ex, (ValueError, NotImplementedError)) and "API version" in str(ex):
        return Failure(
            azclierror.InvalidArgumentValueError(
                f"--api-version: {first_line(str(ex))} Leave --api-version out to use the tested default."
            ),
            EXIT_BAD_INPUT,
        )
    lost = _lost_job_start(ex, hsm_url, operation, container_uri)
    if lost is not None:
        return lost
    if isinstance(ex, UnreadableAnswer):
        return unreadable_answer(ex, hsm_url, operation, container_uri)
    if isinstance(ex, (ServiceRequestError, ServiceResponseError)):
        detail = service_line(str(ex), secrets)
        tls = "SSL" in detail or "certificate" in detail.lower()
        hint = (
            "Check the HSM's TLS certificate chain; behind a TLS-inspecting proxy set REQUESTS_CA_BUNDLE."
            if tls
            else "Check the HSM name or URL, DNS and network access (private endpoint, firewall)."
        )
        return Failure(azclierror.AzureConnectionError(f"Cannot reach {hsm_url}: {detail}", hint), EXIT_CONNECTION)
    if not isinstance(ex, HttpResponseError):
        return None
    status = getattr(ex, "status_code", None)
    if status == 200 and ex.response is not None:  # a job that ended Failed/Canceled is a 200 poll
        return _ended_badly(ex.response, operation, secrets, hsm_url, container_uri)
    words = service_words(ex, secrets)
    roles = " or ".join(BACKUP_ROLES)
    if isinstance(ex, ClientAuthenticationError) or status == 401:
        return Failure(
            azclierror.UnauthorizedError(
                f"{hsm_url} refused the signed-in identity's token (401).",
                f"The identity needs the {roles} local role; or sign in to the HSM's tenant: "
                f"az login --tenant {_challenge_tenant(ex) or 'TENANT_ID'}",
            ),
            EXIT_UNAUTHORIZED,
        )
    if status == 403:
        return Failure(
            azclierror.ForbiddenError(
                f"The signed-in identity may not run a {operation} on {hsm_url} (403): {words}",
                f"Assign it the {roles} local role: az keyvault role assignment create --id {hsm_url} "
                '--role "Managed HSM Backup" --assignee OBJECT_ID --scope /',
            ),
            EXIT_UNAUTHORIZED,
        )
    if status == 409:
        return Failure(
            azclierror.AzureResponseError(
                f"Another backup or restore is already running on {hsm_url} (409): {words}",
                "Run this command again once that job has ended.",
            ),
            EXIT_CONFLICT,
        )
    if status == 404:
        return Failure(
            azclierror.ResourceNotFoundError(f"{hsm_url} answered 404 to the {operation}: {words}"), EXIT_NOT_FOUND
        )
    if status == 400:
        return Failure(azclierror.BadRequestError(f"{hsm_url} rejected the {operation} request (400): {words}"), 1)
    return Failure(azclierror.AzureResponseError(f"{hsm_url} answered {status} to the {operation}: {words}"), 1)


def _ended_badly(response, operation, secrets, hsm_url, container_uri):
    """The status answer (HTTP 200) of a job that ended Failed or Canceled, read field by field."""
    try:
        # text(), not json(): the SDK builds of az before 2.77 hand over azure-core's older response type
        job = read_job(parse_json(response.text()))
    except UnreadableAnswer as unreadable:
        return unreadable_answer(unreadable, hsm_url, operation, container_uri)
    return job_failure(job, operation, secrets, hsm_url, container_uri)


def _challenge_tenant(ex):
    """The tenant the HSM's 401 challenge names (authorization="https://login.../<tenant>"), if it names one."""
    response = getattr(ex, "response", None)
    challenge = (response.headers.get("WWW-Authenticate") or "") if response is not None else ""
    match = re.search(r'authorization(?:_uri)?="?https://[^/"\s]+/([0-9A-Za-z.-]+)', challenge)
    return match.group(1) if match else None


def _lost_job_start(ex, hsm_url, operation, container_uri=None):
    """The request that starts a job went out and its answer never came back (service/pipeline.StartAnswerLost)."""
    if not isinstance(ex, pipeline.StartAnswerLost):
        return None
    shows = "a finished backup shows in az hsm-backup list"
    if operation == "backup" and container_uri:
        shows = f"a finished backup shows in: {list_command(container_uri, urlsplit(hsm_url).hostname.split('.')[0])}"
    return Failure(
        azclierror.AzureConnectionError(
            f"The connection to {hsm_url} broke before the HSM answered the {operation} request: the {operation} "
            "may have started. The request was not sent again, so that no second job starts.",
            "Find out before you run it again: while that job runs, the same command gets 409 (exit 6) and starts "
            f"nothing; {shows}.",
        ),
        EXIT_CONNECTION,
    )


def unreadable_answer(ex, hsm_url, operation, container_uri=None):
    """An answer of the HSM that cannot be read (answers.UnreadableAnswer): the job it was about, if that much was
    readable, and how to check on it; without a job id, where a job that may have started shows up."""
    job_id = ex.job_id
    if job_id:
        about = f"the answer about the {operation} job {job_id}"
        if operation == "status":
            about = f"the answer about the job {job_id}"
            fix = "Run the command again later; if the answer stays so, something between (a proxy) may change it."
        else:
            fix = f"The job may still be running; check on it with: {show_command(hsm_url, job_id)}"
    else:
        about = f"the answer to the {operation} request"
        fix = f"A {operation} job may have started; while one runs, the HSM refuses another backup or restore."
        if operation == "backup" and container_uri:
            host = urlsplit(hsm_url).hostname or ""
            fix += f" A finished backup shows in: {list_command(container_uri, host.split('.')[0])}"
    return Failure(
        azclierror.AzureResponseError(f"{hsm_url} sent an answer that cannot be read: {about} {ex.what}.", fix),
        EXIT_BAD_ANSWER,
        "UnreadableAnswer",
    )


def from_storage_error(ex, container_uri, secrets=()):
    """Map what blob storage says to the CLI user (list, delete, prune, minting a SAS)."""
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError

    if isinstance(ex, ServiceRequestError):
        detail = service_line(str(ex), secrets)
        return ExitWith(azclierror.AzureConnectionError(f"Cannot reach {container_uri}: {detail}"), EXIT_CONNECTION)
    if not isinstance(ex, HttpResponseError):
        return None
    code = code_text(getattr(ex, "error_code", None)) or ex.reason
    status = ex.status_code
    if status in (401, 403) or isinstance(ex, ClientAuthenticationError):
        return ExitWith(
            azclierror.ForbiddenError(
                f"Storage refused access to {container_uri} ({status} {code}). With --sas-token, check its "
                "permissions and expiry; as your signed-in identity, you need the 'Storage Blob Data Contributor' "
                "role on the container (it also lets you mint a SAS); or let the HSM use its own identity with "
                "--use-user-managed-identity."
            ),
            EXIT_UNAUTHORIZED,
        )
    if status == 404:
        return ExitWith(
            azclierror.ResourceNotFoundError(
                f"{container_uri} was not found ({code}): check the account and container."
            ),
            EXIT_NOT_FOUND,
        )
    message = service_line(getattr(ex, "message", None) or str(ex), secrets)
    return ExitWith(azclierror.AzureResponseError(f"{container_uri} answered {status} {code}: {message}"), 1)
