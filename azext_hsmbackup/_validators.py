"""Resolving the parameter sets of Backup-AzKeyVault, in az words.

`resolve_target` is pure (plain values in, a `Target` or one az error out) so the whole parameter-set table is
unit-tested without a CLI. `validate_create` is the thin command-level adapter: it reads the cloud suffixes and,
when asked, the SAS token from a hidden prompt or stdin.
"""

import ipaddress
import json
import math
import re
from dataclasses import dataclass, replace
from datetime import date
from urllib.parse import urlsplit

from azure.cli.core.azclierror import (
    InvalidArgumentValueError,
    MutuallyExclusiveArgumentError,
    RequiredArgumentMissingError,
)

from azext_hsmbackup import sas
from azext_hsmbackup._constants import (
    BACKUP_SAS_PERMISSIONS,
    MANAGED_HSM_RESOURCE_TYPE,
    RESTORE_SAS_PERMISSIONS,
    RETENTION_SAS_PERMISSIONS,
)
from azext_hsmbackup.errors import shown

# `--sas-token` given without a value: ask for it without echo.
PROMPT_FOR_SAS = "\0prompt"
STDIN_SAS = "-"

# Every pattern is used with fullmatch: `$` alone would let a trailing newline through into a URL.
HSM_NAME_RE = re.compile(r"[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]")
ACCOUNT_NAME_RE = re.compile(r"[a-z0-9]{3,24}")
CONTAINER_NAME_RE = re.compile(r"(?=.{3,63}$)[a-z0-9](?!.*--)[a-z0-9-]*[a-z0-9]")
DNS_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
SUBSCRIPTION_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
RESOURCE_GROUP_RE = re.compile(r"[-\w.()]{0,89}[-\w()]")  # ARM allows Unicode letters and digits too
PROVIDER_RE = re.compile(r"[A-Za-z][A-Za-z0-9.]{0,99}")
RESOURCE_TYPE_RE = re.compile(r"[A-Za-z][A-Za-z0-9]{0,99}")
API_VERSION_RE = re.compile(r"7\.\d{1,2}(?:-preview\.\d{1,3})?|(\d{4})-(\d{2})-(\d{2})(?:-preview)?")
JOB_ID_RE = re.compile(r"[0-9a-fA-F]{32}")

# az keyvault show prints a few KB; a PSManagedHsm as JSON a few more.
MAX_HSM_OBJECT_CHARS = 1_000_000
MAX_URL_CHARS = 2048

HSM_FLAGS = "--hsm-name, --hsm-object or --id"
STORAGE_FLAGS = "--storage-container-uri, or --storage-account-name with --storage-container-name"
HSM_RESOURCE_ID_FORM = (
    "/subscriptions/SUBSCRIPTION-ID/resourceGroups/GROUP/providers/Microsoft.KeyVault/managedHSMs/NAME"
)


@dataclass(frozen=True)
class Target:
    """Where a backup goes, resolved from any parameter set."""

    hsm_url: str
    hsm_name: str
    container_uri: str
    storage_auth: str  # "sas", "managedIdentity" or "mintedSas" (a user-delegation SAS minted when needed)
    sas_token: str = None
    folder: str = None  # the backup folder a restore or delete works on

    def __repr__(self):  # never show the token, even in a debugger or a log line
        return f"Target(hsm_url={self.hsm_url!r}, container_uri={self.container_uri!r}, auth={self.storage_auth!r})"

    @property
    def folder_url(self):
        return f"{self.container_uri}/{self.folder}" if self.folder else None


def _given(**flags):
    """The flags the user typed. An empty string was typed too: it is refused by the flag's own check."""
    return [name for name, value in flags.items() if value is not None and value is not False]


def check_text(value, flag, wanted):
    """A flag's value as az hands it over: refuse what is not text, or is empty or whitespace only."""
    if not isinstance(value, str):
        raise InvalidArgumentValueError(f"{flag} must be text, not {type(value).__name__}: give {wanted}.")
    if not value.strip():
        raise InvalidArgumentValueError(f"{flag} is empty: give {wanted}.")
    return value


# ---- Numbers and plain options ----------------------------------------------------------------------------

_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?")
_INTEGER_RE = re.compile(r"[+-]?\d{1,30}")


def bounded_number(value, flag, low, high, kind=float, unit="seconds", example=None):
    """A number flag, from az's text or a Python number: finite, of `kind` (int or float), within [low, high].

    Refuses empty text, words ("abc"), NaN, infinity, booleans and values out of range with one line that names
    the flag, the range and an example.
    """
    wanted = f"{'a whole number' if kind is int else 'a number'} of {unit} from {low:g} to {high:g}"
    fix = f"give {wanted}, e.g. {flag} {example if example is not None else f'{high:g}'}."

    def bad(why):
        return InvalidArgumentValueError(f"{flag} {shown(value)} {why}: {fix}")

    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise bad("is not a number")
    if isinstance(value, str):
        text = value.strip()
        if not (_INTEGER_RE if kind is int else _NUMBER_RE).fullmatch(text):
            raise bad("is not a whole number" if kind is int and _NUMBER_RE.fullmatch(text) else "is not a number")
        number = int(text) if kind is int else float(text)
        if isinstance(number, float) and math.isinf(number):  # digits beyond what a float holds
            raise bad("is out of range")
    else:
        number = value
    if isinstance(number, float) and not math.isfinite(number):
        raise bad("is not a finite number")
    if kind is int and number != int(number):
        raise bad("is not a whole number")
    if not low <= number <= high:
        raise bad("is out of range")
    return kind(number)


