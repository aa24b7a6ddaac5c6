"""The emulator's knobs: defaults, validation and merging, plus the api-versions the data plane accepts."""

import copy
import math

from tests.stack import constants as C
from tests.stack.clock import check_offset_s

# Oldest first; the position decides which features a version has. The real service's list (rest-api.md 1.1):
# the stable swaggers, the preview az itself sends (7.5-preview.1), and the TypeSpec versions current SDKs default
# to (azure-keyvault-administration 4.8.0b2, pinned by azure-cli 2.91.0, sends 2026-01-01-preview).
API_VERSIONS = (
    "7.2",
    "7.3",
    "7.4",
    "7.5-preview.1",
    "7.5",
    "7.6-preview.2",
    "7.6",
    "2025-06-01-preview",
    "2025-06-01",
    "2025-07-01",
    "2026-01-01-preview",
)
LATEST_STABLE = "2025-07-01"
_MANAGED_IDENTITY_SINCE = API_VERSIONS.index("7.5-preview.1")
_PRE_OPERATIONS_SINCE = API_VERSIONS.index("7.6-preview.2")


def supports_managed_identity(api_version):
    return API_VERSIONS.index(api_version) >= _MANAGED_IDENTITY_SINCE


def supports_pre_operations(api_version):
    return API_VERSIONS.index(api_version) >= _PRE_OPERATIONS_SINCE


DEFAULTS = {
    "job_duration_s": 1.0,  # how long a job stays InProgress (the real service: 8-15 s)
    "job_duration_by_hsm": {},  # {hsm name: seconds}: that HSM's jobs take this long instead
    "storage_refuses_hsms": [],  # HSM names whose storage access is refused (a storage firewall that lets them not in)
    "retry_after_202": 10,  # Retry-After on every 202, as the real service (null: no header, as in 2021)
    "poll_retry_after_ms": None,  # retry-after-ms on polls (null: none, as the real service)
    "resource": C.MHSM_RESOURCE,  # the challenge's resource= and the token audience we accept
    "tenant": C.TENANT_ID,  # the challenge's tenant and the token tid we accept
    "authority": None,  # set from --authority: the challenge's authorization= is "<authority>/<tenant>"
    "identity_storage_accounts": {C.STORAGE_ACCOUNT: C.STORAGE_ACCOUNT_KEY},  # what the HSM's UAMI may write to
    "seed_keys": 3,  # keys a new HSM starts with
    "force_fail_next_job": None,  # {"code", "message"}: the next job started ends Failed with this error
    "interrupt_next_backup_after_blobs": None,  # n: the next backup writes n blobs, then fails (a half-written folder)
    "echo_sas_in_errors": False,  # a storage failure quotes the job's SAS unmasked, as storage errors can (leak tests)
    "clock_offset_s": 0.0,  # the emulator's clock = the real one + this (within ±30 days): the stack's set_clock
}


def _number(value, name, minimum=0):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < minimum:
        raise ValueError(f"{name} must be a number >= {minimum}")
    return value


def _optional_int(value, name):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be null or an integer >= 0")
    return value


def _count(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
        raise ValueError(f"{name} must be an integer between 0 and 1000")
    return value


def _string(value, name):
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    return value


def _accounts(value, name):
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError(f"{name} must map account names to account keys (strings)")
    return {k.lower(): v for k, v in value.items()}


def _durations(value, name):
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ValueError(f"{name} must map HSM names to seconds")
    return {k.lower(): _number(v, f"{name}[{k}]") for k, v in value.items()}


def _names(value, name):
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{name} must be a list of HSM names")
    return [v.lower() for v in value]


def _forced_failure(value, name):
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("code"), str) or not value["code"]:
        raise ValueError(f'{name} must be null or {{"code": "...", "message": "..."}}')
    return {"code": value["code"], "message": str(value.get("message") or value["code"])}


def _flag(value, name):
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false")
    return value


_CHECKS = {
    "job_duration_s": _number,
    "job_duration_by_hsm": _durations,
    "storage_refuses_hsms": _names,
    "retry_after_202": _optional_int,
    "poll_retry_after_ms": _optional_int,
    "resource": _string,
    "tenant": _string,
    "authority": _string,
    "identity_storage_accounts": _accounts,
    "seed_keys": _count,
    "force_fail_next_job": _forced_failure,
    "interrupt_next_backup_after_blobs": _optional_int,
    "echo_sas_in_errors": _flag,
    "clock_offset_s": check_offset_s,
}


def merge(current, update):
    """A new config: `current` with the keys of `update` validated and replaced. Raises ValueError."""
    if not isinstance(update, dict):
        raise ValueError("the config must be a JSON object")
    unknown = sorted(set(update) - set(_CHECKS))
    if unknown:
        raise ValueError(f"unknown config keys: {', '.join(unknown)} (known: {', '.join(sorted(_CHECKS))})")
    merged = copy.deepcopy(current)
    for key, value in update.items():
        merged[key] = _CHECKS[key](value, key)
    return merged


def defaults(**overrides):
    return merge(copy.deepcopy(DEFAULTS), overrides)
