"""`-o table` views."""

from collections import OrderedDict


def job_table(result):
    """One row per job: the columns a person scans for, in the order they read them."""
    rows = result if isinstance(result, list) else [result]
    return [
        OrderedDict(
            [
                ("Status", row.get("status")),
                ("FolderName", row.get("folderName")),
                ("JobId", row.get("jobId")),
                ("StartTime", row.get("startTime")),
                ("EndTime", row.get("endTime")),
            ]
        )
        for row in rows
    ]