def three_state(value, flag):
    """`--flag`, `--flag true` or `--flag false` (case-insensitive), as az's three-state flags take them."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise InvalidArgumentValueError(
        f"{flag} {shown(value)} is not true or false: give {flag} alone (true), {flag} true, or {flag} false."
    )


def check_api_version(value, flag="--api-version"):
    """An api-version of the Managed HSM data plane, by its form: 7.x, 7.x-preview.N, YYYY-MM-DD[-preview]."""
    if value is None:
        return None
    fix = "e.g. 2025-07-01, 7.6 or 7.6-preview.2; leave it out to use the tested default"
    check_text(value, flag, f"an api-version, {fix}")
    text = value.strip()
    match = API_VERSION_RE.fullmatch(text)
    valid = bool(match)
    if match and match.group(1):
        try:
            date(*(int(g) for g in match.groups()))
        except ValueError:
            valid = False
    if not valid:
        raise InvalidArgumentValueError(
            f"{flag} {shown(value)} is not an api-version: use the form 7.x, 7.x-preview.N, YYYY-MM-DD or "
            f"YYYY-MM-DD-preview, {fix}."
        )
    return text


def check_job_id(value, flag="--job-id"):
    wanted = "the 32 hex digits of the job id that create or restore printed"
    if value is None:
        raise RequiredArgumentMissingError(f"No {flag} given: give {wanted}.")
    check_text(value, flag, wanted)
    if not JOB_ID_RE.fullmatch(value.strip()):
        raise InvalidArgumentValueError(f"{flag} {shown(value)} is not a job id: give {wanted}.")
    return value.strip().lower()


# ---- URLs ---------------------------------------------------------------------------------------------------


def _is_ip_or_localhost(host):
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def split_https_url(value, flag, example):
    """urlsplit of an https URL whose host is a DNS name or an IP, without user info; raises naming `flag`."""
    wanted = f"an https URL, e.g. {example}"
    check_text(value, flag, wanted)
    text = value.strip()
    if len(text) > MAX_URL_CHARS or any(not c.isprintable() or c.isspace() for c in text):
        raise InvalidArgumentValueError(f"{flag} {shown(value)} is not a URL: give {wanted}.")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidArgumentValueError(f"{flag} {shown(value)} is not a URL: give {wanted}.") from None
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise InvalidArgumentValueError(
            f"{flag} must be {wanted}: the service is reached over HTTPS only and a token is never sent over "
            "plain HTTP."
        )
    host = parts.hostname.lower()
    dns_name = all(DNS_LABEL_RE.fullmatch(label) for label in host.rstrip(".").split("."))
    if "@" in parts.netloc:  # user info may be a password: never echoed
        raise InvalidArgumentValueError(f"{flag} must not carry a user name or password: give {wanted}.")
    if not (dns_name or _is_ip_or_localhost(host)) or port == 0:
        raise InvalidArgumentValueError(f"{flag} {shown(value)} has no valid host name: give {wanted}.")
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")  # "host:" has no port
    return parts._replace(netloc=netloc)


# ---- HSM ----------------------------------------------------------------------------------------------------


def check_hsm_name(name, flag="--hsm-name"):
    wanted = "3-24 letters, digits and single hyphens, starting with a letter and ending with a letter or digit"
    check_text(name, flag, f"the name of the Managed HSM: {wanted}")
    if not HSM_NAME_RE.fullmatch(name):
        raise InvalidArgumentValueError(f"{flag} {shown(name)} is not a valid Managed HSM name.", f"Use {wanted}.")
    return name


def hsm_url_from_name(name, mhsm_dns_suffix, flag="--hsm-name"):
    check_hsm_name(name, flag)
    if not mhsm_dns_suffix:
        raise InvalidArgumentValueError(
            f"{flag} cannot be turned into a URL: the current cloud defines no Managed HSM DNS suffix; "
            "pass the HSM URL with --id instead.",
        )
    return f"https://{name.lower()}{mhsm_dns_suffix}"


def parse_resource_id(value, flag):
    """(subscription, resource group, 'namespace/type' lower-cased, name) of an ARM resource ID.

    Exact: /subscriptions/{s}/resourceGroups/{rg}/providers/{namespace}/{type}/{name}, the fixed segments in any
    case. A resource group named like a type, or a child resource, cannot pass for something else.
    """
    wanted = f"a resource ID {HSM_RESOURCE_ID_FORM}, or the HSM URL, e.g. https://myhsm.managedhsm.azure.net"
    check_text(value, flag, wanted)
    text = value.strip()
    parts = text[1:].rstrip("/").split("/") if text.startswith("/") else []
    shaped = (
        len(parts) == 8
        and [parts[0].lower(), parts[2].lower(), parts[4].lower()] == ["subscriptions", "resourcegroups", "providers"]
        and SUBSCRIPTION_RE.fullmatch(parts[1])
        and RESOURCE_GROUP_RE.fullmatch(parts[3])
        and PROVIDER_RE.fullmatch(parts[5])
        and RESOURCE_TYPE_RE.fullmatch(parts[6])
        and parts[7]
    )
    if not shaped:
        raise InvalidArgumentValueError(f"{flag} {shown(value)} is not a resource ID of a Managed HSM: give {wanted}.")
    return parts[1], parts[3], f"{parts[5]}/{parts[6]}".lower(), parts[7]


def hsm_url_from_resource_id(value, mhsm_dns_suffix, flag="--id"):
    _, _, kind, name = parse_resource_id(value, flag)
    if kind != MANAGED_HSM_RESOURCE_TYPE:
        raise InvalidArgumentValueError(
            f"{flag} is the resource ID of a {shown(kind)}, not of a Managed HSM (Microsoft.KeyVault/managedHSMs).",
            "For a key vault use `az keyvault backup`; for an HSM give its resource ID or URL.",
        )
    return hsm_url_from_name(name, mhsm_dns_suffix, flag=f"{flag} (its HSM name)")


def hsm_url_from_url(value, flag="--id"):
    """The HSM URL: scheme and host (and port) are kept, any path is dropped."""
    parts = split_https_url(value, flag, "https://myhsm.managedhsm.azure.net")
    return f"https://{parts.netloc.lower()}"


def hsm_url_from_id(value, mhsm_dns_suffix, flag="--id"):
    """--id takes the HSM URL (scheme and host are kept) or the HSM's ARM resource ID."""
    check_text(value, flag, "the HSM URL, e.g. https://myhsm.managedhsm.azure.net, or its resource ID")
    if value.strip().startswith("/"):
        return hsm_url_from_resource_id(value, mhsm_dns_suffix, flag)
    return hsm_url_from_url(value, flag)


