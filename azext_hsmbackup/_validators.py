"""Resolving the parameter sets of Backup-AzKeyVault, in az words.

`resolve_target` is pure (plain values in, a `Target` or one az error out) so the whole parameter-set table is
unit-tested without a CLI. `validate_create` is the thin command-level adapter: it reads the cloud suffixes and,
when asked, the SAS token from a hidden prompt or stdin.
"""

import ipaddress
import json
import math
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from azure.cli.core.azclierror import (
    InvalidArgumentValueError,
    MutuallyExclusiveArgumentError,
    RequiredArgumentMissingError,
)

from azext_hsmbackup import sas
from azext_hsmbackup._constants import BACKUP_SAS_PERMISSIONS, MANAGED_HSM_RESOURCE_TYPE, RESTORE_SAS_PERMISSIONS
from azext_hsmbackup.errors import shown

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
    storage_auth: str  # "sas", "managedIdentity" or "mintedSas" (a user-delegation SAS minted when needed)
    sas_token: str = None
    folder: str = None  # the backup folder a restore or delete works on

    def __repr__(self):  # never show the token, even in a debugger or a log line
        return f"Target(hsm_url={self.hsm_url!r}, container_uri={self.container_uri!r}, auth={self.storage_auth!r})"

    @property
    def folder_url(self):
        return f"{self.container_uri}/{self.folder}" if self.folder else None


def _given(**flags):
    return [name for name, value in flags.items() if value not in (None, "", False)]


# ---- HSM ----------------------------------------------------------------------------------------------------


def check_hsm_name(name, flag="--hsm-name"):
    if not HSM_NAME_RE.match(name or ""):
        raise InvalidArgumentValueError(
            f"{flag} {shown(name)} is not a valid Managed HSM name.",
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
    properties = fields.get("properties")
    props = {k.lower(): v for k, v in properties.items()} if isinstance(properties, dict) else {}
    kind = str(fields.get("type") or fields.get("resourcetype") or "").lower()
    if kind != MANAGED_HSM_RESOURCE_TYPE:
        what = f"a {shown(fields.get('type') or fields.get('resourcetype'))}" if kind else "an object without a type"
        raise InvalidArgumentValueError(
            f"--hsm-object is {what}, not a Managed HSM (Microsoft.KeyVault/managedHSMs).",
            "Pass the output of `az keyvault show --hsm-name NAME`; for a key vault use `az keyvault backup`.",
        )
    uri = props.get("hsmuri") or fields.get("hsmuri")
    if uri and isinstance(uri, str):
        return hsm_url_from_id(uri, mhsm_dns_suffix, flag="--hsm-object properties.hsmUri")
    name = fields.get("name") or fields.get("vaultname")
    if not name or not isinstance(name, str):
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
            f"{flag} {shown(name)} is not a valid blob container name.",
            "Use 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.",
        )
    return name


def check_account_name(name, flag="--storage-account-name"):
    if not ACCOUNT_NAME_RE.match(name or ""):
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

SAS_MODE, MI_MODE, MINT_MODE = "sas", "managedIdentity", "mintedSas"


def resolve_storage_auth(sas_token, use_managed_identity, mint_sas, container_uri, needed_permissions, hsm_side=True):
    """Return (mode, token, warnings).

    hsm_side: the HSM itself reaches storage (backup, restore, checks), so its managed identity is an option and one
    option is required. Otherwise (list, delete, prune) az reaches storage, as the signed-in identity by default.
    """
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
    if mint_sas or (not sas_token and not hsm_side):
        return MINT_MODE, None, []
    if not sas_token:
        raise RequiredArgumentMissingError(
            "No storage access given: pass --sas-token (e.g. --sas-token @token.txt), "
            "--use-user-managed-identity (the HSM's own user-assigned identity), or --mint-sas "
            "(a short-lived SAS minted from your signed-in identity)."
        )
    token = sas.normalize_sas(sas_token, container_uri)
    return SAS_MODE, token, sas.check_sas(token, needed_permissions)


# ---- Backup folders -------------------------------------------------------------------------------------------


