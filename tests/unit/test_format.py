"""The `-o table` views (_format.py)."""

from azext_hsmbackup._format import deletion_table

STAMP_FOLDER = "mhsm-myhsm-2026010112000050"


def test_deletion_table_shows_what_went_would_go_was_gone_or_stayed_and_why():
    done = {
        "deleted": [{"folderName": STAMP_FOLDER, "hsmName": "myhsm", "backupTime": "t", "blobsDeleted": 3}],
        "alreadyGone": [{"folderName": "g", "hsmName": "myhsm", "backupTime": "t", "reason": "another run"}],
        "leftAlone": [{"folderName": "l", "hsmName": "myhsm", "backupTime": "t", "reason": "not judged: 403"}],
    }
    preview = {"wouldDelete": [{"folderName": STAMP_FOLDER, "hsmName": "myhsm", "backupTime": "t", "blobCount": 4}]}
    assert [list(r.values()) for r in deletion_table(done)] == [
        ["Deleted", STAMP_FOLDER, "myhsm", "t", 3, ""],
        ["Already gone", "g", "myhsm", "t", "", "another run"],
        ["Left alone", "l", "myhsm", "t", "", "not judged: 403"],
    ]
    assert [list(r.values()) for r in deletion_table(preview)] == [["Would delete", STAMP_FOLDER, "myhsm", "t", 4, ""]]
    assert deletion_table({"deleted": [], "wouldDelete": []}) == []
