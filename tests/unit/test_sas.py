"""SAS checks: what the service would refuse is refused here first, naming what is wrong."""

import json
from datetime import datetime, timedelta, timezone

import pytest

from azext_hsmbackup.model.problems import InvalidValue
from azext_hsmbackup.model.sas import check_sas, normalize_sas
from azext_hsmbackup.model.target import resolve_restore_target, resolve_storage_target, resolve_target

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def sas(perms="crdw", expiry=NOW + timedelta(days=2)):
    return f"sv=2026-04-06&sr=c&sp={perms}&se={expiry:%Y-%m-%dT%H:%M:%SZ}&sig=SECRETSIG"


def test_good_token_passes_without_warning():
    assert check_sas(sas(), "crdw", now=NOW) == []


def test_account_sas_with_more_letters_passes():
    assert check_sas(sas("rwdlacupx"), "crdw", now=NOW) == []


def test_expired():
    with pytest.raises(InvalidValue) as info:
        check_sas(sas(expiry=NOW - timedelta(minutes=1)), "crdw", now=NOW)
    assert "expired" in info.value.error_msg and "SECRETSIG" not in info.value.error_msg


def test_short_lived_warns():
    warnings = check_sas(sas(expiry=NOW + timedelta(hours=2)), "crdw", now=NOW)
    assert len(warnings) == 1 and "24 hours" in warnings[0]


@pytest.mark.parametrize("perms, missing", [("rl", "cdw"), ("crw", "d"), ("", "crdw")])
def test_missing_permissions_are_named(perms, missing):
    with pytest.raises(InvalidValue) as info:
        check_sas(sas(perms), "crdw", now=NOW)
    assert f"'{missing}'" in info.value.error_msg


def test_stored_access_policy_skips_permission_check():
    assert check_sas("sv=2026-04-06&si=policy1&sr=c&sig=x", "crdw", now=NOW) == []


@pytest.mark.parametrize("value", ["", "not a token", "sv=2020&sp=r", "?", "%%%"])
def test_not_a_sas(value):
    with pytest.raises(InvalidValue) as info:
        normalize_sas(value)
    assert "--sas-token" in info.value.error_msg


def test_unparsable_expiry():
    with pytest.raises(InvalidValue) as info:
        check_sas("sv=1&sp=crdw&se=tomorrow&sig=x", "crdw", now=NOW)
    assert "se='tomorrow'" in info.value.error_msg


# `az storage container generate-sas` without `-o tsv` prints the token as a JSON string; `@file` hands us that.
def test_json_quoted_token_as_generate_sas_writes_it_is_read():
    token = sas()
    assert normalize_sas(json.dumps(token) + "\n") == token
    assert normalize_sas(json.dumps("?" + token)) == token


@pytest.mark.parametrize("value", ['"' + "sv=1&sig=x", '"sv=1&sig=x" trailing', '"\\x"'])
def test_broken_json_quoted_token_is_refused_without_echo(value):
    with pytest.raises(InvalidValue) as info:
        normalize_sas(value)
    assert "JSON string" in info.value.error_msg and "sig=x" not in info.value.error_msg
    assert "-o tsv" in " ".join(info.value.recommendations)


@pytest.mark.parametrize("value", ["", "   ", "\n", "\t \r\n", json.dumps("  ")])
def test_empty_or_whitespace_token_is_bad_input(value):
    with pytest.raises(InvalidValue) as info:
        normalize_sas(value)
    assert "--sas-token" in info.value.error_msg


def test_absurdly_long_token_is_refused_without_echo():
    with pytest.raises(InvalidValue) as info:
        normalize_sas("sv=1&sig=" + "A" * 20000)
    assert "too long" in info.value.error_msg and "AAAA" not in info.value.error_msg


SOON = (datetime.now(timezone.utc) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_short_lived_sas_warns_only_where_the_hsm_runs_a_job():
    short = f"sv=2026-04-06&sr=c&sp=racwdl&se={SOON}&sig=x"
    container = {"storage_container_uri": "https://acct.blob.core.windows.net/bkp", "sas_token": short}
    hsm = {"hsm_name": "myhsm", "mhsm_dns_suffix": ".managedhsm.azure.net"}
    _, job_warnings = resolve_target(**hsm, **container)
    _, restore_warnings = resolve_restore_target(
        **hsm, folder_url="https://acct.blob.core.windows.net/bkp/mhsm-myhsm-2026010100000000", sas_token=short
    )
    assert len(job_warnings) == len(restore_warnings) == 1 and "24 hours" in job_warnings[0]
    for permissions in ("l", "ld"):
        _, storage_warnings = resolve_storage_target(**container, needed_permissions=permissions)
        assert storage_warnings == []
