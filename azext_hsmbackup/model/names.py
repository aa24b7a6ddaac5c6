"""The names az hsm-backup takes and the rules they follow: HSMs, storage accounts and containers, resource groups,
job ids, key names, api-versions. Every pattern is used with fullmatch: `$` alone would let a trailing newline
through into a URL."""

import re
from datetime import date

from azext_hsmbackup._text import shown
from azext_hsmbackup.model.problems import InvalidValue, MissingValue

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


KEY_NAME_RE = re.compile(r"[0-9a-zA-Z-]{1,127}")  # what Key Vault and Managed HSM accept as a key name


def check_text(value, flag, wanted):
    """A flag's value as az hands it over: refuse what is not text, or is empty or whitespace only."""
    if not isinstance(value, str):
        raise InvalidValue(f"{flag} must be text, not {type(value).__name__}: give {wanted}.")
    if not value.strip():
        raise InvalidValue(f"{flag} is empty: give {wanted}.")
    return value


def check_hsm_name(name, flag="--hsm-name"):
    wanted = "3-24 letters, digits and single hyphens, starting with a letter and ending with a letter or digit"
    check_text(name, flag, f"the name of the Managed HSM: {wanted}")
    if not HSM_NAME_RE.fullmatch(name):
        raise InvalidValue(f"{flag} {shown(name)} is not a valid Managed HSM name.", f"Use {wanted}.")
    return name


def check_account_name(name, flag="--storage-account-name"):
    check_text(name, flag, "the name of the storage account: 3-24 lowercase letters and digits")
    if not ACCOUNT_NAME_RE.fullmatch(name):
        raise InvalidValue(
            f"{flag} {shown(name)} is not a valid storage account name.",
            "Use 3-24 lowercase letters and digits.",
        )
    return name


def check_container_name(name, flag="--storage-container-name"):
    wanted = "3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit"
    check_text(name, flag, f"the name of the blob container: {wanted}")
    if not CONTAINER_NAME_RE.fullmatch(name):
        raise InvalidValue(f"{flag} {shown(name)} is not a valid blob container name.", f"Use {wanted}.")
    return name


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
        raise InvalidValue(
            f"{flag} {shown(value)} is not an api-version: use the form 7.x, 7.x-preview.N, YYYY-MM-DD or "
            f"YYYY-MM-DD-preview, {fix}."
        )
    return text


def check_job_id(value, flag="--job-id"):
    wanted = "the 32 hex digits of the job id that create or restore printed"
    if value is None:
        raise MissingValue(f"No {flag} given: give {wanted}.")
    check_text(value, flag, wanted)
    if not JOB_ID_RE.fullmatch(value.strip()):
        raise InvalidValue(f"{flag} {shown(value)} is not a job id: give {wanted}.")
    return value.strip().lower()


def check_key_name(value):
    if value is None:
        return None
    if not isinstance(value, str) or not KEY_NAME_RE.fullmatch(value):
        what = "is empty" if not str(value).strip() else "is not a key name"
        raise InvalidValue(
            f"--key-name {shown(value)} {what}: a key name has 1-127 letters, digits and hyphens.",
            "Give the name of the one key to restore, or leave --key-name out for a full restore.",
        )
    return value


def check_hsm_filter(value):
    if value is not None and not (isinstance(value, str) and HSM_NAME_RE.fullmatch(value)):
        raise InvalidValue(
            f"--hsm-name {shown(value)} is not a valid Managed HSM name: use 3-24 letters, digits and single "
            "hyphens, starting with a letter and ending with a letter or digit; leave it out for every HSM."
        )
    return value


def check_resource_group(value):
    if value is None:
        return None
    check_text(value, "--resource-group", "the name of a resource group")
    if not RESOURCE_GROUP_RE.fullmatch(value.strip()):
        raise InvalidValue(
            f"--resource-group {shown(value)} is not a resource group name: 1-90 letters, digits, '-', '_', '.' "
            "and '()', not ending with '.'."
        )
    return value.strip()
