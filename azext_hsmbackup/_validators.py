"""Resolving the parameter sets of Backup-AzKeyVault, in az words.

`resolve_target` is pure (plain values in, a `Target` or one az error out) so the whole parameter-set table is
unit-tested without a CLI. `validate_create` is the thin command-level adapter: it reads the cloud suffixes and,
when asked, the SAS token from a hidden prompt or stdin.
"""

import ipaddress
import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from azure.cli.core.azclierror import (
    InvalidArgumentValueError,
    MutuallyExclusiveArgumentError,
    RequiredArgumentMissingError,
)

from azext_hsmbackup import sas
from azext_hsmbackup._constants import BACKUP_SAS_PERMISSIONS, MANAGED_HSM_RESOURCE_TYPE

# `--sas-token` given without a value: ask for it without echo.
PROMPT_FOR_SAS = "\0prompt"
STDIN_SAS = "-"

HSM_NAME_RE = re.compile(r"^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$")
ACCOUNT_NAME_RE = re.compile(r"^[a-z0-9]{3,24}$")
CONTAINER_NAME_RE = re.compile(r"^(?=.{3,63}$)[a-z0-9](?!.*--)[a-z0-9-]*[a-z0-9]$")

HSM_FLAGS = "--hsm-name, --hsm-object or --id"
STORAGE_FLAGS = "--storage-container-uri, or --storage-account-name with --storage-container-name"


@dataclass(frozen=True)
class Target:
    """Where a backup goes, resolved from any parameter set."""

    hsm_url: str
    hsm_name: str
    container_uri: str
    storage_auth: str  # "sas" or "managedIdentity"
    sas_token: str = None

    def __repr__(self):  # never show the token, even in a debugger or a log line
        return f"Target(hsm_url={self.hsm_url!r}, container_uri={self.container_uri!r}, auth={self.storage_auth!r})"


def _given(**flags):
    return [name for name, value in flags.items() if value not in (None, "", False)]


# ---- HSM ----------------------------------------------------------------------------------------------------


def check_hsm_name(name, flag="--hsm-name"):
    if not HSM_NAME_RE.match(name or ""):
        raise InvalidArgumentValueError(
            f"{flag} '{name}' is not a valid Managed HSM name.",
            "Use 3-24 letters, digits and single hyphens, starting with a letter and ending with a letter or digit.",
        )
    return name


def hsm_url_from_name(name, mhsm_dns_suffix):
    check_hsm_name(name)
    if not mhsm_dns_suffix:
        raise InvalidArgumentValueError(
            "--hsm-name cannot be turned into a URL: the current cloud defines no Managed HSM DNS suffix; "
            "pass the HSM URL with --id instead.",
        )
    return f"https://{name}{mhsm_dns_suffix}"


def hsm_url_from_id(value, mhsm_dns_suffix, flag="--id"):
    """--id takes the HSM URL (scheme and host are kept) or the HSM's ARM resource ID."""
    value = value.strip()
    if value.lower().startswith("/subscriptions/"):
        parts = value.strip("/").split("/")
        lowered = [p.lower() for p in parts]
        if "managedhsms" not in lowered or lowered.index("managedhsms") + 1 >= len(parts):
            raise InvalidArgumentValueError(
                f"{flag} is a resource ID but not of a Managed HSM (…/providers/Microsoft.KeyVault/managedHSMs/NAME).",
                "Pass the HSM URL, e.g. https://myhsm.managedhsm.azure.net, or the HSM's resource ID.",
            )
        return hsm_url_from_name(parts[lowered.index("managedhsms") + 1], mhsm_dns_suffix)
    parts = urlsplit(value)
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise InvalidArgumentValueError(
            f"{flag} must be an https URL of the HSM, e.g. https://myhsm.managedhsm.azure.net.",
            "The HSM only speaks HTTPS and a token is never sent over plain HTTP.",
        )
    return f"https://{parts.netloc.lower()}"


