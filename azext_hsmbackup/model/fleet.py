"""Several HSMs in one command: which ones (a JSON array, --ids, --jobs, or what ARM lists), each once, which of them
cannot be backed up, and the parameter sets of create and wait that name several."""

import json
from dataclasses import dataclass, replace

from azext_hsmbackup._text import clean_text, shown
from azext_hsmbackup.model import hsm_objects
from azext_hsmbackup.model.names import check_job_id, check_resource_group, check_text
from azext_hsmbackup.model.problems import ConflictingValues, InvalidValue, MissingValue
from azext_hsmbackup.model.target import (
    HSM_FLAGS,
    MI_MODE,
    Target,
    given_flags,
    resolve_backup_storage,
    resolve_hsm_url,
    resolve_job,
    resolve_storage_target,
    resolve_target,
)
from azext_hsmbackup.model.urls import hsm_name_from_url, hsm_url_from_id, hsm_url_from_url


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
    storage: Target = None  # container, storage auth, SAS (no HSM)
    mhsm_dns_suffix: str = None  # the cloud's: the URLs of the HSMs ARM lists (--all)

    def target_for(self, member):
        """The single-HSM Target of one member: what the one-HSM code paths take."""
        storage = self.storage or Target(None, None, None, None)
        return replace(storage, hsm_url=member.hsm_url, hsm_name=member.hsm_name)


