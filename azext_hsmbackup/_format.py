"""`-o table` views."""

from collections import OrderedDict


def job_table(result):
    """One row per job: the columns a person scans for, in the order they read them."""
    if isinstance(result, list):  # several HSMs (fleet_run.py): one row per HSM
        return fleet_table(result)
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
    """The backups in a container, newest first; the counts only when --details asked for them."""
    rows = []
    for row in result:
        view = OrderedDict(
            [("FolderName", row["folderName"]), ("HsmName", row["hsmName"]), ("BackupTime", row["backupTime"])]
        )
        if "blobCount" in row:
            view.update(Blobs=row["blobCount"], Bytes=row["sizeBytes"], Complete=row["complete"])
        rows.append(view)
    return rows


def deletion_table(result):
    """delete and prune: one row per backup folder, saying whether it went or would go (--what-if)."""
    rows = []
    for action, key, count in (("Deleted", "deleted", "blobsDeleted"), ("Would delete", "wouldDelete", "blobCount")):
        for row in result.get(key) or []:
            rows.append(
                OrderedDict(
                    [
                        ("Action", action),
                        ("FolderName", row.get("folderName")),
                        ("HsmName", row.get("hsmName")),
                        ("BackupTime", row.get("backupTime")),
                        ("Blobs", row.get(count)),
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