def _lower_keys(value):
    return {str(k).lower(): v for k, v in value.items()} if isinstance(value, dict) else {}


def _object_kinds(fields, original, flag):
    """Every resource type an HSM object states: `type`, or the type inside its resource IDs."""
    kinds = []
    for value in (fields.get("type"), fields.get("resourcetype"), original.get("type")):
        if value is not None:
            kinds.append(str(value).lower())
    for key, value in (("id", fields.get("id")), ("ResourceId", fields.get("resourceid")), ("id", original.get("id"))):
        if value is not None:
            kinds.append(parse_resource_id(value, f"{flag} {key}")[2])
    return kinds


def _one_of(values, flag, what):
    """The one non-empty text among several fields that must agree (PowerShell repeats Name as VaultName)."""
    found = []
    for value in values:
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise InvalidArgumentValueError(f"{flag} has a {what} that is not text ({type(value).__name__}).")
        if value.strip().lower() not in (f.strip().lower() for f in found):
            found.append(value)
    if len(found) > 1:
        raise InvalidArgumentValueError(f"{flag} names two different {what}s: {shown(found[0])} and {shown(found[1])}.")
    return found[0] if found else None


def hsm_url_from_object(text, mhsm_dns_suffix, flag="--hsm-object"):
    """--hsm-object takes the JSON of `az keyvault show --hsm-name X` or of a PowerShell PSManagedHsm.

    PowerShell (`Get-AzKeyVaultManagedHsm | ConvertTo-Json`) writes Name, VaultName, HsmUri and ResourceId at the
    top, no type, and the ARM resource under OriginalManagedHsm (with its own Type and Properties.HsmUri).
    """
    hint = "Pass the output of `az keyvault show --hsm-name NAME` (or Get-AzKeyVaultManagedHsm | ConvertTo-Json)"
    if isinstance(text, str):
        check_text(text, flag, "the JSON of the HSM, inline or as @file.json")
        if len(text) > MAX_HSM_OBJECT_CHARS:
            raise InvalidArgumentValueError(
                f"{flag} is {len(text)} characters long, too large for an HSM object.", hint
            )
        try:
            obj = json.loads(text)
        except ValueError as ex:
            where = f" ({ex.msg} at line {ex.lineno} column {ex.colno})" if isinstance(ex, json.JSONDecodeError) else ""
            raise InvalidArgumentValueError(
                f"{flag} is not valid JSON{where}.", f"{hint}, inline or as @file.json."
            ) from None
        except RecursionError:
            raise InvalidArgumentValueError(f"{flag} is JSON nested too deeply for an HSM object.", hint) from None
    else:
        obj = text
    if isinstance(obj, list) and len(obj) == 1:
        obj = obj[0]
    if not isinstance(obj, dict):
        raise InvalidArgumentValueError(
            f"{flag} must be one JSON object, as printed by `az keyvault show --hsm-name NAME`."
        )
    fields = _lower_keys(obj)
    original = _lower_keys(fields.get("originalmanagedhsm"))
    kinds = _object_kinds(fields, original, flag)
    wrong = [k for k in kinds if k != MANAGED_HSM_RESOURCE_TYPE]
    if not kinds or wrong:
        what = f"a {shown(wrong[0])}" if wrong else "an object without a type or resource ID"
        raise InvalidArgumentValueError(
            f"{flag} is {what}, not a Managed HSM (Microsoft.KeyVault/managedHSMs).",
            f"{hint}; for a key vault use `az keyvault backup`.",
        )
    uri = _one_of(
        [
            _lower_keys(fields.get("properties")).get("hsmuri"),
            fields.get("hsmuri"),
            _lower_keys(original.get("properties")).get("hsmuri"),
        ],
        flag,
        "hsmUri",
    )
    if uri is not None:
        return hsm_url_from_url(uri, flag=f"{flag} hsmUri")
    name = _one_of([fields.get("name"), fields.get("vaultname"), original.get("name")], flag, "name")
    if name is None:
        raise InvalidArgumentValueError(f"{flag} has neither an hsmUri nor a name.", f"{hint}.")
    return hsm_url_from_name(name, mhsm_dns_suffix, flag=f"{flag} name")


def hsm_name_from_url(url):
    host = urlsplit(url).hostname or ""
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        return host.split(".")[0]


def resolve_hsm_url(hsm_name, hsm_object, hsm_id, mhsm_dns_suffix):
    given = _given(**{"--hsm-name": hsm_name, "--hsm-object": hsm_object, "--id": hsm_id})
    if not given:
        raise RequiredArgumentMissingError(f"No HSM given: specify it with {HSM_FLAGS}.")
    if len(given) > 1:
        raise MutuallyExclusiveArgumentError(
            f"{' and '.join(given)} cannot be used together: specify the HSM once, with {HSM_FLAGS}."
        )
    if hsm_name is not None:
        return hsm_url_from_name(hsm_name, mhsm_dns_suffix)
    if hsm_object is not None:
        return hsm_url_from_object(hsm_object, mhsm_dns_suffix)
    return hsm_url_from_id(hsm_id, mhsm_dns_suffix)


