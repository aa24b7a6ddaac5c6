"""An HSM as JSON: what `az keyvault show --hsm-name X` or PowerShell's Get-AzKeyVaultManagedHsm prints, one object or
an array of them; its URL, its resource ID, and what its ARM record says of whether it can be backed up."""

import json

from azext_hsmbackup._constants import MANAGED_HSM_RESOURCE_TYPE
from azext_hsmbackup._text import shown
from azext_hsmbackup.model.names import check_text
from azext_hsmbackup.model.problems import InvalidValue
from azext_hsmbackup.model.urls import hsm_url_from_name, hsm_url_from_url, parse_resource_id

# az keyvault show prints a few KB; a PSManagedHsm as JSON a few more.
MAX_HSM_OBJECT_CHARS = 1_000_000


def flag_json(text, *, too_large, not_json, too_deep):
    """The JSON of a flag's text (inline, @file expanded by az, or read from stdin), at most MAX_HSM_OBJECT_CHARS
    long: the one parser of every flag that takes JSON. Each failure is the caller's own line: `too_large` and
    `too_deep` are the Problems to raise, `not_json(where)` makes one from the parser's position."""
    if len(text) > MAX_HSM_OBJECT_CHARS:
        raise too_large
    try:
        return json.loads(text)
    except ValueError as ex:
        raise not_json(
            f" ({ex.msg} at line {ex.lineno} column {ex.colno})" if isinstance(ex, json.JSONDecodeError) else ""
        ) from None
    except RecursionError:
        raise too_deep from None


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
            raise InvalidValue(f"{flag} has a {what} that is not text ({type(value).__name__}).")
        if value.strip().lower() not in (f.strip().lower() for f in found):
            found.append(value)
    if len(found) > 1:
        raise InvalidValue(f"{flag} names two different {what}s: {shown(found[0])} and {shown(found[1])}.")
    return found[0] if found else None


def hsm_url_from_object(text, mhsm_dns_suffix, flag="--hsm-object"):
    """--hsm-object takes the JSON of `az keyvault show --hsm-name X` or of a PowerShell PSManagedHsm.

    PowerShell (`Get-AzKeyVaultManagedHsm | ConvertTo-Json`) writes Name, VaultName, HsmUri and ResourceId at the
    top, no type, and the ARM resource under OriginalManagedHsm (with its own Type and Properties.HsmUri).
    """
    hint = "Pass the output of `az keyvault show --hsm-name NAME` (or Get-AzKeyVaultManagedHsm | ConvertTo-Json)"
    if isinstance(text, str):
        check_text(text, flag, "the JSON of the HSM, inline or as @file.json")
        obj = flag_json(
            text,
            too_large=InvalidValue(f"{flag} is {len(text)} characters long, too large for an HSM object.", hint),
            not_json=lambda where: InvalidValue(
                f"{flag} is not valid JSON{where}.", f"{hint}, inline or as @file.json."
            ),
            too_deep=InvalidValue(f"{flag} is JSON nested too deeply for an HSM object.", hint),
        )
    else:
        obj = text
    if isinstance(obj, list) and len(obj) == 1:
        obj = obj[0]
    if not isinstance(obj, dict):
        raise InvalidValue(f"{flag} must be one JSON object, as printed by `az keyvault show --hsm-name NAME`.")
    fields = _lower_keys(obj)
    original = _lower_keys(fields.get("originalmanagedhsm"))
    kinds = _object_kinds(fields, original, flag)
    wrong = [k for k in kinds if k != MANAGED_HSM_RESOURCE_TYPE]
    if not kinds or wrong:
        what = f"a {shown(wrong[0])}" if wrong else "an object without a type or resource ID"
        raise InvalidValue(
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
        raise InvalidValue(f"{flag} has neither an hsmUri nor a name.", f"{hint}.")
    return hsm_url_from_name(name, mhsm_dns_suffix, flag=f"{flag} name")


READY_STATES = ("succeeded", "activated")


def _lower(value):
    return {str(k).lower(): item for k, item in value.items()} if isinstance(value, dict) else {}


def arm_record(obj):
    """The ARM resource inside an HSM object: az's JSON is one; PowerShell's keeps it under OriginalManagedHsm."""
    fields = _lower(obj)
    if "properties" in fields:
        return fields
    return _lower(fields.get("originalmanagedhsm")) if "properties" in _lower(fields.get("originalmanagedhsm")) else {}


def skip_reason(obj, use_managed_identity):
    """Why an HSM cannot be backed up now, from its ARM record; None when nothing says so (or no record). The record's
    own values are quoted as every user value is (control characters escaped, long ones cut): it may come from a
    file or a pipe."""
    record = arm_record(obj)
    if not record:
        return None
    props = _lower(record.get("properties"))
    state = props.get("provisioningstate")
    if state is not None and str(state).lower() not in READY_STATES:
        return f"provisioningState is {shown(state)}, not Succeeded: back it up once it is provisioned."
    activation = _lower(props.get("securitydomainproperties")).get("activationstatus")
    if activation is not None and str(activation).lower() != "active":
        return (
            f"Its security domain is {shown(activation)}, not Active: the HSM holds no keys to back up until it is "
            "activated (az keyvault security-domain download)."
        )
    if use_managed_identity and not _lower(_lower(record.get("identity")).get("userassignedidentities")):
        return (
            "It has no user-assigned managed identity, which --use-user-managed-identity needs: assign one with "
            "'Storage Blob Data Contributor' on the container, or use --sas-token or --mint-sas."
        )
    return None


def resource_id(obj):
    fields = _lower(obj)
    for value in (fields.get("id"), fields.get("resourceid"), arm_record(obj).get("id")):
        if isinstance(value, str) and value.startswith("/"):
            return value
    return None
