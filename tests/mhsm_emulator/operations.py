"""The data-plane operations (rest-api.md 1.3): validate the request, start the job, answer 202; answer polls.

POST /backup                 {storageResourceUri, token?, useManagedIdentity?}        -> 202, poll /backup/{id}
PUT  /restore                {sasTokenParameters, folderToRestore}                     -> 202, poll /restore/{id}
PUT  /keys/{key}/restore     {sasTokenParameters, folder}                              -> 202, poll /restore/{id}
POST /prebackup              {storageResourceUri?, token?, useManagedIdentity?}  (7.6+) -> 202, poll /backup/{id}
PUT  /prerestore             {sasTokenParameters?, folderToRestore?}             (7.6+) -> 202, poll /restore/{id}
GET  /backup/{id}/pending, GET /restore/{id}/pending   (api-version optional)        -> 200 (also when Failed)
"""

import json
import re
from datetime import UTC, datetime
from urllib.parse import unquote

from tests.mhsm_emulator import config as cfg
from tests.mhsm_emulator.hsms import KEY_NAME
from tests.mhsm_emulator.jobs import Conflict
from tests.mhsm_emulator.reqlog import mask_text
from tests.mhsm_emulator.storage import Storage, StorageFailure, Target, synthetic_error


class Request:
    def __init__(self, method, path, query, body, host, hsm_name):
        self.method, self.path, self.query, self.body = method, path, query, body
        self.host, self.hsm_name = host, hsm_name


class Reply:
    def __init__(self, status, body=None, headers=None, job_id=None, poll=False):
        self.status, self.body, self.headers, self.job_id, self.poll = status, body, list(headers or []), job_id, poll


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def reply(self):
        return Reply(self.status, {"error": {"code": self.code, "message": self.message}})


def _bad(message):
    return ApiError(400, "BadParameter", message)


def folder_name(hsm_name, start):
    """mhsm-<hsm>-<yyyyMMddHHmmss><hundredths>, UTC of the job's start (as the real service)."""
    when = datetime.fromtimestamp(start, UTC)
    return f"mhsm-{hsm_name}-{when:%Y%m%d%H%M%S}{when.microsecond // 10000:02d}"


# ---- request parsing -------------------------------------------------------------------------------------------


def api_version(query, required):
    values = query.get("api-version")
    if not values:
        if required:
            raise _bad("The api-version query parameter (?api-version=) is required for all requests.")
        return None
    version = values[0]
    if version not in cfg.API_VERSIONS:
        raise _bad(
            f"The specified version ({version}) is not supported. Consider using the latest supported version "
            f"({cfg.LATEST_STABLE})."
        )
    return version


def json_body(raw, required=True):
    if not raw:
        if required:
            raise _bad("The request body is required.")
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise _bad("The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object.")
    return body


def sas_parameters(value, version, where):
    """(storage_uri, token, use_managed_identity) from a SASTokenParameter object, as the version allows it."""
    if not isinstance(value, dict):
        raise _bad(f"Property {where} is required and must be an object.")
    uri = value.get("storageResourceUri")
    if not isinstance(uri, str) or not uri.strip():
        raise _bad("Property storageResourceUri is required.")
    try:
        Target(uri)
    except ValueError as exc:
        raise _bad(f"storageResourceUri is not valid: {exc}.") from exc
    token, use_mi = value.get("token"), value.get("useManagedIdentity")
    if token is not None and not isinstance(token, str):
        raise _bad("Property token must be a string.")
    if use_mi is not None and not isinstance(use_mi, bool):
        raise _bad("Property useManagedIdentity must be a boolean.")
    if not cfg.supports_managed_identity(version):
        if not token:
            raise _bad(
                f"Property token is required: api-version {version} authenticates to storage with a SAS token only "
                "(useManagedIdentity needs api-version 7.5 or later)."
            )
        return uri.strip(), token, False
    if use_mi:
        return uri.strip(), None, True
    if not token:
        raise _bad("A SAS token is required unless useManagedIdentity is true.")
    return uri.strip(), token, False


