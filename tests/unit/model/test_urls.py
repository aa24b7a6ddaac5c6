"""URLs and resource IDs (model/urls.py): of an HSM, of a blob container and of a backup folder in it."""

import re

import pytest

from azext_hsmbackup.model.hsm_objects import hsm_url_from_object
from azext_hsmbackup.model.problems import InvalidValue
from azext_hsmbackup.model.urls import (
    check_container_uri,
    container_uri_from_names,
    hsm_name_from_url,
    hsm_url_from_id,
    parse_resource_id,
    split_folder_url,
    split_https_url,
)
from tests.unit.fakes import FOLDER, MHSM, SUBSCRIPTION, refused


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


CONTAINER = "https://acct.blob.core.windows.net/backups"


def test_a_folder_url_splits_into_container_and_folder():
    assert split_folder_url(f" {CONTAINER}/{FOLDER} ") == (CONTAINER, FOLDER)
    assert split_folder_url(f"{CONTAINER}/{FOLDER}/") == (CONTAINER, FOLDER)


def test_a_folder_url_with_the_folder_below_the_top_of_the_container_is_refused():
    # the service writes its folders at the top of the container: a deeper path is another folder, never this one
    message = refused(InvalidValue, split_folder_url, f"{CONTAINER}/a/{FOLDER}")
    assert message.startswith("--folder-url ") and f"'a/{FOLDER}'" in message


def test_a_path_style_folder_url_keeps_the_account_in_the_container():
    local = "https://127.0.0.1:10000/devstoreaccount1/backups"
    assert split_folder_url(f"{local}/{FOLDER}") == (local, FOLDER)


@pytest.mark.parametrize(
    "url",
    [None, "", CONTAINER, f"http://acct.blob.core.windows.net/backups/{FOLDER}", "https://127.0.0.1:10000/acct/c"],
    ids=["none", "empty", "no folder", "http", "path style without folder"],
)
def test_a_folder_url_without_a_folder_or_https_is_refused_naming_the_flag(url):
    assert refused(InvalidValue, split_folder_url, url, "--flag-x").startswith("--flag-x ")


def test_a_folder_url_with_its_own_sas_is_refused():
    message = refused(InvalidValue, split_folder_url, f"{CONTAINER}/{FOLDER}?sv=1&SIG=abc")
    assert message.startswith("--folder-url") and "--sas-token" in message and "abc" not in message


def names(flag, text):
    """`flag` appears as a whole flag (not glued to other characters) in `text`."""
    return re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text) is not None


def test_a_resource_id_gives_the_url_of_its_hsm():
    rid = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/g/providers/Microsoft.KeyVault/managedHSMs/idhsm/"
    assert hsm_url_from_id(f" {rid} ", MHSM) == "https://idhsm.managedhsm.azure.net"
    assert hsm_url_from_id(rid.upper().replace("IDHSM", "IdHsm"), MHSM) == "https://idhsm.managedhsm.azure.net"


@pytest.mark.parametrize(
    "rid",
    [
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/managedHSMs/idhsm",
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/g/providers/Microsoft.KeyVault/managedHSMs/idhsm/keys/k",
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/g/providers/Microsoft.KeyVault/managedHSMs",
        f"/subscriptions/{SUBSCRIPTION}/groups/g/providers/Microsoft.KeyVault/managedHSMs/idhsm",
    ],
    ids=["subscription not a guid", "child resource", "no name", "not resourceGroups"],
)
def test_a_resource_id_must_be_exact(rid):
    message = refused(InvalidValue, hsm_url_from_id, rid, MHSM)
    assert message.startswith("--id ") and "resourceGroups/GROUP/providers" in message


@pytest.mark.parametrize(
    "rid",
    [
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/v",
        "/subscriptions/s/providers/Microsoft.KeyVault/managedHSMs",
    ],
    ids=["a vault", "no name"],
)
def test_a_resource_id_that_names_no_managed_hsm_is_refused(rid):
    assert refused(InvalidValue, hsm_url_from_id, rid, MHSM, "--flag-z").startswith("--flag-z ")


@pytest.mark.parametrize("url", ["http://h.managedhsm.azure.net", "https://", "h.managedhsm.azure.net"])
def test_an_hsm_url_must_be_https_with_a_host(url):
    assert refused(InvalidValue, hsm_url_from_id, url, MHSM).startswith("--id ")


