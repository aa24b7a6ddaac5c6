"""Several HSMs in one command: which ones (a JSON array, --ids, or every HSM that ARM lists), each once, and which of
them cannot be backed up, from their ARM record, before anything starts. Running them is fleet_run.py's part."""

import json
from contextlib import contextmanager
from dataclasses import dataclass, replace

from azure.cli.core.azclierror import InvalidArgumentValueError

from azext_hsmbackup import _validators as v
from azext_hsmbackup.answers import clean_text
from azext_hsmbackup.errors import shown

MAX_PAGES = 1000  # a nextLink loop (a broken or hostile endpoint) ends here instead of running forever
READY_STATES = ("succeeded", "activated")


@dataclass(frozen=True)
class Member:
    """One HSM of the fleet, as given or listed."""

    hsm_url: str
    hsm_name: str
    resource_id: str = None
    skip_reason: str = None  # why it will not be backed up (from its ARM record), decided before anything starts
    job_id: str = None  # wait: the job to wait for
    carried: dict = None  # wait --jobs: the entry of an HSM whose job never started (Skipped, Busy...), kept as is

    def with_job(self, job_id):
        return replace(self, job_id=job_id)


@dataclass(frozen=True)
class Fleet:
    """create/wait over several HSMs: the members (for --all: where ARM lists them) and the one storage target."""

    members: tuple = ()
    list_all: bool = False
    resource_group: str = None  # --all -g: only this resource group
    storage: v.Target = None  # container, storage auth, SAS (no HSM)

    def target_for(self, member):
        """The single-HSM Target of one member: what the one-HSM code paths take."""
        storage = self.storage or v.Target(None, None, None, None)
        return replace(storage, hsm_url=member.hsm_url, hsm_name=member.hsm_name)


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


def _resource_id(obj):
    fields = _lower(obj)
    for value in (fields.get("id"), fields.get("resourceid"), arm_record(obj).get("id")):
        if isinstance(value, str) and value.startswith("/"):
            return value
    return None


def member_from_object(obj, mhsm_dns_suffix, use_managed_identity, flag):
    url = v.hsm_url_from_object(obj, mhsm_dns_suffix, flag=flag)
    return Member(url, v.hsm_name_from_url(url), _resource_id(obj), skip_reason(obj, use_managed_identity))


def is_json_array(text):
    return isinstance(text, str) and text.lstrip().startswith("[")


def members_from_array(text, mhsm_dns_suffix, use_managed_identity, flag="--hsm-object"):
    """The HSMs of a JSON array (az keyvault list --resource-type hsm, or PowerShell's ConvertTo-Json of a list)."""
    items = _json_array(text, flag, "the output of `az keyvault list --resource-type hsm`")
    return [
        member_from_object(item, mhsm_dns_suffix, use_managed_identity, f"{flag} item {index}")
        for index, item in enumerate(items)
    ]