def member_from_object(obj, mhsm_dns_suffix, use_managed_identity, flag):
    url = hsm_objects.hsm_url_from_object(obj, mhsm_dns_suffix, flag=flag)
    return Member(
        url, hsm_name_from_url(url), hsm_objects.resource_id(obj), hsm_objects.skip_reason(obj, use_managed_identity)
    )


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
        raise InvalidValue(f"{flag} must be text: give HSM URLs or resource IDs.")
    ids = [part for value in values for part in check_text(value, flag, "HSM URLs or resource IDs").split()]
    members = []
    for value in ids:
        url = hsm_url_from_id(value, mhsm_dns_suffix, flag)
        members.append(Member(url, hsm_name_from_url(url), value if value.startswith("/") else None))
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
            raise InvalidValue(f"{where} has no hsmUrl: pass the array that `az hsm-backup create --no-wait` printed.")
        url = hsm_url_from_url(fields["hsmUrl"], flag=f"{where} hsmUrl")
        resource_id = fields.get("resourceId")
        if not (isinstance(resource_id, str) and resource_id.isprintable() and len(resource_id) <= 1024):
            resource_id = None  # text from a file: an ID has no control character
        member = Member(url, hsm_name_from_url(url), resource_id)
        if fields.get("jobId") is not None:
            members.append(member.with_job(check_job_id(fields["jobId"], flag=f"{where} jobId")))
        else:
            members.append(replace(member, carried=_carried(fields)))
    if not any(m.job_id for m in members):
        raise InvalidValue(
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
    check_text(text, flag, f"{wanted}, inline, as @file.json, or - for stdin")
    items = hsm_objects.flag_json(
        text,
        too_large=InvalidValue(
            f"{flag} is {len(text)} characters long, too large for a list of HSMs: pass a few hundred at most."
        ),
        not_json=lambda where: InvalidValue(f"{flag} is not valid JSON{where}: pass {wanted}."),
        too_deep=InvalidValue(f"{flag} is JSON nested too deeply: pass {wanted}."),
    )
    if not isinstance(items, list):
        raise InvalidValue(f"{flag} is not a JSON array: pass {wanted}.")
    if not items:
        raise InvalidValue(f"{flag} is an empty JSON array: there is no HSM in it.")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidValue(f"{flag} item {index} is {shown(json.dumps(item))}, not an object: pass {wanted}.")
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


def members_from_records(records, mhsm_dns_suffix, use_managed_identity):
    """The members ARM listed; a record that cannot be read is skipped with the reason, not fatal to the rest."""
    members = []
    for record in records:
        name = str(record.get("name") or "?")
        try:
            members.append(member_from_object(record, mhsm_dns_suffix, use_managed_identity, f"ARM's record of {name}"))
        except InvalidValue as ex:
            members.append(
                Member(None, name, hsm_objects.resource_id(record), f"ARM's record cannot be used: {ex.error_msg}")
            )
    return members


MANY_HSMS = "--ids, --all, or a JSON array in --hsm-object"


def _one_hsm_form(hsm_name, hsm_object, hsm_id, hsm_ids, all_hsms):
    given = given_flags(**{"--hsm-name": hsm_name, "--hsm-object": hsm_object, "--id": hsm_id, "--ids": hsm_ids})
    given += ["--all"] if all_hsms else []
    if len(given) > 1:
        raise ConflictingValues(
            f"{' and '.join(given)} cannot be used together: name the HSMs once, with {HSM_FLAGS}, --ids or --all."
        )


def resolve_create_target(
    *, hsm_ids=None, all_hsms=None, resource_group=None, max_parallel=None, mhsm_dns_suffix=None, **one
):
    """create: one HSM (resolve_target), or several (--ids, --all, a JSON array in --hsm-object): a Fleet."""
    _one_hsm_form(one.get("hsm_name"), one.get("hsm_object"), one.get("hsm_id"), hsm_ids, all_hsms)
    if resource_group is not None and not all_hsms:
        raise MissingValue(
            "--resource-group narrows --all: add --all to back up every HSM of the group, or leave -g out."
        )
    if hsm_ids is None and not all_hsms and not is_json_array(one.get("hsm_object")):
        if max_parallel is not None:
            raise InvalidValue(f"--max-parallel is for several HSMs ({MANY_HSMS}); leave it out for one HSM.")
        return resolve_target(mhsm_dns_suffix=mhsm_dns_suffix, **one)
    hsm_object = one.pop("hsm_object", None)
    for single in ("hsm_name", "hsm_id"):  # not given (_one_hsm_form): only the storage flags are left
        one.pop(single, None)
    storage, warnings = resolve_backup_storage(**one)
    use_mi = storage.storage_auth == MI_MODE
    members = ()
    if hsm_object is not None:
        members = members_from_array(hsm_object, mhsm_dns_suffix, use_mi)
    elif hsm_ids is not None:
        members = members_from_ids(hsm_ids, mhsm_dns_suffix)
    group = check_resource_group(resource_group)
    return Fleet(distinct(members), bool(all_hsms), group, storage, mhsm_dns_suffix), warnings


def resolve_freshness_target(
    *, hsm_ids=None, all_hsms=None, resource_group=None, mhsm_dns_suffix=None, storage_endpoint_suffix=None, **flags
):
    """check freshness: any HSM form of create (one HSM, --ids, a JSON array, --all with or without -g) and the
    container as list takes it; always a Fleet, whose storage the HSMs' checks read too (so a SAS needs 'rl')."""
    hsm_name, hsm_object, hsm_id = (flags.pop(name, None) for name in ("hsm_name", "hsm_object", "hsm_id"))
    _one_hsm_form(hsm_name, hsm_object, hsm_id, hsm_ids, all_hsms)
    if resource_group is not None and not all_hsms:
        raise MissingValue(
            "--resource-group narrows --all: add --all to check every HSM of the group, or leave -g out."
        )
    if hsm_ids is None and not all_hsms and hsm_name is None and hsm_object is None and hsm_id is None:
        raise MissingValue(f"No HSM given: specify it with {HSM_FLAGS}, several with --ids, or every one with --all.")
    storage, warnings = resolve_storage_target(
        storage_endpoint_suffix=storage_endpoint_suffix, needed_permissions="rl", **flags
    )
    use_mi = storage.storage_auth == MI_MODE
    members = ()
    if is_json_array(hsm_object):
        members = members_from_array(hsm_object, mhsm_dns_suffix, use_mi)
    elif hsm_ids is not None:
        members = members_from_ids(hsm_ids, mhsm_dns_suffix)
    elif not all_hsms:
        url = resolve_hsm_url(hsm_name, hsm_object, hsm_id, mhsm_dns_suffix)
        members = [Member(url, hsm_name_from_url(url), hsm_id if (hsm_id or "").startswith("/") else None)]
    fleet = Fleet(distinct(members), bool(all_hsms), check_resource_group(resource_group), storage, mhsm_dns_suffix)
    return fleet, warnings


def resolve_wait(*, hsm_ids=None, jobs=None, job_id=None, mhsm_dns_suffix=None, **one):
    """wait: one job (resolve_job), or one per HSM: --ids with a --job-id each, or --jobs (create --no-wait's array)."""
    given = given_flags(
        **{"--hsm-name": one.get("hsm_name"), "--hsm-object": one.get("hsm_object"), "--id": one.get("hsm_id")}
    )
    given += given_flags(**{"--ids": hsm_ids, "--jobs": jobs})
    if len(given) > 1:
        raise ConflictingValues(
            f"{' and '.join(given)} cannot be used together: give one HSM with its --job-id, --ids with one "
            "--job-id per HSM, or --jobs."
        )
    if jobs is not None:
        if job_id is not None:
            raise ConflictingValues("--jobs names every job already: leave --job-id out.")
        return Fleet(members_from_jobs(jobs)), []
    if hsm_ids is None:
        if isinstance(job_id, list):
            raise InvalidValue(
                f"--job-id was given {len(job_id)} times for one HSM: give one job id, or several HSMs with --ids."
            )
        return resolve_job(job_id=job_id, mhsm_dns_suffix=mhsm_dns_suffix, **one)
    members = members_from_ids(hsm_ids, mhsm_dns_suffix)
    job_ids = job_id if isinstance(job_id, list) else [check_job_id(job_id)]
    if len(job_ids) != len(members):
        raise InvalidValue(
            f"--ids names {len(members)} HSM(s) and --job-id {len(job_ids)} job(s): give one --job-id per HSM, in "
            "the same order, e.g. --ids URL1 URL2 --job-id ID1 ID2."
        )
    return Fleet(distinct(m.with_job(j) for m, j in zip(members, job_ids))), []