def hsm_url_from_object(text, mhsm_dns_suffix):
    """--hsm-object takes the JSON of `az keyvault show --hsm-name X` (or a PowerShell PSManagedHsm as JSON)."""
    try:
        obj = json.loads(text) if isinstance(text, str) else text
    except ValueError as ex:
        raise InvalidArgumentValueError(
            f"--hsm-object is not valid JSON ({ex.msg} at line {ex.lineno} column {ex.colno}).",
            "Pass the output of `az keyvault show --hsm-name NAME`, inline or as @file.json.",
        ) from None
    if isinstance(obj, list) and len(obj) == 1:
        obj = obj[0]
    if not isinstance(obj, dict):
        raise InvalidArgumentValueError(
            "--hsm-object must be one JSON object, as printed by `az keyvault show --hsm-name NAME`."
        )
    fields = {k.lower(): v for k, v in obj.items()}
    props = {k.lower(): v for k, v in (fields.get("properties") or {}).items()}
    kind = str(fields.get("type") or fields.get("resourcetype") or "").lower()
    if kind != MANAGED_HSM_RESOURCE_TYPE:
        what = f"a '{fields.get('type') or fields.get('resourcetype')}'" if kind else "an object without a type"
        raise InvalidArgumentValueError(
            f"--hsm-object is {what}, not a Managed HSM (Microsoft.KeyVault/managedHSMs).",
            "Pass the output of `az keyvault show --hsm-name NAME`; for a key vault use `az keyvault backup`.",
        )
    uri = props.get("hsmuri") or fields.get("hsmuri")
    if uri:
        return hsm_url_from_id(uri, mhsm_dns_suffix, flag="--hsm-object properties.hsmUri")
    name = fields.get("name") or fields.get("vaultname")
    if not name:
        raise InvalidArgumentValueError("--hsm-object has neither properties.hsmUri nor a name.")
    return hsm_url_from_name(name, mhsm_dns_suffix)


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
    if hsm_name:
        return hsm_url_from_name(hsm_name, mhsm_dns_suffix)
    if hsm_object:
        return hsm_url_from_object(hsm_object, mhsm_dns_suffix)
    return hsm_url_from_id(hsm_id, mhsm_dns_suffix)


# ---- Storage ------------------------------------------------------------------------------------------------


def check_container_name(name, flag="--storage-container-name"):
    if not CONTAINER_NAME_RE.match(name or ""):
        raise InvalidArgumentValueError(
            f"{flag} '{name}' is not a valid blob container name.",
            "Use 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.",
        )
    return name


def check_account_name(name, flag="--storage-account-name"):
    if not ACCOUNT_NAME_RE.match(name or ""):
        raise InvalidArgumentValueError(
            f"{flag} '{name}' is not a valid storage account name.",
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


def _is_ip_or_localhost(host):
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def check_container_uri(uri, flag="--storage-container-uri"):
    """An https blob container URL: https://ACCOUNT.blob.SUFFIX/CONTAINER (or path-style on an IP emulator)."""
    parts = urlsplit(uri.strip())
    example = "e.g. https://myaccount.blob.core.windows.net/backups"
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise InvalidArgumentValueError(f"{flag} must be an https URL of a blob container, {example}.")
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
    elif "blob" not in host.split(".")[1:]:
        raise InvalidArgumentValueError(f"{flag} must point at a blob endpoint (ACCOUNT.blob.SUFFIX), {example}.")
    if not segments:
        raise InvalidArgumentValueError(f"{flag} names no container, {example}.")
    container_url = f"https://{parts.netloc.lower()}/" + "/".join(prefix + segments[:1])
    if len(segments) > 1:
        raise InvalidArgumentValueError(
            f"{flag} must name a container, not a folder inside it: the service names the backup folder itself.",
            f"Use {container_url}",
        )
    check_container_name(segments[0], flag=f"{flag} container")
    return container_url


def resolve_container_uri(account, container, container_uri, storage_endpoint_suffix):
    if container_uri and (account or container):
        names = " and ".join(_given(**{"--storage-account-name": account, "--storage-container-name": container}))
        raise MutuallyExclusiveArgumentError(
            f"--storage-container-uri cannot be combined with {names}: "
            "give the container either as a URI or as account and container names."
        )
    if container_uri:
        return check_container_uri(container_uri)
    if account and not container:
        raise RequiredArgumentMissingError(
            "--storage-account-name needs --storage-container-name (or --blob-container-name) too."
        )
    if container and not account:
        raise RequiredArgumentMissingError("--storage-container-name needs --storage-account-name too.")
    if not account:
        raise RequiredArgumentMissingError(f"No blob container given: specify it with {STORAGE_FLAGS}.")
    return container_uri_from_names(account, container, storage_endpoint_suffix)


# ---- Storage authentication -----------------------------------------------------------------------------------


def resolve_storage_auth(sas_token, use_managed_identity, container_uri, needed_permissions):
    """Return (mode, token, warnings)."""
    if sas_token and use_managed_identity:
        raise MutuallyExclusiveArgumentError(
            "--sas-token and --use-user-managed-identity cannot be used together: the HSM reaches storage "
            "either with the SAS token or with its own user-assigned managed identity."
        )
    if use_managed_identity:
        return "managedIdentity", None, []
    if not sas_token:
        raise RequiredArgumentMissingError(
            "No storage access given: pass --sas-token (e.g. --sas-token @token.txt) or "
            "--use-user-managed-identity (the HSM's own user-assigned identity)."
        )
    token = sas.normalize_sas(sas_token, container_uri)
    return "sas", token, sas.check_sas(token, needed_permissions)


def resolve_target(
    *,
    hsm_name=None,
    hsm_object=None,
    hsm_id=None,
    storage_account_name=None,
    storage_container_name=None,
    storage_container_uri=None,
    sas_token=None,
    use_managed_identity=None,
    mhsm_dns_suffix=None,
    storage_endpoint_suffix=None,
    needed_permissions=BACKUP_SAS_PERMISSIONS,
):
    """Resolve one HSM form, one storage form and one storage auth mode. Returns (Target, warnings)."""
    hsm_url = resolve_hsm_url(hsm_name, hsm_object, hsm_id, mhsm_dns_suffix)
    container_uri = resolve_container_uri(
        storage_account_name, storage_container_name, storage_container_uri, storage_endpoint_suffix
    )
    mode, token, warnings = resolve_storage_auth(sas_token, use_managed_identity, container_uri, needed_permissions)
    target = Target(hsm_url, hsm_name_from_url(hsm_url), container_uri, mode, token)
    return target, warnings


# ---- The command-level validator ------------------------------------------------------------------------------


class _LazySuffix:
    """Read a cloud suffix only when a name needs it: an unset suffix raises in azure-cli-core."""

    def __init__(self, cloud, attr):
        self.cloud, self.attr = cloud, attr

    def get(self):
        from azure.cli.core.cloud import CloudSuffixNotSetException

        try:
            return getattr(self.cloud.suffixes, self.attr)
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
                "--sas-token was given without a value and there is no terminal to ask for it.",
                "Pass it as --sas-token @file, or pipe it in with --sas-token -.",
            ) from None
    if value == STDIN_SAS:
        import sys

        return sys.stdin.readline().strip()
    return value