def split_folder_url(url, flag="--folder-url"):
    """https://ACCOUNT.blob.SUFFIX/CONTAINER/FOLDER (what create prints) -> (container URI, folder)."""
    parts = urlsplit((url or "").strip())
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
    mint_sas=None,
    mhsm_dns_suffix=None,
    storage_endpoint_suffix=None,
    needed_permissions=BACKUP_SAS_PERMISSIONS,
):
    """create, check backup: one HSM form, one storage form, one storage auth mode. Returns (Target, warnings)."""
    hsm_url = resolve_hsm_url(hsm_name, hsm_object, hsm_id, mhsm_dns_suffix)
    container_uri = resolve_container_uri(
        storage_account_name, storage_container_name, storage_container_uri, storage_endpoint_suffix
    )
    mode, token, warnings = resolve_storage_auth(
        sas_token, use_managed_identity, mint_sas, container_uri, needed_permissions
    )
    return Target(hsm_url, hsm_name_from_url(hsm_url), container_uri, mode, token), warnings


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
    storage_endpoint_suffix=None,
    needed_permissions="l",
    backup_folder=None,
    mhsm_dns_suffix=None,  # unused (no HSM here): every resolver is given both suffixes
):
    """list, delete, prune: the container (and a folder name for delete), reached as the CLI user."""
    container_uri = resolve_container_uri(
        storage_account_name, storage_container_name, storage_container_uri, storage_endpoint_suffix
    )
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

        return sys.stdin.readline().strip()
    return value


def _pick(namespace, *names):
    return {name: getattr(namespace, name, None) for name in names}


HSM_ARGS = ("hsm_name", "hsm_object", "hsm_id")
STORAGE_ARGS = ("storage_account_name", "storage_container_name", "storage_container_uri")


def _suffixes(cmd, namespace):
    cloud = cmd.cli_ctx.cloud
    named_hsm = getattr(namespace, "hsm_name", None) or getattr(namespace, "hsm_object", None)
    return {
        "mhsm_dns_suffix": cloud_suffix(cloud, "mhsm_dns") if named_hsm else None,
        "storage_endpoint_suffix": (
            cloud_suffix(cloud, "storage_endpoint") if getattr(namespace, "storage_account_name", None) else None
        ),
    }


def _validator(resolve, *arg_names, **fixed):
    """A command-level validator: resolve the parameter set before any network call; bad input exits 2."""

    def validate(cmd, namespace):
        from azure.cli.core.azclierror import AzCLIError
        from knack.log import get_logger

        from azext_hsmbackup.errors import EXIT_BAD_INPUT, ExitWith

        try:
            if hasattr(namespace, "sas_token"):
                namespace.sas_token = read_sas_token(namespace.sas_token)
            if getattr(namespace, "polling_interval", None) is not None and namespace.polling_interval <= 0:
                raise InvalidArgumentValueError("--polling-interval must be a positive number of seconds.")
            target, warnings = resolve(**_pick(namespace, *arg_names), **_suffixes(cmd, namespace), **fixed)
        except AzCLIError as error:
            raise ExitWith(error, EXIT_BAD_INPUT) from None
        for warning in warnings:
            get_logger(__name__).warning(warning)
        namespace.target = target

    return validate


AUTH_ARGS = ("sas_token", "use_managed_identity", "mint_sas")
validate_create = _validator(resolve_target, *HSM_ARGS, *STORAGE_ARGS, *AUTH_ARGS)
validate_check_backup = validate_create
validate_restore = _validator(
    resolve_restore_target, *HSM_ARGS, "folder_url", "backup_folder", *STORAGE_ARGS, *AUTH_ARGS
)
validate_list = _validator(resolve_storage_target, *STORAGE_ARGS, "sas_token", needed_permissions="l")
validate_delete = _validator(
    resolve_storage_target, *STORAGE_ARGS, "sas_token", "backup_folder", needed_permissions="ld"
)
validate_prune = _validator(resolve_storage_target, *STORAGE_ARGS, "sas_token", needed_permissions="ld")

JOB_ID_RE = re.compile(r"^[0-9a-fA-F]{32}$")


def resolve_job(*, hsm_name=None, hsm_object=None, hsm_id=None, job_id=None, mhsm_dns_suffix=None, **_):
    hsm_url = resolve_hsm_url(hsm_name, hsm_object, hsm_id, mhsm_dns_suffix)
    if not JOB_ID_RE.match(job_id or ""):
        raise InvalidArgumentValueError(
            f"--job-id {shown(job_id)} is not a job id: a job id has 32 hex digits, as create --no-wait prints."
        )
    return Target(hsm_url, hsm_name_from_url(hsm_url), None, None), []


validate_job = _validator(resolve_job, *HSM_ARGS, "job_id")


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
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= KEEP_MAX):
        raise InvalidArgumentValueError(
            f"--keep {shown(value)} is out of range: keep 1-{KEEP_MAX} newest backups of each HSM "
            "(the newest is always kept)."
        )
    return value


def check_older_than(value):
    if value is not None and not (
        isinstance(value, (int, float)) and math.isfinite(value) and 0 < value <= OLDER_THAN_MAX_DAYS
    ):
        raise InvalidArgumentValueError(
            f"--older-than {shown(value)} is out of range: give a number of days above 0 and at most "
            f"{OLDER_THAN_MAX_DAYS}, e.g. --older-than 30."
        )
    return value


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
    keep, older_than = check_keep(namespace.keep), check_older_than(namespace.older_than)
    if keep is None and older_than is None:
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
