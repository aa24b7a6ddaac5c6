"""Whether a backup folder holds a finished backup, in the words of the HSM that wrote it.

Storage alone cannot tell a finished backup from one still being written or one a failed job left half-written,
and the service documents no file in the folder that would: we do not rely on the layout of the files. What the
service does offer is its pre-restore check (PUT /prerestore, api-version 7.6 and later): the HSM reads the folder
as a restore would and restores nothing. Its job ends Succeeded for a backup it could restore, Failed otherwise.

The check runs as the signed-in identity (it needs the local role that may restore: Managed HSM Administrator) and
the HSM reads storage with the SAS it is given, or with its own identity. An HSM that cannot be asked (no role,
unreachable, an az without the check, storage refusing the HSM, busy with a backup or restore for longer than
BUSY_WAIT_S) gives no verdict: UNKNOWN, and nothing of it is counted or deleted.
"""

import threading
import time

from azext_hsmbackup._constants import DEFAULT_API_VERSION
from azext_hsmbackup._text import service_line
from azext_hsmbackup.errors import EXIT_CONFLICT, EXIT_JOB_FAILED, one_line
from azext_hsmbackup.model.retention import FINISHED, NOT_FINISHED, UNKNOWN, Verdict
from azext_hsmbackup.service.credential import cli_credential
from azext_hsmbackup.service.failures import job_failure, sdk_failure
from azext_hsmbackup.service.keyvault import backup_client, cache_the_challenge
from azext_hsmbackup.service.pipeline import JobTracker
from azext_hsmbackup.service.transport import shared_session

# A check is a short job, but the HSM runs one job at a time: two runs of prune, or a backup that is ending, make it
# answer 409 for a while. Wait that long for it, then give up on that HSM for this run.
BUSY_WAIT_S = 15
# Pauses between checks of a busy HSM: 1 s, then 2 s. Another check (a few seconds) is the usual reason it is busy,
# and several prunes or deletes at once take turns: short pauses find the gap between their jobs.
MAX_BUSY_PAUSE_S = 2.0


# Failure codes of a pre-restore job that mean the HSM could not read storage, not that the folder is no backup.
STORAGE_ACCESS_CODES = (
    "AuthenticationFailed",
    "AuthorizationFailure",
    "AuthorizationPermissionMismatch",
    "ContainerNotFound",
    "InvalidQueryParameterValue",
    "StorageRequestFailed",
)


OPERATION = "pre-restore check"


class HsmJudge:  # pylint: disable=too-many-instance-attributes  # what to ask with, and its client cache
    """Asks HSMs about folders of one container: one client (and connection) per HSM for all its checks, which go one
    at a time (an HSM runs one job at a time); one credential and one storage access for all HSMs.

    `auth`: {"sas_token": ...} or {"use_managed_identity": True}, what the HSM reads storage with.
    `hsm_url(name)`: the URL of the HSM a folder name names (None when the cloud cannot build one).
    """

    def __init__(self, cli_ctx, container_uri, auth, hsm_url, *, credential=None, api_version=DEFAULT_API_VERSION):
        self.cli_ctx, self.container_uri, self.auth, self.hsm_url = cli_ctx, container_uri, auth, hsm_url
        self.credential, self.api_version = credential, api_version
        self._lock = threading.Lock()
        self._clients = {}  # HSM URL -> (client, its JobTracker)
        self._session = None  # one HTTPS session for all the HSMs' clients (service/transport.py)

    def close(self):
        for client, _ in self._clients.values():
            client.close()
        self._clients = {}
        if self._session is not None:
            self._session.close()

    def _client(self, hsm_url):
        with self._lock:
            made = self._clients.get(hsm_url)
        if made is None:
            tracker = JobTracker()
            credential, session = self._shared()
            client = backup_client(
                self.cli_ctx, hsm_url, self.api_version, tracker, credential=credential, session=session
            )
            cache_the_challenge(client)  # before its first check, on the SDK builds that need it
            made = self._clients.setdefault(hsm_url, (client, tracker))
        return made

    def _shared(self):
        """(credential, HTTPS session): made once, for every HSM's client."""
        with self._lock:
            if self.credential is None:
                self.credential = cli_credential(self.cli_ctx)
            if self._session is None:
                self._session = shared_session()
            return self.credential, self._session

    def verdict(self, hsm_name, folder):
        """The HSM's word on `folder` (a folder name of the container)."""
        hsm_url = self.hsm_url(hsm_name)
        if not hsm_url:
            return Verdict(UNKNOWN, "the current cloud defines no Managed HSM DNS suffix to reach the HSM by", 2)
        deadline = time.monotonic() + BUSY_WAIT_S
        pause = 1.0
        while True:
            verdict, busy = self._check_once(hsm_url, folder)
            if not busy:
                return verdict
            if time.monotonic() + pause > deadline:
                return verdict
            time.sleep(pause)
            pause = min(pause * 2, MAX_BUSY_PAUSE_S)

    def _check_once(self, hsm_url, folder):
        """(Verdict, whether the HSM was busy with another job)."""
        secrets = [self.auth.get("sas_token")]
        try:
            client, tracker = self._client(hsm_url)
            job = self._pre_restore(client, tracker, folder)
            failure = None if job["status"] == "Succeeded" else job_failure(job, OPERATION, secrets, hsm_url)
        except Exception as ex:  # pylint: disable=broad-exception-caught
            failure = sdk_failure(ex, hsm_url, OPERATION, secrets, self.container_uri)
            if failure is None:
                return Verdict(UNKNOWN, f"{hsm_url}: the {OPERATION} stopped: {service_line(str(ex))}", 1), False
        if failure is None:
            return Verdict(FINISHED), False
        line = one_line(failure.error)
        if failure.code == EXIT_JOB_FAILED and failure.service_code not in STORAGE_ACCESS_CODES:
            return Verdict(NOT_FINISHED, line), False
        return Verdict(UNKNOWN, line, failure.code), failure.code == EXIT_CONFLICT

    def _pre_restore(self, client, tracker, folder):
        """Run the HSM's pre-restore check of `folder` to its end; its last job document (read by the tracker).

        The SDK's own call where it has one (azure-keyvault-administration 4.6.0 on, in az 2.88 on); the SDK of older
        az releases has none, and there the same request goes through the client's pipeline (the same challenge,
        token, no-resend and pacing policies): PUT /prerestore, then its status link until the job ends."""
        from azure.core.rest import HttpRequest

        if hasattr(client, "begin_pre_restore"):
            client.begin_pre_restore(f"{self.container_uri}/{folder}", _polling_interval=0, **self.auth).result()
            return tracker.job
        storage_access = {"storageResourceUri": self.container_uri}
        if self.auth.get("use_managed_identity"):
            storage_access["useManagedIdentity"] = True
        else:
            storage_access["token"] = self.auth["sas_token"]
        body = {"sasTokenParameters": storage_access, "folderToRestore": folder}
        request = HttpRequest("PUT", "/prerestore", params={"api-version": self.api_version}, json=body)
        client.send_request(request).raise_for_status()
        status_url = f"/restore/{tracker.job['jobId']}/pending"  # the tracker checked the answer and its link
        while tracker.job["status"] == "InProgress":
            time.sleep(max(0.0, (tracker.next_read or 0) - time.monotonic()))
            client.send_request(HttpRequest("GET", status_url)).raise_for_status()
        return tracker.job
