"""What a job does in Azure Storage (Azurite), through azure-storage-blob, and how storage refusals are reported.

Backup layout, under `<container>/[<path in the storage URI>/]<folder>/`:

    keys/<key name>.json   one blob per key: the key record (hsms.py) as JSON, material in base64
    manifest.json          written last: {"format", "hsm", "folder", "jobId", "createdUtc", "keyCount",
                                          "keys": [{"name", "blob", "sha256", "versions"}]}

Restore reads the manifest, then each key blob, checks its sha256, and hands back the records unchanged.

A storage refusal becomes `StorageFailure(code, message)` where message has the shape the real service puts in a
failed job's `error.message` (the .NET RequestFailedException text, see the RERR recording): the storage message,
`Status:`, `ErrorCode:`, `Additional Information:`, `Content:` (the XML) and `Headers:`, joined with CRLF.

Proxy and CA come from the environment (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE), as for any requests user.
"""

import hashlib
import ipaddress
import json
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import parse_qs, unquote, urlsplit

from tests.mhsm_emulator import clock
from tests.mhsm_emulator.reqlog import mask_text

FORMAT = "mhsm-emulator-backup/1"
_PATH_STYLE_HOSTS = {"localhost", "host.docker.internal"}  # as Azurite: these and IPs carry the account in the path
_CLIENT_OPTIONS = {"retry_total": 0, "connection_timeout": 5, "read_timeout": 30}
_AZURE_SERVER = "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0"
_AUTH_FAILED = (
    "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly "
    "including the signature."
)
_PERMISSION_MISMATCH = "This request is not authorized to perform this operation using this permission."


class StorageFailure(Exception):
    """A job's failure: `code` becomes statusDetails and error.code, `message` error.message."""

    def __init__(self, code, message):
        super().__init__(code)
        self.code = code
        self.message = message


class Target:
    """A storageResourceUri split into account, container and the path below the container."""

    def __init__(self, uri):
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("storageResourceUri must be an absolute http(s) URL")
        host = parts.hostname.lower()
        segments = [unquote(s) for s in parts.path.split("/") if s]
        try:
            path_style = ipaddress.ip_address(host) is not None
        except ValueError:
            path_style = host in _PATH_STYLE_HOSTS
        base = f"{parts.scheme}://{parts.netloc}"
        if path_style:
            self.account = (segments.pop(0) if segments else "").lower()
            self.account_url = f"{base}/{self.account}"
        else:
            self.account = host.split(".", 1)[0]
            self.account_url = base
        self.container = segments[0] if segments else ""
        self.prefix = "/".join(segments[1:])

    def folder_prefix(self, folder):
        return f"{self.prefix}/{folder}" if self.prefix else folder


def sas_field(token, name):
    values = parse_qs((token or "").lstrip("?")).get(name)
    return values[0] if values else None


# ---- errors ------------------------------------------------------------------------------------------------


def _dotnet_message(status, message, code, content, extra, headers):
    reason = message.split("\n", 1)[0]
    lines = [message, f"Status: {status} ({reason})", f"ErrorCode: {code}", ""]
    if extra:
        lines += ["Additional Information:", *(f"{k}: {v}" for k, v in extra.items()), ""]
    lines += ["Content:", content, "", "Headers:", *(f"{k}: {v}" for k, v in headers)]
    return "\r\n".join(lines) + "\r\n"


def _now_http():
    return format_datetime(clock.now(), usegmt=True)


def synthetic_error(status, code, text, extra=None, request_id=None, server=_AZURE_SERVER):
    """A StorageFailure for a refusal Azure Storage would give (built here, not received from Azurite)."""
    request_id = request_id or str(uuid.uuid4())
    when = clock.now().strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    message = f"{text}\nRequestId:{request_id}\nTime:{when}"
    extra = dict(extra or {})
    xml_extra = "".join(f"<{k}>{v}</{k}>" if v else f"<{k} />" for k, v in extra.items())
    content = (
        f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code><Message>{message}</Message>'
        f"{xml_extra}</Error>"
    )
    headers = [
        ("x-ms-request-id", request_id),
        ("x-ms-client-request-id", str(uuid.uuid4())),
        ("x-ms-error-code", code),
        ("Content-Length", str(len(content.encode()))),
        ("Content-Type", "application/xml"),
        ("Date", _now_http()),
        ("Server", server),
    ]
    return StorageFailure(code, _dotnet_message(status, message, code, content, extra, headers))