def validate_create(cmd, namespace):
    """Resolve the parameter set before any network call; bad input leaves with exit code 2."""
    from azure.cli.core.azclierror import AzCLIError

    from azext_hsmbackup.errors import EXIT_BAD_INPUT, ExitWith

    try:
        _validate_create(cmd, namespace)
    except AzCLIError as error:
        raise ExitWith(error, EXIT_BAD_INPUT) from None


def _validate_create(cmd, namespace):
    from knack.log import get_logger

    cloud = cmd.cli_ctx.cloud
    namespace.sas_token = read_sas_token(namespace.sas_token)
    # Only read the suffixes the chosen parameter set needs (an unset one raises in azure-cli-core).
    mhsm = _LazySuffix(cloud, "mhsm_dns").get() if (namespace.hsm_name or namespace.hsm_object) else None
    storage = _LazySuffix(cloud, "storage_endpoint").get() if namespace.storage_account_name else None
    target, warnings = resolve_target(
        hsm_name=namespace.hsm_name,
        hsm_object=namespace.hsm_object,
        hsm_id=namespace.hsm_id,
        storage_account_name=namespace.storage_account_name,
        storage_container_name=namespace.storage_container_name,
        storage_container_uri=namespace.storage_container_uri,
        sas_token=namespace.sas_token,
        use_managed_identity=namespace.use_managed_identity,
        mhsm_dns_suffix=mhsm,
        storage_endpoint_suffix=storage,
    )
    logger = get_logger(__name__)
    for warning in warnings:
        logger.warning(warning)
    if namespace.polling_interval is not None and namespace.polling_interval <= 0:
        raise InvalidArgumentValueError("--polling-interval must be a positive number of seconds.")
    namespace.target = target


JOB_ID_RE = re.compile(r"^[0-9a-fA-F]{32}$")


def validate_show(cmd, namespace):
    """HSM flags (one form) and a job id; bad input leaves with exit code 2 before any network call."""
    from azure.cli.core.azclierror import AzCLIError

    from azext_hsmbackup.errors import EXIT_BAD_INPUT, ExitWith

    try:
        mhsm = (
            _LazySuffix(cmd.cli_ctx.cloud, "mhsm_dns").get() if (namespace.hsm_name or namespace.hsm_object) else None
        )
        hsm_url = resolve_hsm_url(namespace.hsm_name, namespace.hsm_object, namespace.hsm_id, mhsm)
        if not JOB_ID_RE.match(namespace.job_id or ""):
            raise InvalidArgumentValueError(
                f"--job-id '{namespace.job_id}' is not a job id: it has 32 hex digits, as printed by create --no-wait."
            )
    except AzCLIError as error:
        raise ExitWith(error, EXIT_BAD_INPUT) from None
    namespace.target = Target(hsm_url, hsm_name_from_url(hsm_url), None, None)