def restore_source(uri, folder):
    """(storage URI, folder) to read a backup from.

    The SDK splits a folder URL at its first path segment (container) - right for Azure's host-style URLs, one
    segment too early for a path-style one (`http://127.0.0.1:port/<account>/<container>/<folder>`): there the
    account arrives as the whole storage URI and `<container>/<folder>` as the folder. Shift it back.
    """
    folder = folder.strip("/")
    if not Target(uri).container and "/" in folder:
        container, folder = folder.split("/", 1)
        uri = uri.rstrip("/") + "/" + container
    return uri, folder


def _details(uri, token, use_mi, **extra):
    details = {"storageResourceUri": mask_text(uri), "auth": "managedIdentity" if use_mi else "sas"}
    return {**details, **{k: v for k, v in extra.items() if v is not None}}


# ---- operations -----------------------------------------------------------------------------------------------


def _start(emulator, request, kind, work, details):
    config = emulator.config
    try:
        job = emulator.jobs.start(
            request.hsm_name,
            kind,
            float(config["job_duration_by_hsm"].get(request.hsm_name.lower(), config["job_duration_s"])),
            work,
            take_forced_failure=emulator.take_forced_failure,
            details=details,
        )
    except Conflict as exc:
        raise ApiError(409, "Conflict", exc.message) from exc
    headers = [("azure-asyncoperation", f"https://{request.host}/{job.family}/{job.id}/pending")]
    if config["retry_after_202"] is not None:
        headers.append(("Retry-After", str(config["retry_after_202"])))
    return Reply(202, job.body(accepted=True), headers, job_id=job.id)


def _storage(emulator, job, uri, token, use_mi):
    if job.hsm_name.lower() in emulator.config["storage_refuses_hsms"]:  # e.g. a storage firewall without this HSM
        raise synthetic_error(403, "AuthorizationFailure", "This request is not authorized to perform this operation.")
    storage = Storage(uri, token, use_mi, emulator.config["identity_storage_accounts"])
    storage.echo_sas = emulator.config["echo_sas_in_errors"]
    return storage


def start_backup(emulator, request):
    version = api_version(request.query, required=True)
    uri, token, use_mi = sas_parameters(json_body(request.body), version, "body")
    hsm = emulator.hsm(request.hsm_name)
    keys = hsm.snapshot()

    def work(job):
        folder = folder_name(hsm.name, job.start)
        stop_after = emulator.take_backup_interruption()  # taken by a backup that runs, not by one refused 409

        def pace(index, count):
            """The i-th of n blobs goes at i/n of the job's duration: the folder fills while the job runs, its index
            (manifest.json) last, just before the job ends, as a real backup folder fills over minutes."""
            job.pause_until(job.start + job.duration * index / count)

        storage = _storage(emulator, job, uri, token, use_mi)
        storage.write_backup(folder, hsm.name, job.id, keys, pace=pace, stop_after=stop_after)
        return None, uri.rstrip("/") + "/" + folder

    return _start(emulator, request, "backup", work, _details(uri, token, use_mi, keyCount=len(keys)))


def start_restore(emulator, request):
    version = api_version(request.query, required=True)
    body = json_body(request.body)
    uri, token, use_mi = sas_parameters(body.get("sasTokenParameters"), version, "sasTokenParameters")
    folder = body.get("folderToRestore")
    if not isinstance(folder, str) or not folder.strip("/"):
        raise _bad("Property folderToRestore is required.")
    hsm = emulator.hsm(request.hsm_name)

    def work(job):
        source, name = restore_source(uri, folder)
        records = _storage(emulator, job, source, token, use_mi).read_backup(name)
        return (lambda: hsm.replace_all(records)), None

    return _start(emulator, request, "restore", work, _details(uri, token, use_mi, folder=folder))