def _from_response_error(exc, token):
    """Turn azure-storage-blob's HttpResponseError into the StorageFailure the real service would report."""
    response = exc.response
    status = getattr(response, "status_code", 0)
    headers = dict(response.headers or {}) if response is not None else {}
    try:
        content = response.text() if response is not None else ""
    except Exception:
        content = ""
    code, message, extra = headers.get("x-ms-error-code") or getattr(exc, "error_code", None) or "", "", {}
    try:
        root = ET.fromstring(content) if content else None
    except ET.ParseError:
        root = None
    if root is not None:
        for child in root:
            if child.tag == "Code":
                code = child.text or code
            elif child.tag == "Message":
                message = child.text or ""
            else:
                extra[child.tag] = child.text or ""
    code = str(code or f"Http{status}")
    message = message or getattr(exc, "reason", None) or str(exc).split("\n", 1)[0]
    request_id = headers.get("x-ms-request-id") or str(uuid.uuid4())
    if status == 403 and code == "AuthorizationFailure" and token is not None:
        # Azurite answers a SAS with a wrong signature or a past expiry with AuthorizationFailure; Azure Storage
        # answers AuthenticationFailed with an AuthenticationErrorDetail. Report what Azure would.
        return synthetic_error(
            403,
            "AuthenticationFailed",
            _AUTH_FAILED,
            {"AuthenticationErrorDetail": _sas_detail(token)},
            request_id=request_id,
            server=headers.get("Server", _AZURE_SERVER),
        )
    shown = [(k, headers[k]) for k in ("x-ms-request-id", "x-ms-client-request-id", "x-ms-error-code") if k in headers]
    shown += [(k, v) for k, v in headers.items() if k.lower() in ("content-length", "content-type", "date", "server")]
    text = _dotnet_message(status, message, code, content, extra, shown)
    return StorageFailure(code, mask_text(text, [token] if token else []))


def _sas_detail(token):
    expiry = sas_field(token, "se")
    try:
        expires = datetime.fromisoformat(expiry.replace("Z", "+00:00")) if expiry else None
    except ValueError:
        expires = None
    if expires is not None and expires <= clock.now():
        expired = format_datetime(expires, usegmt=True)
        return f"Signed expiry time [{expired}] must be after signed start time [{_now_http()}]"
    return "Signature did not match. String to sign used was not reproduced by the emulator."


def no_container_error():
    """What the real service reported for a storageResourceUri without a container (RERR recording)."""
    return synthetic_error(
        400,
        "InvalidQueryParameterValue",
        "Value for one of the query parameters specified in the request URI is invalid.",
        {"QueryParameterName": "comp", "QueryParameterValue": "", "Reason": ""},
        server="Microsoft-HTTPAPI/2.0",
    )


def _storage_call(token, fn, *args, **kwargs):
    from azure.core.exceptions import AzureError, HttpResponseError

    try:
        return fn(*args, **kwargs)
    except HttpResponseError as exc:
        if exc.response is None:
            raise StorageFailure("StorageRequestFailed", mask_text(str(exc), [token] if token else [])) from exc
        raise _from_response_error(exc, token) from exc
    except AzureError as exc:  # connection refused, DNS, TLS, timeouts: no storage answer at all
        text = f"Storage request failed: {type(exc).__name__}: {exc}"
        raise StorageFailure("StorageRequestFailed", mask_text(text, [token] if token else [])) from exc


# ---- the work ------------------------------------------------------------------------------------------------


