"""The main paths of `az hsm-backup` as azure-cli-testsdk ScenarioTests: create with a SAS and with the HSM's
managed identity, `--no-wait` then `wait`, show, list, the pre-backup and pre-restore checks, the restore of one
key, prune `--what-if`, several HSMs with `--ids`, and mistakes with their exit codes.

Replayed from recordings/*.yaml by default (no network, no sign-in); `make record` runs them live against the local
stack and writes the recordings anew; with AZURE_TEST_RUN_LIVE=true and HSMBACKUP_TEST_* they run against a real
subscription (README, "Test against your own subscription").
"""

from azext_hsmbackup.tests.latest.base import HsmBackupScenarioTest, join_pollers

FOLDER_NAME = "^mhsm-{hsm}-[0-9]{{16}}$"  # a kwargs template: {hsm} is filled in, {{16}} is the regex's {16}
NO_SUCH_JOB = "0123456789abcdef0123456789abcdef"


class HsmBackupScenarioTests(HsmBackupScenarioTest):
    def backed_up(self, *extra):
        """A backup of the HSM into the container with the HSM's own identity; its output, also in kwargs."""
        out = self.cmd(
            "hsm-backup create --hsm-name {hsm} --storage-container-uri {container_uri} --mi " + " ".join(extra),
        ).get_output_in_json()
        self.kwargs.update(job=out["jobId"], folder=out["folderName"], folder_url=out["folderUrl"])
        return out

    def succeeded(self):
        return [
            self.check("status", "Succeeded"),
            self.check("hsmUrl", "{hsm_url}"),
            self.check_pattern("folderName", FOLDER_NAME),
        ]

    # ---- create -----------------------------------------------------------------------------------------------

    def test_hsm_backup_create_with_sas(self):
        self.cmd(
            "hsm-backup create --hsm-name {hsm} --storage-account-name {account} --storage-container-name {container} "
            "--sas-token @{sas_file}",
            checks=[
                *self.succeeded(),
                self.check("storageContainerUri", "{container_uri}"),
                self.exists("jobId"),
                self.exists("endTime"),
            ],
        )

    def test_hsm_backup_create_with_managed_identity(self):
        out = self.backed_up()
        self.assertEqual(out["status"], "Succeeded")
        self.assertEqual(out["folderUrl"], f"{out['storageContainerUri']}/{out['folderName']}")
        self.assertEqual(out["storageContainerUri"], self.kwargs["container_uri"])
        self.assertRegex(out["folderName"], self._apply_kwargs(FOLDER_NAME))

    def test_hsm_backup_no_wait_then_wait(self):
        started = self.backed_up("--no-wait")
        self.assertEqual(started["status"], "InProgress")
        self.assertIsNone(started["folderName"])  # named only when the job has ended
        join_pollers()
        self.cmd(
            "hsm-backup wait --hsm-name {hsm} --job-id {job}",
            checks=[*self.succeeded(), self.check("jobId", "{job}"), self.check("operation", "backup")],
        )

    # ---- show, list ---------------------------------------------------------------------------------------------

    def test_hsm_backup_show(self):
        self.backed_up()
        self.cmd(
            "hsm-backup show --id {hsm_url} --job-id {job}",
            checks=[
                self.check("operation", "backup"),
                self.check("status", "Succeeded"),
                self.check("jobId", "{job}"),
                self.check("folderName", "{folder}"),
                self.check("error", None),
            ],
        )

    def test_hsm_backup_list(self):
        self.backed_up()
        listed = self.cmd(
            "hsm-backup list --storage-container-uri {container_uri} --hsm-name {hsm}",
            checks=[self.check("length([?folderName=='{folder}'])", 1), self.check("[0].hsmName", "{hsm}")],
        ).get_output_in_json()
        self.assertEqual({entry["hsmName"] for entry in listed}, {self.kwargs["hsm"]})
        self.assertEqual(listed[0]["folderName"], self.kwargs["folder"])  # newest first

    # ---- checks, restore ----------------------------------------------------------------------------------------

    def test_hsm_backup_check_backup(self):
        self.cmd(
            "hsm-backup check backup --hsm-name {hsm} --storage-container-uri {container_uri} --mi",
            checks=[self.check("check", "backup"), self.check("status", "Succeeded")],
        )

    def test_hsm_backup_check_restore(self):
        self.backed_up()
        self.cmd(
            "hsm-backup check restore --hsm-name {hsm} --folder-url {folder_url} --mi",
            checks=[self.check("check", "restore"), self.check("status", "Succeeded")],
        )

    def test_hsm_backup_restore_one_key(self):
        self.backed_up()
        self.cmd(
            "hsm-backup restore --hsm-name {hsm} --folder-url {folder_url} --key-name {key} --mi --yes",
            checks=[self.check("status", "Succeeded"), self.check("folderUrl", "{folder_url}")],
        )

    # ---- prune ------------------------------------------------------------------------------------------------

    def test_hsm_backup_prune_what_if(self):
        older = self.backed_up()["folderName"]
        newer = self.backed_up()["folderName"]
        self.kwargs.update(older=older, newer=newer)
        self.cmd(
            "hsm-backup prune --storage-container-uri {container_uri} --hsm-name {hsm} --keep 1 --what-if --mi",
            checks=[
                self.check("whatIf", True),
                self.check("deleted", []),
                self.check("length(wouldDelete[?folderName=='{older}'])", 1),
                self.check("length(kept[?folderName=='{newer}'])", 1),
                self.check("length(wouldDelete[?folderName=='{newer}'])", 0),
            ],
        )

    # ---- several HSMs -------------------------------------------------------------------------------------------

    def test_hsm_backup_fleet_ids(self):
        # The HSM's URL and its resource ID name the same HSM: one job, one entry.
        self.cmd(
            "hsm-backup create --ids {hsm_url} {hsm_id} --storage-container-uri {container_uri} --mi --max-parallel 2",
            checks=[
                self.check("length(@)", 1),
                self.check("[0].hsmName", "{hsm}"),
                self.check("[0].hsmUrl", "{hsm_url}"),
                self.check("[0].status", "Succeeded"),
                self.check("[0].error", None),
                self.check_pattern("[0].folderName", FOLDER_NAME),
            ],
        )

    # ---- mistakes and their exit codes ----------------------------------------------------------------------------

    def test_hsm_backup_bad_max_parallel_exits_2(self):
        self.exits_with(
            2,
            "hsm-backup create --ids {hsm_url} {hsm_id} --storage-container-uri {container_uri} --mi --max-parallel 0",
        )
        self.sent_nothing()

    def test_hsm_backup_missing_storage_exits_2(self):
        self.exits_with(2, "hsm-backup create --hsm-name {hsm} --mi")
        self.sent_nothing()

    def test_hsm_backup_unknown_job_exits_3(self):
        self.kwargs["job"] = NO_SUCH_JOB
        self.exits_with(3, "hsm-backup show --hsm-name {hsm} --job-id {job}")

    def test_hsm_backup_storage_refusing_the_sas_exits_5(self):
        self.exits_with(5, "hsm-backup list --storage-container-uri {container_uri} --sas-token {forged_sas}")