def start_selective_restore(emulator, request, key_name):
    version = api_version(request.query, required=True)
    key_name = unquote(key_name)
    if not KEY_NAME.match(key_name):
        raise _bad(f"The key name {key_name!r} is not valid.")
    body = json_body(request.body)
    uri, token, use_mi = sas_parameters(body.get("sasTokenParameters"), version, "sasTokenParameters")
    folder = body.get("folder")
    if not isinstance(folder, str) or not folder.strip("/"):
        raise _bad("Property folder is required.")
    hsm = emulator.hsm(request.hsm_name)

    def work(job):
        source, name = restore_source(uri, folder)
        records = _storage(emulator, job, source, token, use_mi).read_backup(name, only=key_name)
        if not records:
            raise StorageFailure(
                "KeyNotFound", f"A key with (name/id) {key_name} was not found in the backup folder {folder}."
            )
        return (lambda: hsm.put(records[0])), None

    details = _details(uri, token, use_mi, folder=folder, keyName=key_name)
    return _start(emulator, request, "selective", work, details)


def _require_pre_operations(version, name):
    if not cfg.supports_pre_operations(version):
        raise _bad(
            f"The operation {name} is not supported in api-version {version}; it needs api-version 7.6-preview.2 "
            "or later."
        )


def start_prebackup(emulator, request):
    version = api_version(request.query, required=True)
    _require_pre_operations(version, "PreFullBackup")
    body = json_body(request.body, required=False)
    params = sas_parameters(body, version, "body") if "storageResourceUri" in body else None
    emulator.hsm(request.hsm_name)

    def work(job):
        if params:
            _storage(emulator, job, *params).probe(need_write=True)
        return None, None

    return _start(emulator, request, "prebackup", work, _details(*params) if params else {})


def start_prerestore(emulator, request):
    version = api_version(request.query, required=True)
    _require_pre_operations(version, "PreFullRestoreOperation")
    body = json_body(request.body, required=False)
    sas = body.get("sasTokenParameters")
    params = sas_parameters(sas, version, "sasTokenParameters") if sas is not None else None
    folder = body.get("folderToRestore")
    if folder is not None and (not isinstance(folder, str) or not folder.strip("/")):
        raise _bad("Property folderToRestore must be a folder name.")
    emulator.hsm(request.hsm_name)

    def work(job):
        if params and folder:  # the whole backup is read and checked, as a restore would, and nothing restored
            source, name = restore_source(params[0], folder)
            _storage(emulator, job, source, *params[1:]).read_backup(name)
        elif params:
            _storage(emulator, job, *params).probe(need_write=False)
        return None, None

    return _start(emulator, request, "prerestore", work, _details(*params, folder=folder) if params else {})


def poll(emulator, request, family, job_id):
    api_version(request.query, required=False)
    job = emulator.jobs.get(job_id)
    if job is None or job.family != family or job.hsm_name != request.hsm_name:
        raise ApiError(404, "NotFound", f"The {family} job with id {job_id} was not found.")
    headers = []
    retry_ms = emulator.config["poll_retry_after_ms"]
    if retry_ms is not None:
        headers.append(("retry-after-ms", str(retry_ms)))
    return Reply(200, job.body(), headers, job_id=job.id, poll=True)


_ID = "(?P<id>[^/]+)"
ROUTES = (
    ("POST", re.compile(r"^/backup$", re.I), lambda e, r, m: start_backup(e, r)),
    ("GET", re.compile(rf"^/backup/{_ID}/pending$", re.I), lambda e, r, m: poll(e, r, "backup", m["id"])),
    ("PUT", re.compile(r"^/restore$", re.I), lambda e, r, m: start_restore(e, r)),
    ("GET", re.compile(rf"^/restore/{_ID}/pending$", re.I), lambda e, r, m: poll(e, r, "restore", m["id"])),
    (
        "PUT",
        re.compile(r"^/keys/(?P<key>[^/]+)/restore$", re.I),
        lambda e, r, m: start_selective_restore(e, r, m["key"]),
    ),
    ("POST", re.compile(r"^/prebackup$", re.I), lambda e, r, m: start_prebackup(e, r)),
    ("PUT", re.compile(r"^/prerestore$", re.I), lambda e, r, m: start_prerestore(e, r)),
)


def dispatch(emulator, request):
    """The Reply for an authenticated data-plane request."""
    for method, pattern, handler in ROUTES:
        match = pattern.match(request.path)
        if match and method == request.method:
            try:
                return handler(emulator, request, match)
            except ApiError as exc:
                return exc.reply()
    return ApiError(404, "NotFound", f"The requested resource {request.method} {request.path} was not found.").reply()
