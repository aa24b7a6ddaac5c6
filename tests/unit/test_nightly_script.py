"""examples/nightly.sh, driven with a fake `az` (tests/unit/nightly_run.py): its settings, the three steps and their
arguments, the summary and the exit code. The sign-in and stdin: test_nightly_signin.py."""

import json

import pytest

from tests.unit.nightly_run import URI, Run, argv, entry, fresh, summary


@pytest.fixture
def run(tmp_path):
    return Run(tmp_path)


# ---- all well, and what each step is asked -----------------------------------------------------------------------


def test_all_well_runs_the_three_steps_in_order_and_exits_0(run):
    result = run(
        {"create": {"stdout": [entry("hsm1"), entry("hsm2", "Skipped", reason="not activated")]}},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert [c["call"] for c in result.calls] == ["create", "prune", "freshness"]
    assert argv(result, "create") == [
        "hsm-backup", "create", "--all", "--storage-container-uri", URI, "--use-user-managed-identity",
        "--output", "json",
    ]  # fmt: skip
    assert argv(result, "prune") == [
        "hsm-backup", "prune", "--storage-container-uri", URI, "--keep", "7", "--yes", "--use-user-managed-identity",
        "--output", "json",
    ]  # fmt: skip
    assert argv(result, "freshness") == [
        "hsm-backup", "check", "freshness", "--all", "--storage-container-uri", URI, "--use-user-managed-identity",
        "--max-age", "26h", "--output", "json",
    ]  # fmt: skip
    assert "NOT BACKED UP" not in result.stdout and "NOT FRESH" not in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("nightly.sh: OK: 2 HSM(s)")
    for call in result.calls:
        assert call["env"]["AZURE_CORE_DISABLE_CONFIRM_PROMPT"] == "true"
        assert call["env"]["AZURE_CORE_ONLY_SHOW_ERRORS"] == "true"
        assert "AZURE_CORE_USE_MSAL_MANAGED_IDENTITY" not in call["env"]  # only for the identity sign-in
    saved = json.loads((run.out / "create.json").read_text())
    assert [e["hsmName"] for e in saved] == ["hsm1", "hsm2"]
    assert json.loads((run.out / "prune.json").read_text())["deleted"] == []
    assert json.loads((run.out / "freshness.json").read_text()) == []


def test_resource_group_subscription_keep_and_max_age(run):
    result = run(
        HSMBACKUP_RESOURCE_GROUP="prod-rg",
        HSMBACKUP_SUBSCRIPTION="my sub",
        HSMBACKUP_KEEP="30",
        HSMBACKUP_MAX_AGE="2d",
        AZURE_CORE_ONLY_SHOW_ERRORS="false",
    )
    assert result.returncode == 0, result.stderr
    scope = ["--resource-group", "prod-rg", "--subscription", "my sub"]
    assert argv(result, "create")[3:7] == scope
    assert argv(result, "freshness")[4:8] == scope
    prune = argv(result, "prune")
    assert "--subscription" not in prune and "--resource-group" not in prune  # prune takes the container only
    assert prune[prune.index("--keep") + 1] == "30"
    fresh_argv = argv(result, "freshness")
    assert fresh_argv[fresh_argv.index("--max-age") + 1] == "2d"
    assert {c["env"]["AZURE_CORE_ONLY_SHOW_ERRORS"] for c in result.calls} == {"false"}  # the user's own choice


@pytest.mark.parametrize("keep", ["1", "10000", ""])
def test_keep_bounds_and_default(run, keep):
    result = run(HSMBACKUP_KEEP=keep)
    assert result.returncode == 0, result.stderr
    prune = argv(result, "prune")
    assert prune[prune.index("--keep") + 1] == (keep or "7")


def test_output_dir_default_is_a_new_temp_dir(run):
    result = run(output_dir=False)
    assert result.returncode == 0, result.stderr
    made = list(run.tmp.glob("hsmbackup-nightly.*"))
    assert len(made) == 1 and (made[0] / "create.json").exists() and (made[0] / "freshness.json").exists()
    assert f"outputs in {made[0]}" in result.stdout


def test_a_previous_runs_outputs_are_not_left_behind(run):
    run.out.mkdir()
    (run.out / "freshness.json").write_text('[{"hsmName": "old", "state": "Stale"}]')
    (run.out / "freshness.err").write_text("ERROR: last night\n")
    result = run({"freshness": {"stdout": "", "stderr": "ERROR: the check could not run\n", "rc": 7}})
    assert result.returncode == 7
    assert "old" not in result.stdout and "last night" not in result.stdout
    assert "check freshness: ERROR: the check could not run" in summary(result)


# ---- settings that are missing or wrong: one line, exit 2, nothing run ------------------------------------------


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"HSMBACKUP_CONTAINER_URI": None}, "HSMBACKUP_CONTAINER_URI is not set"),
        ({"HSMBACKUP_CONTAINER_URI": ""}, "HSMBACKUP_CONTAINER_URI is not set"),
        ({"HSMBACKUP_CONTAINER_URI": "  \t"}, "HSMBACKUP_CONTAINER_URI is not set"),
        ({"HSMBACKUP_KEEP": "0"}, "HSMBACKUP_KEEP must be a whole number from 1 to 10000, not '0'"),
        ({"HSMBACKUP_KEEP": "10001"}, "not '10001'"),
        ({"HSMBACKUP_KEEP": "-1"}, "not '-1'"),
        ({"HSMBACKUP_KEEP": "7.5"}, "not '7.5'"),
        ({"HSMBACKUP_KEEP": "seven"}, "not 'seven'"),
        ({"HSMBACKUP_KEEP": " 7"}, "not ' 7'"),
        ({"HSMBACKUP_KEEP": "07"}, "not '07'"),
        ({"HSMBACKUP_KEEP": "99999999999999999999"}, "HSMBACKUP_KEEP"),
        ({"HSMBACKUP_KEEP": "1\x1b[2J"}, "not '1?[2J'"),
        ({"HSMBACKUP_MAX_AGE": "26 h"}, "HSMBACKUP_MAX_AGE must be an age such as 26h, not '26 h'"),
        ({"HSMBACKUP_LOGIN_IDENTITY": "maybe"}, "HSMBACKUP_LOGIN_IDENTITY must be true or false, not 'maybe'"),
    ],
)
def test_bad_settings_one_line_exit_2_and_no_az(run, settings, words):
    result = run(**settings)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nightly.sh: ") and words in lines[0], result.stderr
    assert "\x1b" not in result.stderr
    assert result.calls == []