@pytest.mark.parametrize(
    ("call", "args"),
    [
        (
            hsm_url_from_id,
            (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/g/providers/Microsoft.KeyVault/vaults/v", MHSM),
        ),
        (hsm_url_from_object, ('{"type": "Microsoft.KeyVault/vaults"}', MHSM)),
        (hsm_url_from_object, ("{", MHSM)),
        (check_container_uri, (f"{CONTAINER}?sig=abc",)),
    ],
    ids=["a vault id", "a vault object", "no json", "container with sas"],
)
def test_each_refusal_offers_a_fix(call, args):
    with pytest.raises(InvalidValue) as info:
        call(*args)
    assert len(info.value.recommendations) == 1


@pytest.mark.parametrize(
    ("value", "fix"),
    [
        ("/subscriptions/s/providers/Microsoft.KeyVault/vaults/v", "give a resource ID /subscriptions/"),
        ("http://h.example", "e.g. https://myhsm.managedhsm.azure.net"),
    ],
    ids=["not a resource id", "http"],
)
def test_a_refusal_of_an_hsm_id_gives_the_fix_in_its_one_line(value, fix):
    with pytest.raises(InvalidValue) as info:
        hsm_url_from_id(value, MHSM)
    assert fix in info.value.error_msg and info.value.recommendations == []


def test_a_localhost_folder_url_is_path_style():
    local = "https://localhost:10000/devstoreaccount1/backups"
    assert split_folder_url(f"{local}/{FOLDER}") == (local, FOLDER)


def test_a_folder_url_with_a_bad_container_names_the_flag():
    message = refused(InvalidValue, split_folder_url, f"https://acct.blob.core.windows.net/Bad_C/{FOLDER}")
    assert message.startswith("--folder-url ")


def test_a_cloud_without_a_storage_suffix_points_to_the_uri_flag():
    message = refused(InvalidValue, container_uri_from_names, "acct", "backups", None)
    assert message.startswith("--storage-account-name ") and names("--storage-container-uri", message)


def test_the_name_of_an_hsm_at_an_ip_address_is_the_address():
    assert hsm_name_from_url("https://127.0.0.1:8443") == "127.0.0.1"
    assert hsm_name_from_url("https://myhsm.managedhsm.azure.net") == "myhsm"


def test_a_url_of_exactly_the_longest_length_is_accepted():
    url = "https://h.example/" + "a" * (2048 - len("https://h.example/"))
    assert split_https_url(url, "--u", "x").path.endswith("a")
    assert refused(InvalidValue, split_https_url, url + "a", "--u", "x").startswith("--u '")


@pytest.mark.parametrize("url", ["https://h.example/a b", "https://h.exa\x00mple", "https://h.example/a\u2028b"])
def test_a_url_with_a_blank_or_control_character_is_no_url(url):
    message = refused(InvalidValue, split_https_url, url, "--u", "x")
    assert message.startswith("--u 'https://h.") and "is not a URL" in message


def test_a_host_with_a_trailing_dot_and_an_ipv6_host_are_urls():
    assert hsm_url_from_id("https://myhsm.managedhsm.azure.net.", MHSM) == "https://myhsm.managedhsm.azure.net."
    assert hsm_url_from_id("https://[::1]:8443/x", MHSM) == "https://[::1]:8443"


def test_a_url_with_a_bad_host_is_shown():
    message = refused(InvalidValue, split_https_url, "https://bad_host.example", "--u", "x")
    assert message.startswith("--u 'https://bad_host.example' ")
    assert refused(InvalidValue, split_https_url, "https://h.example:x", "--u", "x").startswith("--u '")


def test_a_bad_hsm_url_in_id_is_named_by_the_flag_given():
    assert refused(InvalidValue, hsm_url_from_id, "http://h.example", MHSM, "--flag-z").startswith("--flag-z ")


@pytest.mark.parametrize("uri", ["https://acct.file.core.windows.net/backups", "https://acct.blob.core.windows.net"])
def test_a_container_uri_refusal_gives_the_example(uri):
    message = refused(InvalidValue, check_container_uri, uri)
    assert "e.g. https://myaccount.blob.core.windows.net/backups" in message


def test_a_bad_container_uri_shows_the_value_and_the_example():
    message = refused(InvalidValue, check_container_uri, "https://bad_host/backups")
    assert "'https://bad_host/backups'" in message and "https://myaccount.blob.core.windows.net/backups" in message


def test_a_folder_inside_a_badly_named_container_is_not_suggested():
    with pytest.raises(InvalidValue) as info:
        check_container_uri("https://acct.blob.core.windows.net/Bad_C/folder")
    assert "Bad_C" not in info.value.recommendations[0] and "e.g. https://" in info.value.recommendations[0]


def test_a_folder_url_without_a_folder_asks_for_what_create_printed():
    for url in (CONTAINER, "https://127.0.0.1:10000/acct/c", "https://bad_host/c/x"):
        message = refused(InvalidValue, split_folder_url, url)
        assert "https://myaccount.blob.core.windows.net/backups/mhsm-myhsm-2026112812000000" in message, url


def test_a_resource_id_splits_into_its_parts():
    rid = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/grp/providers/Microsoft.KeyVault/managedHSMs/h1x"
    assert parse_resource_id(rid, "--x") == (SUBSCRIPTION, "grp", "microsoft.keyvault/managedhsms", "h1x")


def test_a_resource_id_with_a_bad_provider_is_no_resource_id():
    rid = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/g/providers/9icrosoft/managedHSMs/h1x"
    assert refused(InvalidValue, parse_resource_id, rid, "--x").startswith(f"--x '{rid[:40]}")


def hsm_id(kind="managedHSMs", name="h1x"):
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/g/providers/Microsoft.KeyVault/{kind}/{name}"


def test_an_hsm_url_or_resource_id_is_named_as_id_by_default():
    from azext_hsmbackup.model.urls import hsm_url_from_resource_id, hsm_url_from_url

    assert refused(InvalidValue, hsm_url_from_url, "http://h.example").startswith("--id ")
    assert refused(InvalidValue, hsm_url_from_resource_id, hsm_id("vaults"), MHSM).startswith("--id ")


def test_a_resource_id_without_its_leading_slash_is_refused_even_when_the_rest_fits():
    rid = "x" + hsm_id()[1:]
    assert refused(InvalidValue, parse_resource_id, rid, "--x").startswith("--x 'xsubscriptions/")


def test_a_url_that_does_not_parse_is_shown():
    assert "'https://h.example:x'" in refused(InvalidValue, split_https_url, "https://h.example:x", "--u", "x")