# ---- Storage ------------------------------------------------------------------------------------------------


def check_container_name(name, flag="--storage-container-name"):
    wanted = "3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit"
    check_text(name, flag, f"the name of the blob container: {wanted}")
    if not CONTAINER_NAME_RE.fullmatch(name):
        raise InvalidArgumentValueError(f"{flag} {shown(name)} is not a valid blob container name.", f"Use {wanted}.")
    return name


def check_account_name(name, flag="--storage-account-name"):
    check_text(name, flag, "the name of the storage account: 3-24 lowercase letters and digits")
    if not ACCOUNT_NAME_RE.fullmatch(name):
        raise InvalidArgumentValueError(
            f"{flag} {shown(name)} is not a valid storage account name.",
            "Use 3-24 lowercase letters and digits.",
        )
    return name


def container_uri_from_names(account, container, storage_endpoint_suffix):
    check_account_name(account)
    check_container_name(container)
    if not storage_endpoint_suffix:
        raise InvalidArgumentValueError(
            "--storage-account-name cannot be turned into a URL: the current cloud defines no storage suffix; "
            "pass the container URL with --storage-container-uri instead.",
        )
    return f"https://{account}.blob.{storage_endpoint_suffix}/{container}"


def check_container_uri(uri, flag="--storage-container-uri"):
    """An https blob container URL: https://ACCOUNT.blob.SUFFIX/CONTAINER (or path-style on an IP emulator)."""
    example = "e.g. https://myaccount.blob.core.windows.net/backups"
    parts = split_https_url(uri, flag, "https://myaccount.blob.core.windows.net/backups")
    if "sig=" in parts.query.lower():
        raise InvalidArgumentValueError(
            f"{flag} carries its own SAS query string.",
            "Pass the container URL without '?...' and the token with --sas-token (e.g. --sas-token @token.txt).",
        )
    if parts.query or parts.fragment:
        raise InvalidArgumentValueError(f"{flag} must not have a query string or fragment, {example}.")
    host = parts.hostname.lower()
    segments = [s for s in parts.path.split("/") if s]
    prefix = []
    if _is_ip_or_localhost(host):  # path-style: /ACCOUNT/CONTAINER (storage emulators, IP endpoints)
        prefix, segments = segments[:1], segments[1:]
        if prefix:
            check_account_name(prefix[0], flag=f"{flag} account")
    elif "blob" not in host.split(".")[1:]:
        raise InvalidArgumentValueError(f"{flag} must point at a blob endpoint (ACCOUNT.blob.SUFFIX), {example}.")
    if not segments:
        raise InvalidArgumentValueError(f"{flag} names no container, {example}.")
    container_url = f"https://{parts.netloc.lower()}/" + "/".join(prefix + segments[:1])
    if len(segments) > 1:
        named = CONTAINER_NAME_RE.fullmatch(segments[0])  # only a checked name goes into the suggestion
        raise InvalidArgumentValueError(
            f"{flag} must name a container, not a folder inside it: the service names the backup folder itself.",
            f"Use {container_url}" if named else f"Use the container's URL, {example}.",
        )
    check_container_name(segments[0], flag=f"{flag} container")
    return container_url


def resolve_container_uri(account, container, container_uri, storage_endpoint_suffix):
    if container_uri is not None and (account is not None or container is not None):
        names = " and ".join(_given(**{"--storage-account-name": account, "--storage-container-name": container}))
        raise MutuallyExclusiveArgumentError(
            f"--storage-container-uri cannot be combined with {names}: "
            "give the container either as a URI or as account and container names."
        )
    if container_uri is not None:
        return check_container_uri(container_uri)
    if account is not None and container is None:
        raise RequiredArgumentMissingError(
            "--storage-account-name needs --storage-container-name (or --blob-container-name) too."
        )
    if container is not None and account is None:
        raise RequiredArgumentMissingError("--storage-container-name needs --storage-account-name too.")
    if account is None:
        raise RequiredArgumentMissingError(f"No blob container given: specify it with {STORAGE_FLAGS}.")
    return container_uri_from_names(account, container, storage_endpoint_suffix)


# ---- Storage authentication -----------------------------------------------------------------------------------

SAS_MODE, MI_MODE, MINT_MODE = "sas", "managedIdentity", "mintedSas"


def resolve_storage_auth(sas_token, use_managed_identity, mint_sas, container_uri, needed_permissions, hsm_side=True):
    """Return (mode, token, warnings).

    hsm_side: the HSM itself reaches storage (backup, restore, checks), so its managed identity is an option and one
    option is required. Otherwise (list, delete, prune) az reaches storage, as the signed-in identity by default.
    Warnings about the SAS's lifetime matter only where the HSM runs a job with it, so only hsm_side gives them.
    """
    use_managed_identity = three_state(use_managed_identity, "--use-user-managed-identity")
    given = _given(
        **{"--sas-token": sas_token, "--use-user-managed-identity": use_managed_identity, "--mint-sas": mint_sas}
    )
    if len(given) > 1:
        raise MutuallyExclusiveArgumentError(
            f"{' and '.join(given)} cannot be used together: storage is reached with a SAS token "
            "or with the HSM's user-assigned managed identity."
        )
    if use_managed_identity:
        if not hsm_side:
            raise InvalidArgumentValueError(
                "--use-user-managed-identity is the HSM's identity and this command runs as you: "
                "pass --sas-token, or leave it out to use your signed-in identity."
            )
        return MI_MODE, None, []
    if mint_sas or (sas_token is None and not hsm_side):
        return MINT_MODE, None, []
    if sas_token is None:
        raise RequiredArgumentMissingError(
            "No storage access given: pass --sas-token (e.g. --sas-token @token.txt), "
            "--use-user-managed-identity (the HSM's own user-assigned identity), or --mint-sas "
            "(a short-lived SAS minted from your signed-in identity)."
        )
    token = sas.normalize_sas(sas_token, container_uri)
    warnings = sas.check_sas(token, needed_permissions)
    return SAS_MODE, token, warnings if hsm_side else []