def test_an_output_dir_that_cannot_be_made_is_a_setting_error(run):
    (run.tmp / "file").write_text("")
    result = run(HSMBACKUP_OUTPUT_DIR=str(run.tmp / "file" / "out"))
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    assert "HSMBACKUP_OUTPUT_DIR" in result.stderr and result.calls == []


# ---- failures of one step: the others still run, the summary names the HSMs ----------------------------------


def test_create_failing_for_one_hsm_goes_on_and_names_it(run):
    failed = entry("hsm2", "Failed", error={"code": "Forbidden", "message": 'The "caller" may not back up'})
    busy = entry("hsm3", "Busy", error={"code": "Conflict", "message": "A restore is running"})
    result = run(
        {
            "create": {
                "stdout": [entry("hsm1"), failed, busy, entry("hsm4", "Skipped", reason="no identity")],
                "stderr": "ERROR: 2 of 4 HSMs were not backed up: hsm2, hsm3\n",
                "rc": 9,
            }
        }
    )
    assert result.returncode == 9
    assert [c["call"] for c in result.calls] == ["create", "prune", "freshness"]
    text = summary(result)
    assert "create exit 9, prune exit 0, check freshness exit 0" in text
    assert 'NOT BACKED UP  hsm2: Failed (Forbidden): The \\"caller\\" may not back up' in text
    assert "NOT BACKED UP  hsm3: Busy (Conflict): A restore is running" in text
    assert "hsm1" not in text and "hsm4" not in text
    assert "ERROR: 2 of 4 HSMs were not backed up" in result.stderr  # az's own line, in the log
    assert (run.out / "create.err").read_text().startswith("ERROR: 2 of 4")
    assert result.stdout.rstrip().splitlines()[-1].startswith("nightly.sh: FAILED (exit 9)")


