"""URLs come from the cloud's own suffixes: the four clouds az knows best, and a custom one."""

import pytest
from azure.cli.core.cloud import (
    AZURE_CHINA_CLOUD,
    AZURE_PUBLIC_CLOUD,
    AZURE_US_GOV_CLOUD,
    Cloud,
    CloudEndpoints,
    CloudSuffixes,
)

from azext_hsmbackup.model.problems import InvalidValue
from azext_hsmbackup.model.target import resolve_target
from azext_hsmbackup.model.urls import check_container_uri

CUSTOM = Cloud(
    "HsmBackupLocal",
    endpoints=CloudEndpoints(),
    suffixes=CloudSuffixes(mhsm_dns=".managedhsm.hsmbackup.test", storage_endpoint="hsmbackup.test"),
)


@pytest.mark.parametrize(
    "cloud, hsm_url, container_uri",
    [
        (AZURE_PUBLIC_CLOUD, "https://myhsm.managedhsm.azure.net", "https://acct.blob.core.windows.net/bkp"),
        (AZURE_CHINA_CLOUD, "https://myhsm.managedhsm.azure.cn", "https://acct.blob.core.chinacloudapi.cn/bkp"),
        (
            AZURE_US_GOV_CLOUD,
            "https://myhsm.managedhsm.usgovcloudapi.net",
            "https://acct.blob.core.usgovcloudapi.net/bkp",
        ),
        (CUSTOM, "https://myhsm.managedhsm.hsmbackup.test", "https://acct.blob.hsmbackup.test/bkp"),
    ],
    ids=lambda v: getattr(v, "name", None),
)
def test_urls_from_cloud_suffixes(cloud, hsm_url, container_uri):
    target, _ = resolve_target(
        hsm_name="myhsm",
        storage_account_name="acct",
        storage_container_name="bkp",
        use_managed_identity=True,
        mhsm_dns_suffix=cloud.suffixes.mhsm_dns,
        storage_endpoint_suffix=cloud.suffixes.storage_endpoint,
    )
    assert (target.hsm_url, target.container_uri, target.hsm_name) == (hsm_url, container_uri, "myhsm")


def test_cloud_without_mhsm_suffix_points_to_id():
    with pytest.raises(InvalidValue) as info:
        resolve_target(
            hsm_name="myhsm",
            storage_container_uri="https://a.blob.core.windows.net/bkp",
            use_managed_identity=True,
            mhsm_dns_suffix=None,
        )
    assert "--id" in info.value.error_msg


@pytest.mark.parametrize("name", ["ab", "1hsm", "hsm-", "my--hsm", "a" * 25, "my_hsm", "my.hsm"])
def test_bad_hsm_names(name):
    with pytest.raises(InvalidValue) as info:
        resolve_target(
            hsm_name=name,
            storage_container_uri="https://a.blob.core.windows.net/bkp",
            use_managed_identity=True,
            mhsm_dns_suffix=".managedhsm.azure.net",
        )
    assert "--hsm-name" in info.value.error_msg


@pytest.mark.parametrize(
    "account, container, flag",
    [
        ("ab", "bk1", "--storage-account-name"),
        ("MyAccount", "bk1", "--storage-account-name"),
        ("acct", "b", "--storage-container-name"),
        ("acct", "Backups", "--storage-container-name"),
        ("acct", "bk--x", "--storage-container-name"),
        ("acct", "-bk", "--storage-container-name"),
    ],
)
def test_bad_storage_names(account, container, flag):
    with pytest.raises(InvalidValue) as info:
        resolve_target(
            hsm_id="https://h.managedhsm.azure.net",
            storage_account_name=account,
            storage_container_name=container,
            use_managed_identity=True,
            storage_endpoint_suffix="core.windows.net",
        )
    assert flag in info.value.error_msg


@pytest.mark.parametrize(
    "uri, fragment",
    [
        ("http://acct.blob.core.windows.net/bkp", "https"),
        ("https://acct.blob.core.windows.net", "names no container"),
        ("https://acct.blob.core.windows.net/bk/folder", "not a folder"),
        ("https://acct.file.core.windows.net/bkp", "blob endpoint"),
        ("https://acct.blob.core.windows.net/bk?sv=1&sig=abc", "SAS query string"),
        ("https://acct.blob.core.windows.net/BK", "container name"),
    ],
)
def test_bad_container_uris(uri, fragment):
    with pytest.raises(InvalidValue) as info:
        check_container_uri(uri)
    assert fragment in info.value.error_msg and "--storage-container-uri" in info.value.error_msg
    assert "sig=abc" not in info.value.error_msg


def test_path_style_container_uri_on_an_ip_endpoint():
    assert (
        check_container_uri("https://127.0.0.1:10000/devstoreaccount1/bkp/")
        == "https://127.0.0.1:10000/devstoreaccount1/bkp"
    )


@pytest.mark.parametrize(
    "hsm_name, account, container, flag",
    [
        ("myhsm\n", "acct", "bkp", "--hsm-name"),
        ("myhsm", "acct\n", "bkp", "--storage-account-name"),
        ("myhsm", "acct", "bkp\n", "--storage-container-name"),
        ("myhsm", "acct", "", "--storage-container-name"),
        ("myhsm", " ", "bkp", "--storage-account-name"),
    ],
)
def test_names_with_a_trailing_newline_or_blank_are_refused(hsm_name, account, container, flag):
    with pytest.raises(InvalidValue) as info:
        resolve_target(
            hsm_name=hsm_name,
            storage_account_name=account,
            storage_container_name=container,
            use_managed_identity=True,
            mhsm_dns_suffix=".managedhsm.azure.net",
            storage_endpoint_suffix="core.windows.net",
        )
    assert info.value.error_msg.startswith(flag)


@pytest.mark.parametrize(
    "uri",
    [
        "https://acct.blob.core.windows.net/bk\x0bp",
        "https://acct.blob.core.windows.net/b\x0b/x",
        "https://ac\x0bct.blob.core.windows.net/bkp",
        "https://acct.blob.core.windows.net/bk\u2028p",
        "https://user:pw@acct.blob.core.windows.net/bkp",
        "https://acct.blob.core.windows.net:99999/bkp",
        "https://127.0.0.1:10000/Dev_Account/bkp",
        "",
        "\t",
    ],
)
def test_hostile_container_uris_give_one_printable_line(uri):
    with pytest.raises(InvalidValue) as info:
        check_container_uri(uri)
    message = " ".join([info.value.error_msg, *map(str, info.value.recommendations)])
    assert message.startswith("--storage-container-uri") and all(c.isprintable() for c in message), message
    assert "pw@" not in message