# ---- Backup folders -------------------------------------------------------------------------------------------


def split_folder_url(url, flag="--folder-url"):
    """https://ACCOUNT.blob.SUFFIX/CONTAINER/FOLDER (what create prints) -> (container URI, folder)."""
    parts = split_https_url(url, flag, "https://myaccount.blob.core.windows.net/backups/mhsm-myhsm-2026112812000000")
    segments = [s for s in parts.path.split("/") if s]
    keep = 2 if _is_ip_or_localhost((parts.hostname or "").lower()) else 1
    if parts.scheme.lower() != "https" or len(segments) < keep + 1:
        raise InvalidArgumentValueError(
            f"{flag} must be the folderUrl that create printed, "
            "e.g. https://myaccount.blob.core.windows.net/backups/mhsm-myhsm-2026112812000000."
        )
    container = f"{parts.scheme}://{parts.netloc}/" + "/".join(segments[:keep])
    container_uri = check_container_uri(container, flag=flag)
    if "sig=" in parts.query.lower():
        raise InvalidArgumentValueError(
            f"{flag} carries its own SAS query string: pass the URL without '?...' and the token with --sas-token."
        )
    return container_uri, check_folder_name("/".join(segments[keep:]), flag=flag)


def check_folder_name(name, flag="--backup-folder"):
    """A backup folder is one top-level name of the service's form: never a path, a prefix or another folder."""
    from azext_hsmbackup.storage import parse_folder_name

    if parse_folder_name(name) is None:
        raise InvalidArgumentValueError(
            f"{flag} {shown(name)} is not a backup folder: give the folderName that create printed, "
            "mhsm-<hsm name>-<yyyyMMddHHmmssff> at the top of the container, e.g. mhsm-myhsm-2026112812000000."
        )
    return name


def resolve_folder(folder_url, backup_folder, account, container, container_uri, storage_endpoint_suffix):
    """One folder form: --folder-url (or a URL in --backup-folder), or --backup-folder NAME with the storage flags."""
    if backup_folder and backup_folder.lower().startswith(("https://", "http://")):
        folder_url, backup_folder = backup_folder, None
        flag = "--backup-folder"
    else:
        flag = "--folder-url"
    if folder_url and backup_folder:
        raise MutuallyExclusiveArgumentError(
            "--folder-url and --backup-folder cannot be used together: give the folder URL, "
            "or the folder name with the container."
        )
    if folder_url:
        storage = _given(
            **{
                "--storage-account-name": account,
                "--storage-container-name": container,
                "--storage-container-uri": container_uri,
            }
        )
        if storage:
            raise MutuallyExclusiveArgumentError(
                f"{flag} already names the container: leave out {' and '.join(storage)}."
            )
        return split_folder_url(folder_url, flag)
    if not backup_folder:
        raise RequiredArgumentMissingError(
            "No backup folder given: pass --folder-url (the folderUrl create printed), "
            "or --backup-folder with the container."
        )
    uri = resolve_container_uri(account, container, container_uri, storage_endpoint_suffix)
    return uri, check_folder_name(backup_folder)


# ---- Whole targets, one per command family --------------------------------------------------------------------


def resolve_target(*, hsm_name=None, hsm_object=None, hsm_id=None, mhsm_dns_suffix=None, **storage_flags):
    """create, check backup: one HSM form, one storage form, one storage auth mode. Returns (Target, warnings).

    `storage_flags` are resolve_backup_storage's (container, storage auth, suffix, permissions)."""
    hsm_url = resolve_hsm_url(hsm_name, hsm_object, hsm_id, mhsm_dns_suffix)
    storage, warnings = resolve_backup_storage(**storage_flags)
    return replace(storage, hsm_url=hsm_url, hsm_name=hsm_name_from_url(hsm_url)), warnings


def resolve_backup_storage(
    *,
    storage_account_name=None,
    storage_container_name=None,
    storage_container_uri=None,
    sas_token=None,
    use_managed_identity=None,
    mint_sas=None,
    storage_endpoint_suffix=None,
    needed_permissions=BACKUP_SAS_PERMISSIONS,
):
    """Where backups go and how the HSM reaches it, for one HSM or many: a Target without an HSM, and warnings."""
    container_uri = resolve_container_uri(
        storage_account_name, storage_container_name, storage_container_uri, storage_endpoint_suffix
    )
    mode, token, warnings = resolve_storage_auth(
        sas_token, use_managed_identity, mint_sas, container_uri, needed_permissions
    )
    return Target(None, None, container_uri, mode, token), warnings


def resolve_restore_target(
    *,
    hsm_name=None,
    hsm_object=None,
    hsm_id=None,
    folder_url=None,
    backup_folder=None,
    storage_account_name=None,
    storage_container_name=None,
    storage_container_uri=None,
    sas_token=None,
    use_managed_identity=None,
    mint_sas=None,
    mhsm_dns_suffix=None,
    storage_endpoint_suffix=None,
    needed_permissions=RESTORE_SAS_PERMISSIONS,
):
    """restore, check restore: one HSM form, one folder form, one storage auth mode."""
    hsm_url = resolve_hsm_url(hsm_name, hsm_object, hsm_id, mhsm_dns_suffix)
    container_uri, folder = resolve_folder(
        folder_url,
        backup_folder,
        storage_account_name,
        storage_container_name,
        storage_container_uri,
        storage_endpoint_suffix,
    )
    mode, token, warnings = resolve_storage_auth(
        sas_token, use_managed_identity, mint_sas, container_uri, needed_permissions
    )
    return Target(hsm_url, hsm_name_from_url(hsm_url), container_uri, mode, token, folder), warnings


