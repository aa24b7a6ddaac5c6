"""One place that turns what the service or the network says into one clear az error and a documented exit code.

Exit codes (also in README.md): 0 success, 1 other error, 2 bad input, 3 not found, 4 the job failed,
5 not authorized (401/403), 6 another backup or restore is running (409), 7 HSM or storage unreachable or a TLS
error, 8 still running when --timeout ran out, 9 some HSMs of several were not backed up (the output still
lists every HSM), 10 cancelled at the prompt (nothing was done), 11 an answer of the HSM or storage could not be
read (the line names the job and the command that checks on it), 12 prune could not learn from an HSM which of its
backups are finished, so they were all left alone (the output says which), 130 stopped by Ctrl+C, 143 stopped by
SIGTERM (a job already started keeps running; the error line names it).
"""

import re
from collections import namedtuple
from urllib.parse import urlsplit

from azure.cli.core import azclierror

from azext_hsmbackup._constants import BACKUP_ROLES
from azext_hsmbackup._secrets import redact
from azext_hsmbackup.answers import UnreadableAnswer, clean_text, parse_json, read_job

_USER_INFO_RE = re.compile(r"(//)[^/@]*@")

EXIT_BAD_INPUT = 2
EXIT_NOT_FOUND = 3
EXIT_JOB_FAILED = 4
EXIT_UNAUTHORIZED = 5
EXIT_CONFLICT = 6
EXIT_CONNECTION = 7
EXIT_TIMEOUT = 8
EXIT_SOME_FAILED = 9  # several HSMs: one or more failed, were busy or did not start; each is in the output
EXIT_CANCELLED = 10  # free in az (0-3, 130) and here; a "no" at the prompt is an answer, not bad input
EXIT_BAD_ANSWER = 11  # the HSM (or storage) answered something of the wrong shape
EXIT_UNCONFIRMED = 12  # prune: an HSM could not tell which of its backups are finished; they were left alone
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells and az report for Ctrl+C
EXIT_TERMINATED = 143  # 128 + SIGTERM

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


# An az error and its exit code, not yet printed: a command about one HSM raises it as ExitWith; a command about
# many (fleet_run.py) reports it in that HSM's entry. `service_code` is the service's own code when it gave one.
Failure = namedtuple("Failure", "error code service_code", defaults=(None,))


class ExitWith(SystemExit):
    """Print an az error as ONE line (what is wrong, then the fix), then leave with our exit code.

    knack passes a SystemExit code through to the shell; az's own handler would turn every error into exit 1.
    """

    def __init__(self, error, code):
        error.error_msg, error.recommendations = one_line(error), []
        self.error = error
        error.print_error()
        error.send_telemetry()
        super().__init__(code)


def fail_after_output(cli_ctx, code, line):
    """Exit with `code` and `line`, but only after az has printed the command's whole result to stdout: a run that
    did part of what was asked (several HSMs, a prune) still shows everything it did."""
    from knack.events import EVENT_CLI_SUCCESSFUL_EXECUTE

    def fail(_cli_ctx, **_):
        raise ExitWith(azclierror.AzureResponseError(line), code)

    cli_ctx.register_event(EVENT_CLI_SUCCESSFUL_EXECUTE, fail)


def one_line(error):
    """An az error's message and its fix (recommendations) as the one line the user reads."""
    fix = " ".join(str(r) for r in error.recommendations if r)
    return f"{error.error_msg.rstrip()} {fix}" if fix else error.error_msg


def shown(value, limit=60):
    """A user's value, quoted for an error line: secrets masked, control characters escaped, long values cut.

    A SAS signature or a URL password pasted into the wrong flag is masked too.
    """
    raw = str(value)
    text = _USER_INFO_RE.sub(r"\1***@", redact(raw[: 4 * limit]))  # only what can show: huge values stay cheap
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
    return "'" + (text if len(text) <= limit and len(raw) <= 4 * limit else text[: limit - 1] + "…") + "'"


def first_line(message):
    """The service's message without the storage request dump and XML that follow it."""
    text = ("" if message is None else str(message)).replace("\r", "").strip()
    for cut in ("\nRequestId:", "\nStatus:", "<?xml"):
        if cut in text:
            text = text[: text.index(cut)]
    return " ".join(text.split())


def service_line(message, secrets=()):
    """Text the service sent, as one of our lines shows it: its first line, secrets masked, every character that is
    not printable escaped (escape sequences, BEL, bidi overrides), and cut: the service's words get the treatment a
    user's value gets."""
    return clean_text(redact(first_line(message), secrets))


def code_text(code):
    """An error code as people read it: the value of an enum (StorageErrorCode.AUTHORIZATION_FAILURE), not its name;
    a code the service sent is text from outside, cleaned like its message."""
    return clean_text(getattr(code, "value", code), 100) if code is not None else None


def show_command(hsm_url, job_id):
    """The command that checks on a job: what every line about a started job ends with."""
    return f"az hsm-backup show --id {hsm_url} --job-id {job_id}"


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


def list_command(container_uri, hsm_name):
    """The command that shows an HSM's backups in a container (where a backup that may have started shows up)."""
    return f"az hsm-backup list --storage-container-uri {container_uri} --hsm-name {hsm_name}"


def _storage_hint(code, container_uri):
    """The next step for a storage code a job ended with; a missing container gets the command that creates it."""
    if code == "ContainerNotFound" and container_uri:
        from azext_hsmbackup.storage import split_container_uri

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


def sdk_failure(ex, hsm_url, operation, secrets=(), container_uri=None):
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
    """The request that starts a job went out and its answer never came back (_client_factory.StartAnswerLost)."""
    from azext_hsmbackup._client_factory import StartAnswerLost

    if not isinstance(ex, StartAnswerLost):
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
