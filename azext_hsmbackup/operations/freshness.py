"""az hsm-backup check freshness: whether each HSM's newest finished backup is younger than --max-age.

The container is read with one delimiter listing, however many HSMs are asked about. The listing comes in name
order (Blob storage documents it), and every folder of an HSM sorts at or before mhsm-<its name in lower case>-
9999999999999999; so once the listing has passed that name, the HSM's check starts while the listing goes on. A
listing that comes out of order is noticed: nothing more starts early, and an HSM whose folders changed after its
check started is checked again with all of them. Each HSM is asked about its newest folders only
(model/freshness.py), so a folder's blobs are listed only when its completeness decides the answer."""

from datetime import datetime, timezone

from azext_hsmbackup._parallel import in_parallel
from azext_hsmbackup._secrets import secrets_redacted
from azext_hsmbackup.errors import EXIT_NOT_FRESH, EXIT_UNCONFIRMED, fail_after_output
from azext_hsmbackup.model.freshness import (
    MISSING,
    SKIPPED,
    STALE,
    UNKNOWN,
    Freshness,
    describe_age,
    freshness_entry,
    freshness_of,
)
from azext_hsmbackup.model.retention import Folder
from azext_hsmbackup.operations import access
from azext_hsmbackup.operations.deletion import PARALLEL_HSMS
from azext_hsmbackup.operations.fleet import members_of
from azext_hsmbackup.operations.job import storage_call
from azext_hsmbackup.service import blob
from azext_hsmbackup.service.failures import from_storage_error

# The newest a folder name's time stamp can be: every folder of an HSM sorts at or before mhsm-<name>-<this>.
_LAST_STAMP = "9" * 16


def check(cmd, fleet, max_age):
    """One entry per HSM, in the order given or listed by ARM; exit 13 after the output when one is Stale or
    Missing, else 12 when one could not be checked."""
    members = members_of(cmd, fleet, task="check", nothing_done="nothing was checked")
    target = fleet.storage
    asked = [m for m in members if not m.skip_reason]
    now = datetime.now(timezone.utc)
    results = {}
    if asked:
        with secrets_redacted(target.sas_token):
            client, minted = access.cli_container(cmd, target, "rl")  # a minted one serves the HSMs' checks too
            with secrets_redacted(minted), client:
                auth, hsm_secret = access.hsm_read_access(cmd, target, minted=minted)
                urls = {m.hsm_name.lower(): m.hsm_url for m in asked}
                with secrets_redacted(hsm_secret), access.hsm_judge(cmd, target, auth, lambda n: urls[n.lower()]) as j:

                    def load(folder):
                        return blob.blobs_of(client, folder.name)

                    results = storage_call(lambda: _assess(client, urls, j, load, now=now, max_age=max_age), target)
    entries = []
    for member in members:
        skipped = Freshness(SKIPPED, reason=member.skip_reason) if member.skip_reason else None
        result = skipped or results[member.hsm_name.lower()]
        if isinstance(result, Exception):  # storage refused a folder's listing: the command's error, as one line
            raise from_storage_error(result, target.container_uri, secrets=[target.sas_token]) or result
        entries.append(freshness_entry(member, result, target.container_uri, now, max_age))
    _exit_code(cmd, entries, max_age)
    return entries


def _assess(client, names, judge, load, *, now, max_age):
    """{HSM name in lower case: its Freshness (or the exception its check met)}, for every name of `names`."""
    folders = {name: [] for name in names}
    started, order = {}, []  # name -> how many of its folders its check began with; the names in the order given

    def ready():
        """The names whose folders are all listed, as the listing passes them; the rest at its end."""
        pending = sorted((f"mhsm-{name}-{_LAST_STAMP}", name) for name in names)
        last, ordered = "", True
        for name, hsm, when in blob.backup_folders(client):
            ordered = ordered and name >= last
            last = name
            if hsm.lower() in folders:
                folders[hsm.lower()].append(Folder(name, hsm, when))
            while ordered and pending and pending[0][0] < name:
                order.append(pending.pop(0)[1])
                yield order[-1]
        order.extend(name for _, name in pending)
        yield from (name for _, name in pending)

    def work(name):
        started[name] = len(folders[name])
        newest_first = sorted(folders[name], key=lambda f: (f.when, f.name), reverse=True)
        return freshness_of(newest_first, judge, load, now, max_age)

    results = dict(zip(order, in_parallel(ready(), work, PARALLEL_HSMS, "hsm-fresh")))
    again = [name for name in names if started.get(name) != len(folders[name])]  # an out-of-order listing
    results.update(zip(again, in_parallel(again, work, PARALLEL_HSMS, "hsm-fresh")))
    return results


def _exit_code(cmd, entries, max_age):
    not_fresh = [e for e in entries if e["state"] in (STALE, MISSING)]
    unknown = [e for e in entries if e["state"] == UNKNOWN]
    if not_fresh:
        fail_after_output(
            cmd.cli_ctx,
            EXIT_NOT_FRESH,
            f"{len(not_fresh)} of {len(entries)} HSM(s) have no finished backup within --max-age "
            f"{describe_age(max_age)}: {_named(not_fresh)}.",
        )
    elif unknown:
        fail_after_output(
            cmd.cli_ctx,
            EXIT_UNCONFIRMED,
            f"{len(unknown)} of {len(entries)} HSM(s) could not confirm their newest backup, so their freshness is "
            f"unknown: {_named(unknown)}. The output says why.",
        )


def _named(entries):
    shown = ", ".join(f"{e['hsmName']} ({e['state']})" for e in entries[:10])
    return shown + (f" and {len(entries) - 10} more" if len(entries) > 10 else "")
