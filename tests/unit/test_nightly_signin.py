"""examples/nightly.sh, driven with a fake `az` (tests/unit/nightly_run.py): the managed identity sign-in, the az it
runs, and that it never reads stdin nor needs a terminal."""

import os
import shlex
import shutil
import subprocess

import pytest

from tests.unit.nightly_run import BASH, CLIENT_ID, Run, argv


@pytest.fixture
def run(tmp_path):
    return Run(tmp_path)


# ---- the managed identity sign-in ------------------------------------------------------------------------------


def test_identity_login_with_client_id_on_a_current_az(run):
    result = run(HSMBACKUP_LOGIN_IDENTITY="true", HSMBACKUP_IDENTITY_CLIENT_ID=CLIENT_ID)
    assert result.returncode == 0, result.stderr
    assert [c["call"] for c in result.calls] == ["login-help", "login", "create", "prune", "freshness"]
    assert argv(result, "login") == ["login", "--identity", "--client-id", CLIENT_ID, "--output", "json"]
    assert result.calls[1]["env"]["AZURE_CORE_USE_MSAL_MANAGED_IDENTITY"] == "true"
    assert not (run.out / "login.json").exists()  # the account list is not kept


def test_identity_login_with_username_on_an_old_az(run):
    old_help = "Arguments\n    --username -u : User name, service principal, or managed service identity ID.\n"
    result = run(
        {"login-help": {"stdout": old_help}}, HSMBACKUP_LOGIN_IDENTITY="TRUE", HSMBACKUP_IDENTITY_CLIENT_ID=CLIENT_ID
    )
    assert result.returncode == 0, result.stderr
    assert argv(result, "login") == ["login", "--identity", "--username", CLIENT_ID, "--output", "json"]


def test_identity_login_without_client_id_is_the_system_assigned_one(run):
    result = run(HSMBACKUP_LOGIN_IDENTITY="1", AZURE_CORE_USE_MSAL_MANAGED_IDENTITY="false")
    assert result.returncode == 0, result.stderr
    assert [c["call"] for c in result.calls] == ["login", "create", "prune", "freshness"]
    assert argv(result, "login") == ["login", "--identity", "--output", "json"]
    assert result.calls[0]["env"]["AZURE_CORE_USE_MSAL_MANAGED_IDENTITY"] == "false"  # the user's choice stands


def test_a_failed_identity_login_stops_before_any_step(run):
    spec = {"login": {"stdout": "", "stderr": "ERROR: No Managed Identity found.\nRun az login.\n", "rc": 1}}
    result = run(spec, HSMBACKUP_LOGIN_IDENTITY="true", HSMBACKUP_IDENTITY_CLIENT_ID=CLIENT_ID)
    assert result.returncode == 1
    assert [c["call"] for c in result.calls] == ["login-help", "login"]
    assert "FAILED: az login --identity exited 1: ERROR: No Managed Identity found." in result.stdout


@pytest.mark.parametrize("value", ["false", "", "0", "no"])
def test_without_login_identity_the_present_sign_in_is_used(run, value):
    result = run(HSMBACKUP_LOGIN_IDENTITY=value)
    assert result.returncode == 0
    assert [c["call"] for c in result.calls] == ["create", "prune", "freshness"]


def test_a_client_id_without_login_identity_is_noted_not_used(run):
    result = run(HSMBACKUP_IDENTITY_CLIENT_ID=CLIENT_ID)
    assert result.returncode == 0
    assert "HSMBACKUP_IDENTITY_CLIENT_ID is ignored" in result.stderr
    assert [c["call"] for c in result.calls] == ["create", "prune", "freshness"]


def test_hsmbackup_az_names_the_az_to_run(run, tmp_path):
    other = tmp_path / "other-az"
    shutil.copy(run.bin / "az", other)
    (run.bin / "az").unlink()
    result = run(HSMBACKUP_AZ=str(other))
    assert result.returncode == 0, result.stderr
    assert [c["call"] for c in result.calls] == ["create", "prune", "freshness"]


# ---- unattended: no stdin, no terminal, CI=true -----------------------------------------------------------------


@pytest.mark.parametrize("how", ["devnull", "open-pipe", "closed"])
def test_never_reads_stdin(run, how):
    settings = {"CI": "true", "HSMBACKUP_LOGIN_IDENTITY": "true", "HSMBACKUP_IDENTITY_CLIENT_ID": CLIENT_ID}
    if how == "devnull":
        result = run(stdin=subprocess.DEVNULL, **settings)
    elif how == "open-pipe":
        read_end, write_end = os.pipe()  # nobody ever writes or closes it: a read would hang until the timeout
        try:
            result = run(stdin=read_end, **settings)
        finally:
            os.close(read_end)
            os.close(write_end)
    else:
        closer = run.tmp / "closed-stdin-bash"
        closer.write_text(f'#!/bin/sh\nexec {shlex.quote(BASH)} "$@" <&-\n')
        closer.chmod(0o755)
        result = run(shell=str(closer), **settings)
    assert result.returncode == 0, result.stderr
    assert len(result.calls) == 5
    assert {c["stdin"] for c in result.calls} == {"devnull"}
    assert {c["env"]["CI"] for c in result.calls} == {"true"}
