"""check freshness over a container (operations/freshness.py): one delimiter listing, each HSM's check started as
soon as the listing has passed its folders, a listing out of order met, and only the newest folders' blobs read."""

import threading
from datetime import timedelta
from types import SimpleNamespace

from azext_hsmbackup.model import freshness as f
from azext_hsmbackup.operations import freshness
from tests.unit.fakes import NOW, Container, Judge, backup

MAX = timedelta(hours=26)


class Listing(Container):
    """A container whose delimiter listing is a generator, as the SDK's pages are: `order` may scramble it, and
    `pause_after` holds it after that many folders until `go` is set (to see what starts meanwhile)."""

    def __init__(self, *blobs, order=None, pause_after=None):
        super().__init__(*blobs)
        self.order, self.pause_after, self.go = order, pause_after, threading.Event()
        self.blob_listings = []

    def walk_blobs(self, delimiter="/"):
        tops = super().walk_blobs(delimiter)
        for index, item in enumerate(self.order(tops) if self.order else tops):
            if index == self.pause_after:
                assert self.go.wait(5), "nothing released the listing"
            yield item

    def list_blobs(self, name_starts_with=""):
        self.blob_listings.append(name_starts_with)
        return super().list_blobs(name_starts_with)


def assess(client, names, judge):
    load = lambda folder: client.list_blobs(folder.name + "/")  # noqa: E731
    return freshness._assess(client, names, judge, load, now=NOW, max_age=MAX)


def test_one_listing_and_only_the_newest_folder_of_each_hsm_is_read_and_asked():
    client = Listing(*[b for hsm in ("hsmaa", "hsmbb") for days in (0.1, 1, 2, 3) for b in backup(hsm, days)])
    judge = Judge()
    results = assess(client, ["hsmaa", "hsmbb", "hsmcc"], judge)
    assert client.listings == 1 + 2  # the delimiter listing, then one folder's blobs per HSM
    assert [r.state for r in (results["hsmaa"], results["hsmbb"], results["hsmcc"])] == [f.FRESH, f.FRESH, f.MISSING]
    assert sorted(judge.asked) == sorted(results[h].folder.name for h in ("hsmaa", "hsmbb"))
    assert len(client.blob_listings) == 2


def test_an_hsms_check_starts_while_the_listing_goes_on_once_it_has_passed_its_folders():
    blobs = [b for hsm in ("hsmaa", "hsmab", "hsmzz") for b in backup(hsm, 0.1)]
    client = Listing(*blobs, pause_after=2)  # holds after aa's and ab's folders, before zz's
    judge = Judge()

    def asked(folder):  # aa's folders are all listed once ab's come: its check runs before the listing goes on
        verdict = judge(folder)
        if folder.hsm == "hsmaa":
            client.go.set()
        return verdict

    results = assess(client, ["hsmaa", "hsmzz"], asked)
    assert results["hsmaa"].state == f.FRESH and results["hsmzz"].state == f.FRESH


def test_an_hsm_whose_name_starts_another_waits_for_all_its_folders():
    # mhsm-ab-1x-... sorts between ab's own folders (digits after '-'): ab is only ready past mhsm-ab-9999...
    blobs = [*backup("hsmab", 3), *backup("hsmab-1x", 0.1), *backup("hsmab", 0.1)]
    results = assess(Listing(*blobs), ["hsmab"], Judge())
    assert results["hsmab"].state == f.FRESH and results["hsmab"].folder.when > NOW - timedelta(days=1)


def test_a_listing_out_of_order_is_noticed_and_an_hsm_checked_too_early_is_checked_again():
    blobs = [*backup("hsmaa", 3), *backup("hsmbb", 2), *backup("hsmaa", 0.1)]
    client = Listing(*blobs, order=lambda tops: [tops[0], tops[2], tops[1]])  # hsmaa's newest after hsmbb's
    results = assess(client, ["hsmaa", "hsmbb"], Judge())
    assert results["hsmaa"].state == f.FRESH, results["hsmaa"]  # checked too early (Stale), then again


def test_a_storage_error_reading_a_folder_is_that_hsms_result_for_the_command_to_raise():
    client = Listing(*backup("hsmaa", 0.1))

    def refused(folder):
        raise PermissionError("AuthorizationPermissionMismatch")

    results = freshness._assess(client, ["hsmaa"], Judge(), refused, now=NOW, max_age=MAX)
    assert isinstance(results["hsmaa"], PermissionError)


def test_exit_codes_not_fresh_wins_over_unknown():
    events = []
    cmd = SimpleNamespace(cli_ctx=SimpleNamespace(register_event=lambda name, handler: events.append(handler)))
    rows = [{"hsmName": "a", "state": "Fresh"}, {"hsmName": "b", "state": "Unknown"}]
    freshness._exit_code(cmd, rows, MAX)
    freshness._exit_code(cmd, [*rows, {"hsmName": "c", "state": "Missing"}], MAX)
    freshness._exit_code(cmd, [rows[0], {"hsmName": "s", "state": "Skipped"}], MAX)
    codes = []
    for handler in events:
        try:
            handler(None)
        except SystemExit as exit_:
            codes.append((exit_.code, exit_.error.error_msg))
    assert codes == [
        (12, "1 of 2 HSM(s) could not confirm their newest backup, so their freshness is unknown: b (Unknown). "
             "The output says why."),
        (13, "1 of 3 HSM(s) have no finished backup within --max-age 1d 2h: c (Missing)."),
    ]  # fmt: skip