def resolve_storage_target(
    *,
    storage_account_name=None,
    storage_container_name=None,
    storage_container_uri=None,
    sas_token=None,
    use_managed_identity=None,
    storage_endpoint_suffix=None,
    needed_permissions="l",
    backup_folder=None,
    mhsm_dns_suffix=None,  # unused (no HSM here): every resolver is given both suffixes
):
    """list, delete, prune: the container (and a folder name for delete), reached as the CLI user.

    delete and prune also let each HSM read its folders for its pre-restore check: with the SAS given (so it needs
    'r' and 'l' besides 'd'), a SAS minted for it, or --use-user-managed-identity, its own identity."""
    container_uri = resolve_container_uri(
        storage_account_name, storage_container_name, storage_container_uri, storage_endpoint_suffix
    )
    if three_state(use_managed_identity, "--use-user-managed-identity"):
        if sas_token is not None:
            raise MutuallyExclusiveArgumentError(
                "--sas-token and --use-user-managed-identity cannot be used together: with the HSMs' own identities "
                "for their checks, you reach storage as your signed-in identity; leave --sas-token out."
            )
        mode, token, warnings = MI_MODE, None, []
    else:
        mode, token, warnings = resolve_storage_auth(sas_token, None, None, container_uri, needed_permissions, False)
    folder = check_folder_name(backup_folder) if backup_folder is not None else None
    return Target(None, None, container_uri, mode, token, folder), warnings


# ---- The command-level validators -----------------------------------------------------------------------------


def cloud_suffix(cloud, attr):
    """A cloud suffix, or None when the cloud does not define it (azure-cli-core raises for an unset one)."""
    from azure.cli.core.cloud import CloudSuffixNotSetException

    try:
        return getattr(cloud.suffixes, attr)
    except CloudSuffixNotSetException:
        return None


def read_sas_token(value):
    """The secret-safe inputs: `--sas-token` alone prompts without echo; `--sas-token -` reads stdin.

    (`--sas-token @file` is expanded by az itself before we see it.)
    """
    if value == PROMPT_FOR_SAS:
        from knack.prompting import NoTTYException, prompt_pass

        try:
            return prompt_pass("SAS token: ")
        except NoTTYException:
            raise RequiredArgumentMissingError(
                "--sas-token was given without a value and there is no terminal to ask for it: "
                "pass it as --sas-token @file, or pipe it in with --sas-token -."
            ) from None
    if value == STDIN_SAS:
        import sys

        line = sys.stdin.readline().strip()
        if not line:
            raise InvalidArgumentValueError(
                "--sas-token - read an empty line from stdin: pipe the token in, e.g. "
                "`cat token.txt | az hsm-backup ... --sas-token -`, or use --sas-token @token.txt."
            )
        return line
    return value


def read_stdin_flags(namespace):
    """`--hsm-object -` and `--jobs -` read their JSON from stdin (`@file` is expanded by az itself)."""
    import sys

    readers = [name for name in ("hsm_object", "jobs", "sas_token") if getattr(namespace, name, None) == STDIN_SAS]
    flags = {"hsm_object": "--hsm-object -", "jobs": "--jobs -", "sas_token": "--sas-token -"}
    if len(readers) > 1:
        raise MutuallyExclusiveArgumentError(
            f"{' and '.join(flags[name] for name in readers)} both read stdin: pass all but one of them as @file."
        )
    if readers and readers[0] != "sas_token":
        text = sys.stdin.read(MAX_HSM_OBJECT_CHARS + 1)
        if not text.strip():
            raise InvalidArgumentValueError(
                f"{flags[readers[0]]} read nothing from stdin: pipe the JSON in, e.g. "
                "`az keyvault list --resource-type hsm | az hsm-backup create --hsm-object - ...`."
            )
        setattr(namespace, readers[0], text)


# Bounds the wait arithmetic and the service can live with: polls no faster than 10 a second and at least hourly,
# and a wait of at most a week.
POLLING_INTERVAL_RANGE = (0.1, 3600)
TIMEOUT_RANGE = (1, 7 * 24 * 3600)
# Jobs of different HSMs at once: each is a thread and a connection in this process, and a poll every 0.5 s.
MAX_PARALLEL_RANGE = (1, 64)


def check_options(namespace):
    """The flags outside the parameter sets, checked and normalised in place on az's namespace."""
    if getattr(namespace, "api_version", None) is not None:
        namespace.api_version = check_api_version(namespace.api_version)
    if getattr(namespace, "polling_interval", None) is not None:
        low, high = POLLING_INTERVAL_RANGE
        namespace.polling_interval = bounded_number(
            namespace.polling_interval, "--polling-interval", low, high, example=5
        )
    if getattr(namespace, "timeout", None) is not None:
        low, high = TIMEOUT_RANGE
        namespace.timeout = bounded_number(namespace.timeout, "--timeout", low, high, example=600)
    if getattr(namespace, "use_managed_identity", None) is not None:
        namespace.use_managed_identity = three_state(namespace.use_managed_identity, "--use-user-managed-identity")
    if getattr(namespace, "max_parallel", None) is not None:
        low, high = MAX_PARALLEL_RANGE
        namespace.max_parallel = bounded_number(
            namespace.max_parallel, "--max-parallel", low, high, kind=int, unit="jobs at once", example=5
        )
    job_id = getattr(namespace, "job_id", None)
    if isinstance(job_id, list) and len(job_id) == 1:  # wait takes one --job-id per HSM
        job_id = job_id[0]
    if isinstance(job_id, list):
        namespace.job_id = [check_job_id(value) for value in job_id]
    elif job_id is not None:
        namespace.job_id = check_job_id(job_id)