def members_from_ids(values, mhsm_dns_suffix, flag="--ids"):
    """--ids: HSM URLs or resource IDs, as separate values or one whitespace-separated value (a `-o tsv` list)."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)):
        raise InvalidArgumentValueError(f"{flag} must be text: give HSM URLs or resource IDs.")
    ids = [part for value in values for part in v.check_text(value, flag, "HSM URLs or resource IDs").split()]
    members = []
    for value in ids:
        url = v.hsm_url_from_id(value, mhsm_dns_suffix, flag)
        members.append(Member(url, v.hsm_name_from_url(url), value if value.startswith("/") else None))
    return members


# What an entry without a jobId may say of itself and be carried as it was: no job was started for it. Anything else
# (a saved --what-if array's WouldBackUp, a hand-edited "Succeeded") claims more than a job that does not exist.
CARRIED_STATUSES = ("Skipped", "Busy", "Failed", "NotStarted")
NO_JOB = "The entry has no jobId: there is no job to wait for."


def members_from_jobs(text, flag="--jobs"):
    """wait --jobs: the JSON array that `create --no-wait` printed for several HSMs. Each entry with a jobId is
    waited for; one without is carried into the output as what it is: Skipped, Busy, Failed or NotStarted as it
    said, else NotStarted. Its words come from a file or a pipe: they are cleaned as the service's are. An array
    with no jobId at all holds nothing to wait for."""
    items = _json_array(text, flag, "the JSON array that `az hsm-backup create --no-wait` printed")
    members = []
    for index, item in enumerate(items):
        where = f"{flag} item {index}"
        fields = item if isinstance(item, dict) else {}
        if not fields.get("hsmUrl"):
            raise InvalidArgumentValueError(
                f"{where} has no hsmUrl: pass the array that `az hsm-backup create --no-wait` printed."
            )
        url = v.hsm_url_from_url(fields["hsmUrl"], flag=f"{where} hsmUrl")
        resource_id = fields.get("resourceId")
        if not (isinstance(resource_id, str) and resource_id.isprintable() and len(resource_id) <= 1024):
            resource_id = None  # text from a file: an ID has no control character
        member = Member(url, v.hsm_name_from_url(url), resource_id)
        if fields.get("jobId") is not None:
            members.append(member.with_job(v.check_job_id(fields["jobId"], flag=f"{where} jobId")))
        else:
            members.append(replace(member, carried=_carried(fields)))
    if not any(m.job_id for m in members):
        raise InvalidArgumentValueError(
            f"{flag} holds no job to wait for: none of its {len(members)} entries has a jobId (an array of "
            "`create --what-if`, or of HSMs that were all skipped, has none). Pass the array that "
            "`az hsm-backup create --no-wait` printed."
        )
    return distinct(members)


def _carried(fields):
    status = fields.get("status")
    if status not in CARRIED_STATUSES:
        return {"status": "NotStarted", "reason": NO_JOB, "error": None}
    reason = fields.get("reason")
    error = fields.get("error") if isinstance(fields.get("error"), dict) else None
    return {
        "status": status,
        "reason": clean_text(reason) if reason is not None else None,
        "error": None
        if error is None
        else {k: clean_text(error[k]) if error.get(k) is not None else None for k in ("code", "message")},
    }


def _json_array(text, flag, wanted):
    """A non-empty JSON array of objects from a flag's text (inline, @file expanded by az, or - for stdin)."""
    v.check_text(text, flag, f"{wanted}, inline, as @file.json, or - for stdin")
    if len(text) > v.MAX_HSM_OBJECT_CHARS:
        raise InvalidArgumentValueError(
            f"{flag} is {len(text)} characters long, too large for a list of HSMs: pass a few hundred at most."
        )
    try:
        items = json.loads(text)
    except ValueError as ex:
        where = f" ({ex.msg} at line {ex.lineno} column {ex.colno})" if isinstance(ex, json.JSONDecodeError) else ""
        raise InvalidArgumentValueError(f"{flag} is not valid JSON{where}: pass {wanted}.") from None
    except RecursionError:
        raise InvalidArgumentValueError(f"{flag} is JSON nested too deeply: pass {wanted}.") from None
    if not isinstance(items, list):
        raise InvalidArgumentValueError(f"{flag} is not a JSON array: pass {wanted}.")
    if not items:
        raise InvalidArgumentValueError(f"{flag} is an empty JSON array: there is no HSM in it.")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidArgumentValueError(
                f"{flag} item {index} is {shown(json.dumps(item))}, not an object: pass {wanted}."
            )
    return items


def distinct(members):
    """Each HSM once, where it first appears: the same HSM named twice (name, URL, ID, any case) gets one job (wait:
    each HSM's job once)."""
    seen, kept = set(), []
    for member in members:
        key = ((member.hsm_url or member.resource_id or member.hsm_name).lower(), member.job_id)
        if key not in seen:
            seen.add(key)
            kept.append(member)
    return tuple(kept)


