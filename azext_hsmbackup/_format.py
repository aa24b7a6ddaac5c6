"""The `-o table` views of az hsm-backup: one row per job, HSM or backup folder."""

from collections import OrderedDict


def job_table(result):
    """One row per job: the columns a person scans for, in the order they read them."""
    if isinstance(result, list):  # several HSMs (operations/fleet.py): one row per HSM
        return fleet_table(result)
    if result.get("whatIf"):  # --what-if of one HSM: what would happen, not a job
        return [
            OrderedDict(
                [
                    ("Operation", result.get("operation") or ""),
                    ("HsmName", result.get("hsmName") or ""),
                    ("Storage", result.get("folderUrl") or result.get("storageContainerUri") or ""),
                    ("Message", result.get("message") or ""),
                ]
            )
        ]
    rows = [result]
    failed = any(row.get("error") for row in rows)  # show/wait: the service's reason, only when a job failed
    return [
        OrderedDict(
            [
                ("Status", row.get("status")),
                ("FolderName", row.get("folderName")),
                ("JobId", row.get("jobId")),
                ("StartTime", row.get("startTime")),
                ("EndTime", row.get("endTime")),
                *([("Error", (row.get("error") or {}).get("code"))] if failed else []),
            ]
        )
        for row in rows
    ]


def backup_table(result):
    """The backups in a container, newest first; what storage shows of each only when --details asked for it."""
    rows = []
    for row in result:
        view = OrderedDict(
            [("FolderName", row["folderName"]), ("HsmName", row["hsmName"]), ("BackupTime", row["backupTime"])]
        )
        if "blobCount" in row:
            view.update(Blobs=row["blobCount"], Bytes=row["sizeBytes"], State=row["state"])
        rows.append(view)
    return rows


_DELETION_ROWS = (
    ("Deleted", "deleted", "blobsDeleted"),
    ("Would delete", "wouldDelete", "blobCount"),
    ("Already gone", "alreadyGone", None),
    ("Left alone", "leftAlone", None),
)


def deletion_table(result):
    """delete and prune: one row per backup folder that went, would go (--what-if), was already gone or was left
    alone (with the reason); the backups that stay are in the JSON output's `kept`."""
    rows = []
    for action, key, count in _DELETION_ROWS:
        for row in result.get(key) or []:
            rows.append(
                OrderedDict(
                    [
                        ("Action", action),
                        ("FolderName", row.get("folderName")),
                        ("HsmName", row.get("hsmName")),
                        ("BackupTime", row.get("backupTime")),
                        ("Blobs", row.get(count, "") if count else ""),
                        ("Reason", row.get("reason") or ""),
                    ]
                )
            )
    return rows


def fleet_table(result):
    """Several HSMs: one row per HSM, in the output's order, with the error code or the reason it was skipped.

    Empty cells are "", not None: az's table leaves a None out of its row, and a column first seen in a later row
    would then move to the end."""
    return [
        OrderedDict(
            [
                ("HsmName", row.get("hsmName") or ""),
                ("Status", row.get("status") or ""),
                ("FolderName", row.get("folderName") or ""),
                ("JobId", row.get("jobId") or ""),
                ("Error", (row.get("error") or {}).get("code") or ""),
                ("Reason", (row.get("reason") if row.get("status") == "Skipped" else None) or ""),
            ]
        )
        for row in result
    ]


def freshness_table(result):
    """check freshness: one row per HSM, in the output's order; the reason only where the state is not Fresh."""
    return [
        OrderedDict(
            [
                ("HsmName", row.get("hsmName") or ""),
                ("State", row.get("state") or ""),
                ("LastBackupTime", row.get("lastBackupTime") or ""),
                ("Age", row.get("age") or ""),
                ("LastBackupFolder", row.get("lastBackupFolder") or ""),
                ("Reason", (row.get("reason") if row.get("state") != "Fresh" else None) or ""),
            ]
        )
        for row in result
    ]