def _pick(namespace, *names):
    return {name: getattr(namespace, name, None) for name in names}


HSM_ARGS = ("hsm_name", "hsm_object", "hsm_id")
STORAGE_ARGS = ("storage_account_name", "storage_container_name", "storage_container_uri")


def _suffixes(cmd):
    """Both cloud suffixes (None when the cloud has none); resource IDs and names both need them."""
    cloud = cmd.cli_ctx.cloud
    return {
        "mhsm_dns_suffix": cloud_suffix(cloud, "mhsm_dns"),
        "storage_endpoint_suffix": cloud_suffix(cloud, "storage_endpoint"),
    }


def _validator(resolve, *arg_names, reads=(), **fixed):
    """A command-level validator: resolve the parameter set before any network call; bad input exits 2.

    `arg_names` are the parameter-set flags (registered with c.extra): resolved into namespace.target, then removed
    from the namespace, since the command function does not take them. `reads` are passed to `resolve` and stay.
    """

    def validate(cmd, namespace):
        from azure.cli.core.azclierror import AzCLIError
        from knack.log import get_logger

        from azext_hsmbackup.errors import EXIT_BAD_INPUT, ExitWith

        try:
            check_options(namespace)
            read_stdin_flags(namespace)
            if hasattr(namespace, "sas_token"):
                namespace.sas_token = read_sas_token(namespace.sas_token)
            target, warnings = resolve(**_pick(namespace, *arg_names, *reads), **_suffixes(cmd), **fixed)
        except AzCLIError as error:
            raise ExitWith(error, EXIT_BAD_INPUT) from None
        for warning in warnings:
            get_logger(__name__).warning(warning)
        for name in arg_names:
            if hasattr(namespace, name):
                delattr(namespace, name)
        namespace.target = target

    return validate


AUTH_ARGS = ("sas_token", "use_managed_identity", "mint_sas")
FLEET_ARGS = ("hsm_ids", "all_hsms", "resource_group")
MANY_HSMS = "--ids, --all, or a JSON array in --hsm-object"


def _one_hsm_form(hsm_name, hsm_object, hsm_id, hsm_ids, all_hsms):
    given = _given(**{"--hsm-name": hsm_name, "--hsm-object": hsm_object, "--id": hsm_id, "--ids": hsm_ids})
    given += ["--all"] if all_hsms else []
    if len(given) > 1:
        raise MutuallyExclusiveArgumentError(
            f"{' and '.join(given)} cannot be used together: name the HSMs once, with {HSM_FLAGS}, --ids or --all."
        )


def resolve_create_target(
    *, hsm_ids=None, all_hsms=None, resource_group=None, max_parallel=None, mhsm_dns_suffix=None, **one
):
    """create: one HSM (resolve_target), or several (--ids, --all, a JSON array in --hsm-object): a fleet.Fleet."""
    from azext_hsmbackup import fleet

    _one_hsm_form(one.get("hsm_name"), one.get("hsm_object"), one.get("hsm_id"), hsm_ids, all_hsms)
    if resource_group is not None and not all_hsms:
        raise RequiredArgumentMissingError(
            "--resource-group narrows --all: add --all to back up every HSM of the group, or leave -g out."
        )
    if hsm_ids is None and not all_hsms and not fleet.is_json_array(one.get("hsm_object")):
        if max_parallel is not None:
            raise InvalidArgumentValueError(
                f"--max-parallel is for several HSMs ({MANY_HSMS}); leave it out for one HSM."
            )
        return resolve_target(mhsm_dns_suffix=mhsm_dns_suffix, **one)
    hsm_object = one.pop("hsm_object", None)
    for single in ("hsm_name", "hsm_id"):  # not given (_one_hsm_form): only the storage flags are left
        one.pop(single, None)
    storage, warnings = resolve_backup_storage(**one)
    use_mi = storage.storage_auth == MI_MODE
    members = ()
    if hsm_object is not None:
        members = fleet.members_from_array(hsm_object, mhsm_dns_suffix, use_mi)
    elif hsm_ids is not None:
        members = fleet.members_from_ids(hsm_ids, mhsm_dns_suffix)
    group = fleet.check_resource_group(resource_group)
    return fleet.Fleet(fleet.distinct(members), bool(all_hsms), group, storage), warnings


validate_create = _validator(
    resolve_create_target, *HSM_ARGS, *FLEET_ARGS, *STORAGE_ARGS, *AUTH_ARGS, reads=("max_parallel",)
)
validate_check_backup = _validator(resolve_target, *HSM_ARGS, *STORAGE_ARGS, *AUTH_ARGS)
validate_restore = _validator(
    resolve_restore_target, *HSM_ARGS, "folder_url", "backup_folder", *STORAGE_ARGS, *AUTH_ARGS
)
validate_list = _validator(resolve_storage_target, *STORAGE_ARGS, "sas_token", needed_permissions="l")
# delete and prune list (l) and delete (d); the HSM's pre-restore check reads the folders with the same SAS (r, l).
validate_delete = _validator(
    resolve_storage_target,
    *STORAGE_ARGS,
    "sas_token",
    "use_managed_identity",
    "backup_folder",
    needed_permissions=RETENTION_SAS_PERMISSIONS,
)
validate_prune = _validator(
    resolve_storage_target,
    *STORAGE_ARGS,
    "sas_token",
    "use_managed_identity",
    needed_permissions=RETENTION_SAS_PERMISSIONS,
)


def resolve_job(*, hsm_name=None, hsm_object=None, hsm_id=None, job_id=None, mhsm_dns_suffix=None, **_):
    hsm_url = resolve_hsm_url(hsm_name, hsm_object, hsm_id, mhsm_dns_suffix)
    check_job_id(job_id)
    return Target(hsm_url, hsm_name_from_url(hsm_url), None, None), []


