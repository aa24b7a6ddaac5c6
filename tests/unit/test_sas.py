"""SAS checks: what the service would refuse is refused here first, naming what is wrong."""

from datetime import datetime, timedelta, timezone

import pytest
from azure.cli.core.azclierror import InvalidArgumentValueError

from azext_hsmbackup.sas import check_sas, normalize_sas

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def sas(perms="crdw", expiry=NOW + timedelta(days=2)):
    return f"sv=2026-04-06&sr=c&sp={perms}&se={expiry:%Y-%m-%dT%H:%M:%SZ}&sig=SECRETSIG"


def test_good_token_passes_without_warning():
    assert check_sas(sas(), "crdw", now=NOW) == []


def test_account_sas_with_more_letters_passes():
    assert check_sas(sas("rwdlacupx"), "crdw", now=NOW) == []


def test_expired():
    with pytest.raises(InvalidArgumentValueError) as info:
        check_sas(sas(expiry=NOW - timedelta(minutes=1)), "crdw", now=NOW)
    assert "expired" in info.value.error_msg and "SECRETSIG" not in info.value.error_msg


def test_short_lived_warns():
    warnings = check_sas(sas(expiry=NOW + timedelta(hours=2)), "crdw", now=NOW)
    assert len(warnings) == 1 and "24 hours" in warnings[0]


@pytest.mark.parametrize("perms, missing", [("rl", "cdw"), ("crw", "d"), ("", "crdw")])
def test_missing_permissions_are_named(perms, missing):
    with pytest.raises(InvalidArgumentValueError) as info:
        check_sas(sas(perms), "crdw", now=NOW)
    assert f"'{missing}'" in info.value.error_msg


def test_stored_access_policy_skips_permission_check():
    assert check_sas("sv=2026-04-06&si=policy1&sr=c&sig=x", "crdw", now=NOW) == []


@pytest.mark.parametrize("value", ["", "not a token", "sv=2020&sp=r", "?", "%%%"])
def test_not_a_sas(value):
    with pytest.raises(InvalidArgumentValueError) as info:
        normalize_sas(value)
    assert "--sas-token" in info.value.error_msg


def test_unparsable_expiry():
    with pytest.raises(InvalidArgumentValueError) as info:
        check_sas("sv=1&sp=crdw&se=tomorrow&sig=x", "crdw", now=NOW)
    assert "se='tomorrow'" in info.value.error_msg