def test_create_that_could_not_start_names_its_error_line(run):
    result = run(
        {
            "create": {"stdout": "", "stderr": "ERROR: not authorized to list the HSMs.\nSee the docs.\n", "rc": 5},
            "freshness": {"stdout": [fresh("hsm1")]},
        }
    )
    assert result.returncode == 5
    assert "create did not run: ERROR: not authorized to list the HSMs." in summary(result)
    assert [c["call"] for c in result.calls] == ["create", "prune", "freshness"]


def test_every_hsm_skipped_quotes_creates_line(run):
    result = run(
        {
            "create": {
                "stdout": [entry("hsm1", "Skipped", reason="not activated")],
                "stderr": "ERROR: every HSM was skipped\n",
                "rc": 9,
            }
        }
    )
    assert result.returncode == 9
    assert "create: ERROR: every HSM was skipped" in summary(result)


def test_stale_and_missing_hsms_are_named_and_exit_13(run):
    result = run(
        {
            "create": {
                "stdout": [entry("hsm1"), entry("hsm2", "Failed", error={"code": "X", "message": "m"})],
                "rc": 9,
            },
            "freshness": {
                "stdout": [
                    fresh("hsm1", lastBackupTime="2026-01-05T01:00:00Z", ageSeconds=3600),
                    fresh("hsm2", "Stale", reason="the newest backup is 3 days old", ageSeconds=259200),
                    fresh("hsm3", "Missing", reason="no backup in the container"),
                    fresh("hsm4", "Skipped", reason="not activated"),
                ],
                "rc": 13,
            },
        }
    )
    assert result.returncode == 13  # freshness first, over create's 9
    text = summary(result)
    assert "NOT FRESH      hsm2: Stale: the newest backup is 3 days old" in text
    assert "NOT FRESH      hsm3: Missing: no backup in the container" in text
    assert "NOT BACKED UP  hsm2: Failed (X): m" in text
    assert "hsm1:" not in text and "hsm4" not in text


def test_unknown_freshness_exit_12(run):
    result = run({"freshness": {"stdout": [fresh("hsm1", "Unknown", reason="storage refused the HSM")], "rc": 12}})
    assert result.returncode == 12
    assert "NOT FRESH      hsm1: Unknown: storage refused the HSM" in summary(result)


def test_prune_12_names_each_hsm_once_and_is_the_exit_code(run):
    left = [
        {"folderName": f"mhsm-hsm2-2026010{i}0000000", "hsmName": "hsm2", "reason": "the HSM could not be asked"}
        for i in range(1, 4)
    ]
    result = run(
        {
            "prune": {
                "stdout": {"deleted": [{"hsmName": "hsm1", "folderName": "f"}], "leftAlone": left, "kept": []},
                "stderr": "ERROR: hsm2 could not confirm its backups\n",
                "rc": 12,
            }
        }
    )
    assert result.returncode == 12
    text = summary(result)
    assert text.count("LEFT ALONE     hsm2: prune kept all its backups: the HSM could not be asked") == 1
    assert "hsm1" not in text


def test_prune_that_could_not_run_quotes_its_line(run):
    result = run({"prune": {"stdout": "", "stderr": "ERROR: storage refused the listing\n", "rc": 5}})
    assert result.returncode == 5
    assert "prune: ERROR: storage refused the listing" in summary(result)


def test_compact_json_is_read_too(run):
    compact = json.dumps([entry("a"), entry("b", "Failed", error={"code": "E1", "message": "x, [y] {z}"})])
    result = run({"create": {"stdout": compact + "\n", "rc": 9}})
    assert "NOT BACKED UP  b: Failed (E1): x, [y] {z}" in summary(result)