validate_show = _validator(resolve_job, *HSM_ARGS, reads=("job_id",))


def resolve_wait(*, hsm_ids=None, jobs=None, job_id=None, mhsm_dns_suffix=None, **one):
    """wait: one job (resolve_job), or one per HSM: --ids with a --job-id each, or --jobs (create --no-wait's array)."""
    from azext_hsmbackup import fleet

    given = _given(
        **{"--hsm-name": one.get("hsm_name"), "--hsm-object": one.get("hsm_object"), "--id": one.get("hsm_id")}
    )
    given += _given(**{"--ids": hsm_ids, "--jobs": jobs})
    if len(given) > 1:
        raise MutuallyExclusiveArgumentError(
            f"{' and '.join(given)} cannot be used together: give one HSM with its --job-id, --ids with one "
            "--job-id per HSM, or --jobs."
        )
    if jobs is not None:
        if job_id is not None:
            raise MutuallyExclusiveArgumentError("--jobs names every job already: leave --job-id out.")
        return fleet.Fleet(fleet.members_from_jobs(jobs)), []
    if hsm_ids is None:
        if isinstance(job_id, list):
            raise InvalidArgumentValueError(
                f"--job-id was given {len(job_id)} times for one HSM: give one job id, or several HSMs with --ids."
            )
        return resolve_job(job_id=job_id, mhsm_dns_suffix=mhsm_dns_suffix, **one)
    members = fleet.members_from_ids(hsm_ids, mhsm_dns_suffix)
    job_ids = job_id if isinstance(job_id, list) else [check_job_id(job_id)]
    if len(job_ids) != len(members):
        raise InvalidArgumentValueError(
            f"--ids names {len(members)} HSM(s) and --job-id {len(job_ids)} job(s): give one --job-id per HSM, in "
            "the same order, e.g. --ids URL1 URL2 --job-id ID1 ID2."
        )
    return fleet.Fleet(fleet.distinct(m.with_job(j) for m, j in zip(members, job_ids))), []


validate_job = validate_show
validate_wait = _validator(resolve_wait, *HSM_ARGS, "hsm_ids", "jobs", reads=("job_id",))


# ---- Destructive commands: retention rules, key names, the HSM filter ------------------------------------------
# (The folder checks are check_folder_name and split_folder_url above.) Each check is pure and runs before the
# parameter set is resolved, so a bad value exits 2 before a SAS prompt and before any network call.

KEEP_MAX = 10000
OLDER_THAN_MAX_DAYS = 36500  # 100 years: far inside what date arithmetic can take
KEY_NAME_RE = re.compile(r"[0-9a-zA-Z-]{1,127}")  # what Key Vault and Managed HSM accept as a key name


def check_key_name(value):
    if value is None:
        return None
    if not isinstance(value, str) or not KEY_NAME_RE.fullmatch(value):
        what = "is empty" if not str(value).strip() else "is not a key name"
        raise InvalidArgumentValueError(
            f"--key-name {shown(value)} {what}: a key name has 1-127 letters, digits and hyphens.",
            "Give the name of the one key to restore, or leave --key-name out for a full restore.",
        )
    return value


def check_keep(value):
    """--keep as az hands it over (text), or a number: a whole number of backups from 1 to KEEP_MAX."""
    if value is None:
        return None
    return bounded_number(value, "--keep", 1, KEEP_MAX, kind=int, unit="newest backups of each HSM", example=7)


def check_older_than(value):
    """--older-than as az hands it over (text), or a number: days above 0, at most OLDER_THAN_MAX_DAYS."""
    if value is None:
        return None
    try:
        days = bounded_number(value, "--older-than", 0, OLDER_THAN_MAX_DAYS, unit="days")
    except InvalidArgumentValueError:
        days = 0
    if days == 0:  # zero ("older than now") is refused too: say what was meant instead of guessing
        raise InvalidArgumentValueError(
            f"--older-than {shown(value)} is not a number of days above 0 and at most {OLDER_THAN_MAX_DAYS}: "
            "give one, e.g. --older-than 30."
        )
    return days


def check_hsm_filter(value):
    if value is not None and not (isinstance(value, str) and HSM_NAME_RE.fullmatch(value)):
        raise InvalidArgumentValueError(
            f"--hsm-name {shown(value)} is not a valid Managed HSM name: use 3-24 letters, digits and single "
            "hyphens, starting with a letter and ending with a letter or digit; leave it out for every HSM."
        )
    return value


def _check_list(namespace):
    check_hsm_filter(getattr(namespace, "hsm_filter", None))


def _check_prune(namespace):
    _check_list(namespace)
    namespace.keep, namespace.older_than = check_keep(namespace.keep), check_older_than(namespace.older_than)
    if namespace.keep is None and namespace.older_than is None:
        raise RequiredArgumentMissingError(
            "Say what to prune: --keep N (the N newest of each HSM stay) and/or --older-than DAYS."
        )


def _check_restore(namespace):
    check_key_name(getattr(namespace, "key_name", None))


def _checked_first(check, validate):
    """`validate`, after `check` (pure, on the raw flags) has passed; a failed check exits 2."""

    def validate_checked(cmd, namespace):
        from azure.cli.core.azclierror import AzCLIError

        from azext_hsmbackup.errors import EXIT_BAD_INPUT, ExitWith

        try:
            check(namespace)
        except AzCLIError as error:
            raise ExitWith(error, EXIT_BAD_INPUT) from None
        validate(cmd, namespace)

    return validate_checked


validate_list = _checked_first(_check_list, validate_list)
validate_prune = _checked_first(_check_prune, validate_prune)
validate_restore = _checked_first(_check_restore, validate_restore)