def check_resource_group(value):
    if value is None:
        return None
    v.check_text(value, "--resource-group", "the name of a resource group")
    if not v.RESOURCE_GROUP_RE.fullmatch(value.strip()):
        raise InvalidArgumentValueError(
            f"--resource-group {shown(value)} is not a resource group name: 1-90 letters, digits, '-', '_', '.' "
            "and '()', not ending with '.'."
        )
    return value.strip()


# ---- --all: what ARM lists ------------------------------------------------------------------------------------


def list_managed_hsms(cli_ctx, resource_group=None):
    """Every Managed HSM ARM lists for the subscription (az's current one, or --subscription), or one resource group,
    as `az keyvault list --resource-type hsm` prints them: through the management client az itself uses for that
    (azure-mgmt-keyvault, in every az release), with the CLI's credential, cloud and API profile. The SDK follows
    nextLink; a nextLink that never ends stops after MAX_PAGES pages."""
    from azure.cli.core.commands.client_factory import get_mgmt_service_client
    from azure.cli.core.profiles import ResourceType

    try:  # how az turns SDK models into its JSON output (azure-cli-core's own since it handles TypeSpec models)
        from azure.cli.core.util import todict
    except ImportError:
        from knack.util import todict

    where = f"resource group {resource_group}" if resource_group else "the subscription"
    with _arm_errors(where):
        hsms = get_mgmt_service_client(cli_ctx, ResourceType.MGMT_KEYVAULT).managed_hsms
        pager = hsms.list_by_resource_group(resource_group) if resource_group else hsms.list_by_subscription()
        records = []
        for number, page in enumerate(pager.by_page(), 1):
            if number > MAX_PAGES:
                raise InvalidArgumentValueError(f"ARM kept sending a nextLink after {MAX_PAGES} pages of Managed HSMs.")
            records.extend(todict(hsm) for hsm in page)
    return [r for r in records if isinstance(r, dict)]


@contextmanager
def _arm_errors(where):
    """What ARM or the network says while listing becomes one line and an exit code."""
    from azure.cli.core import azclierror
    from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

    from azext_hsmbackup.errors import (
        EXIT_CONNECTION,
        EXIT_NOT_FOUND,
        EXIT_UNAUTHORIZED,
        ExitWith,
        code_text,
        service_line,
    )

    try:
        yield
    except HttpResponseError as ex:
        status = ex.status_code
        code = code_text(getattr(getattr(ex, "error", None), "code", None))
        message = service_line(getattr(getattr(ex, "error", None), "message", None) or ex.reason or str(ex))
        words = f"({code}) {message}" if code else message
        fix = {
            401: "Sign in again: az login.",
            403: "The signed-in identity needs the Reader role (Microsoft.KeyVault/managedHSMs/read) there.",
            404: "Check the resource group (-g) and the subscription (--subscription, az account show).",
        }.get(status)
        codes = {401: EXIT_UNAUTHORIZED, 403: EXIT_UNAUTHORIZED, 404: EXIT_NOT_FOUND}
        raise ExitWith(
            azclierror.AzureResponseError(f"ARM refused to list the Managed HSMs of {where} ({status}): {words}", fix),
            codes.get(status, 1),
        ) from None
    except (ServiceRequestError, ServiceResponseError) as ex:
        raise ExitWith(
            azclierror.AzureConnectionError(f"Cannot reach ARM to list the Managed HSMs: {service_line(str(ex))}"),
            EXIT_CONNECTION,
        ) from None


def members_from_records(records, mhsm_dns_suffix, use_managed_identity):
    """The members ARM listed; a record that cannot be read is skipped with the reason, not fatal to the rest."""
    members = []
    for record in records:
        name = str(record.get("name") or "?")
        try:
            members.append(member_from_object(record, mhsm_dns_suffix, use_managed_identity, f"ARM's record of {name}"))
        except InvalidArgumentValueError as ex:
            members.append(Member(None, name, _resource_id(record), f"ARM's record cannot be used: {ex.error_msg}"))
    return members