class Storage:
    """One job's view of a container: SAS (token) or the HSM's managed identity (account key from the config)."""

    def __init__(self, storage_uri, token, use_managed_identity, identity_accounts):
        from azure.storage.blob import ContainerClient

        self.target = Target(storage_uri)
        self.token = None if use_managed_identity else (token or "").lstrip("?")
        if not self.target.container:
            raise no_container_error()
        if use_managed_identity:
            key = identity_accounts.get(self.target.account)
            if key is None:  # the HSM's identity has no role on this account
                raise synthetic_error(403, "AuthorizationPermissionMismatch", _PERMISSION_MISMATCH)
            self.client = ContainerClient(
                self.target.account_url,
                self.target.container,
                credential={"account_name": self.target.account, "account_key": key},
                **_CLIENT_OPTIONS,
            )
        else:
            url = f"{self.target.account_url}/{self.target.container}?{self.token}"
            self.client = ContainerClient.from_container_url(url, **_CLIENT_OPTIONS)

    echo_sas = False  # the config knob echo_sas_in_errors

    def _call(self, fn, *args, **kwargs):
        try:
            return _storage_call(self.token, fn, *args, **kwargs)
        except StorageFailure as exc:
            if self.echo_sas and self.token:  # quote the SAS unmasked, URL-encoded and decoded, on purpose
                url = f"{self.target.account_url}/{self.target.container}?{self.token}"
                exc.message = f"{url} (sig={sas_field(self.token, 'sig')}) failed: {exc.message}"
            raise

    def _upload(self, name, data):
        from azure.storage.blob import ContentSettings

        settings = ContentSettings(content_type="application/json")
        self._call(self.client.upload_blob, name, data, overwrite=True, content_settings=settings)

    def _download(self, name):
        return self._call(lambda: self.client.download_blob(name).readall())

    def write_backup(self, folder, hsm_name, job_id, keys, pace=None, stop_after=None):
        """Write the backup blob by blob: `pace(i, n)` before the i-th of n blobs (the manifest is the last) lets the
        folder fill over the job's duration; `stop_after` blobs written, the job fails as an interrupted one."""
        prefix = self.target.folder_prefix(folder)
        entries = []
        for index, record in enumerate(keys):
            if stop_after is not None and index >= stop_after:
                raise StorageFailure("InternalError", f"The backup was interrupted after {index} of its blobs.")
            if pace:
                pace(index, len(keys) + 1)
            data = json.dumps(record, sort_keys=True).encode("utf-8")
            blob = f"keys/{record['name']}.json"
            self._upload(f"{prefix}/{blob}", data)
            entries.append(
                {
                    "name": record["name"],
                    "blob": blob,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "versions": len(record["versions"]),
                }
            )
        manifest = {
            "format": FORMAT,
            "hsm": hsm_name,
            "folder": folder,
            "jobId": job_id,
            "createdUtc": clock.now().isoformat(timespec="seconds").replace("+00:00", "Z"),
            "keyCount": len(entries),
            "keys": entries,
        }
        if stop_after is not None and stop_after <= len(keys):
            raise StorageFailure("InternalError", f"The backup was interrupted after {len(keys)} of its blobs.")
        if pace:
            pace(len(keys), len(keys) + 1)
        self._upload(f"{prefix}/manifest.json", json.dumps(manifest, indent=2).encode("utf-8"))

    def read_manifest(self, folder):
        raw = self._download(f"{self.target.folder_prefix(folder)}/manifest.json")
        try:
            manifest = json.loads(raw)
        except ValueError:
            manifest = None
        if (
            not isinstance(manifest, dict)
            or manifest.get("format") != FORMAT
            or not isinstance(manifest.get("keys"), list)
        ):
            raise StorageFailure("InvalidBackupFolder", f"The folder {folder} does not hold a Managed HSM backup.")
        return manifest

    def read_backup(self, folder, only=None):
        """The key records of the backup in `folder` (only the key called `only`, if given), every blob checked: what a
        restore and the pre-restore check (which restores nothing) read."""
        manifest = self.read_manifest(folder)
        records = []
        for entry in manifest["keys"]:
            if only is not None and entry.get("name") != only:
                continue
            data = self._download(f"{self.target.folder_prefix(folder)}/{entry['blob']}")
            if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
                raise StorageFailure(
                    "InvalidBackupFolder", f"The backup of key {entry.get('name')} in {folder} is corrupt."
                )
            records.append(json.loads(data))
        return records

    def probe(self, need_write):
        """Check that the container exists and the credential works, writing nothing (the pre-operations)."""
        from azure.core.exceptions import ResourceNotFoundError

        probe = f"{self.target.folder_prefix('.emulator-probe')}/{uuid.uuid4().hex}"
        try:
            self._call(self.client.get_blob_client(probe).get_blob_properties)
        except StorageFailure as failure:
            if failure.code != "BlobNotFound":
                raise
        except ResourceNotFoundError:
            pass
        if need_write and self.token is not None and not re.search("[wc]", sas_field(self.token, "sp") or ""):
            raise synthetic_error(403, "AuthorizationPermissionMismatch", _PERMISSION_MISMATCH)
