"""The exit codes of az hsm-backup, and how an error leaves the command: as one line, with its code.

Which error a failure of the service or the network is, is service/failures.py's part.

Exit codes (also in README.md): 0 success, 1 other error, 2 bad input, 3 not found, 4 the job failed,
5 not authorized (401/403), 6 another backup or restore is running (409), 7 HSM or storage unreachable or a TLS
error, 8 still running when --timeout ran out, 9 some HSMs of several were not backed up (the output still lists
every HSM), 10 cancelled at the prompt (nothing was done), 11 an answer of the HSM or storage could not be read
(the line names the job and the command that checks on it), 12 an HSM could not confirm which of its backups are
finished: prune left them all alone, check freshness cannot say whether it is fresh (the output says which), 13
check freshness: an HSM has no finished backup within --max-age (Stale or Missing; the output lists every HSM),
130 stopped by Ctrl+C, 143 stopped by SIGTERM (a job already started keeps running; the error line names it).
"""

from collections import namedtuple

from azure.cli.core import azclierror

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
EXIT_UNCONFIRMED = 12  # an HSM could not tell which of its backups are finished (prune left them; freshness unknown)
EXIT_NOT_FRESH = 13  # check freshness: an HSM's newest finished backup is older than --max-age, or it has none
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells and az report for Ctrl+C
EXIT_TERMINATED = 143  # 128 + SIGTERM
# An az error and its exit code, not yet printed: a command about one HSM raises it as ExitWith; a command about
# many (operations/fleet.py) reports it in that HSM's entry. `service_code` is the service's own code when it gave one.
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


def show_command(hsm_url, job_id):
    """The command that checks on a job: what every line about a started job ends with."""
    return f"az hsm-backup show --id {hsm_url} --job-id {job_id}"


def list_command(container_uri, hsm_name):
    """The command that shows an HSM's backups in a container (where a backup that may have started shows up)."""
    return f"az hsm-backup list --storage-container-uri {container_uri} --hsm-name {hsm_name}"
