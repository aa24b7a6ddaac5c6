"""The host's SDK must not be one that replays `POST /backup` after a mid-poll 401 (rest-api.md, 4.4.0-4.7.1)."""

import pytest
from azure.cli.core.azclierror import ValidationError

from azext_hsmbackup._client_factory import check_sdk_version


@pytest.mark.parametrize("version", ["4.4.0", "4.5.0b1", "4.6.0", "4.7.0", "4.7.1", "4.8.0b1"])
def test_versions_with_the_replay_bug_are_refused_with_the_fix(version):
    with pytest.raises(ValidationError) as info:
        check_sdk_version(version)
    assert version in info.value.error_msg and "4.7.2" in info.value.error_msg


@pytest.mark.parametrize("version", ["4.7.2", "4.8.0b2", "4.8.0b3", "4.8.0", "5.0.0", "4.3.0"])
def test_fixed_or_unaffected_versions_pass(version):
    check_sdk_version(version)


def test_the_pinned_host_sdk_passes():
    from azure.keyvault.administration._version import VERSION

    check_sdk_version(VERSION)


@pytest.mark.parametrize("version", ["4.7.1", "4.8.0b1"])
def test_backup_client_refuses_such_an_sdk_before_it_signs_in_or_connects(monkeypatch, version):
    """The guard is wired where every HSM client is built: removing the call there fails this test."""
    import azure.keyvault.administration._version as sdk_version

    from azext_hsmbackup._client_factory import backup_client
    from azext_hsmbackup.errors import ExitWith

    monkeypatch.setattr(sdk_version, "VERSION", version)
    with pytest.raises(ExitWith) as info:
        backup_client(None, "https://myhsm.managedhsm.azure.net", "7.6")  # no CLI context: nothing past the guard
    assert info.value.code == 1
    assert version in info.value.error.error_msg and "4.7.2" in info.value.error.error_msg
