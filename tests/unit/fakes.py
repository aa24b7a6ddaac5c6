"""What the unit tests share: fake HSM addresses and ARM records, a service error with a code, a container of blobs
that honours ETags and an HSM that judges its folders, a clock the test moves, and the message of a refusal."""

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from azure.core.exceptions import HttpResponseError

from azext_hsmbackup.model import retention
from azext_hsmbackup.model.fleet import Member
from azext_hsmbackup.model.retention import Verdict
from azext_hsmbackup.operations import deletion

MHSM = ".managedhsm.azure.net"
SUB = "6a1c9e2b-4d3f-4b8a-9c7e-112233445566"
JOB = "0123456789abcdef0123456789abcdef"
CONTAINER = "https://acct.blob.core.windows.net/bkp"
HSMS = [Member(f"https://hs{i}{MHSM}", f"hs{i}") for i in range(4)]

UTC = timezone.utc
STAMP = datetime(2026, 1, 1, 12, 0, 0, 500000, tzinfo=UTC)  # mhsm-...-2026010112000050
NOW = datetime.now(UTC)


def http_error(status, code):
    """The error the SDK raises for a service answer with this status and error code."""
    response = SimpleNamespace(status_code=status, reason="x", headers={}, text=lambda: "", request=None)
    error = HttpResponseError(message=f"({code}) no", response=response)
    error.status_code, error.error = status, SimpleNamespace(code=code, message="no")
    return error


def rid(name, group="rg"):
    return f"/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.KeyVault/managedHSMs/{name}"


def record(name, activation="Active", state="Succeeded", identity="user"):
    """An ARM managedHSMs record as `az keyvault list --resource-type hsm` prints it."""
    ids = {"UserAssigned": {"userAssignedIdentities": {f"/x/{name}-id": {"principalId": "p"}}}}
    return {
        "id": rid(name),
        "name": name,
        "type": "Microsoft.KeyVault/managedHSMs",
        "identity": ids.get("UserAssigned") if identity == "user" else identity,
        "properties": {
            "hsmUri": f"https://{name}{MHSM}/",
            "provisioningState": state,
            "securityDomainProperties": {"activationStatus": activation},
        },
    }


def blob(name, size=10, created=STAMP + timedelta(seconds=5), etag=None):
    return SimpleNamespace(name=name, size=size, creation_time=created, last_modified=created, etag=etag or f"e-{name}")


def backup(hsm, days_ago, blobs=2, now=None):
    """The blobs of one backup folder of `hsm`, written `days_ago` days before `now`."""
    when = (now or NOW) - timedelta(days=days_ago)
    folder = f"mhsm-{hsm}-{when:%Y%m%d%H%M%S}00"
    return [blob(f"{folder}/keys/k{i}.json", created=when + timedelta(seconds=i + 1)) for i in range(blobs)]


class Container:
    """Enough of a ContainerClient for the retention code: a flat listing and deletes that honour an ETag."""

    def __init__(self, *blobs):
        self.blobs = {b.name: b for b in blobs}
        self.deleted = []
        self.listings = 0
        self.gone_with_412 = set()

    def list_blobs(self, name_starts_with=""):
        self.listings += 1
        return [b for n, b in sorted(self.blobs.items()) if n.startswith(name_starts_with)]

    def walk_blobs(self, delimiter="/"):
        """The top level: a prefix ("folder/") per folder, each once, and the blobs that sit at the top."""
        self.listings += 1
        tops = sorted({n.split(delimiter)[0] + delimiter if delimiter in n else n for n in self.blobs})
        return [SimpleNamespace(name=top) for top in tops]

    def delete_blob(self, name, etag=None, match_condition=None):
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError

        if name not in self.blobs:
            if name in self.gone_with_412:  # Azurite: a failed If-Match on a blob that is gone
                raise ResourceModifiedError("ConditionNotMet")
            raise ResourceNotFoundError("BlobNotFound")
        if etag is not None and self.blobs[name].etag != etag:
            raise ResourceModifiedError("ConditionNotMet")
        self.deleted.append(name)
        del self.blobs[name]


class Clock:
    """A monotonic clock that moves only when the test moves it."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


STORAGE = "core.windows.net"
FOLDER = "mhsm-myhsm-2026112812000000"
SUBSCRIPTION = "00000000-1111-2222-3333-444455556666"


def refused(error_class, call, *args, **kwargs):
    with pytest.raises(error_class) as info:
        call(*args, **kwargs)
    return info.value.error_msg


FINISHED_, NOT_FINISHED_ = Verdict(retention.FINISHED), Verdict(retention.NOT_FINISHED, "(InvalidBackupFolder) no")


class Judge:
    """The HSM's verdicts by folder name (finished unless told otherwise), and the folders it was asked about."""

    def __init__(self, **by_name):
        self.by_name, self.asked = by_name, []

    def __call__(self, folder):
        self.asked.append(folder.name)
        return self.by_name.get(folder.name, FINISHED_)


def folders(*specs):
    """Folders of (hsm, days ago) specs, newest first, with their blobs."""
    client = Container(*(b for hsm, days in specs for b in backup(hsm, days)))
    return deletion.folders_of(client, with_blobs=True)


def names(entries):
    return [e[0].name if isinstance(e, tuple) else e.name for e in entries]
