"""The names the flags take (model/names.py): HSMs, storage accounts and containers, resource groups, job ids, key
names, api-versions; what is refused, in which line."""

import pytest

from azext_hsmbackup.model import names as names_model
from azext_hsmbackup.model.hsm_objects import hsm_url_from_object
from azext_hsmbackup.model.names import (
    check_account_name,
    check_api_version,
    check_container_name,
    check_hsm_filter,
    check_hsm_name,
    check_job_id,
    check_key_name,
)
from azext_hsmbackup.model.problems import InvalidValue
from azext_hsmbackup.model.urls import (
    hsm_url_from_id,
    parse_resource_id,
    split_https_url,
)
from tests.unit.fakes import MHSM, refused


@pytest.mark.parametrize(
    "value", ["", " ", "\t", "\n", "key name", "key_1", "key/1", "../k", "k" * 128, "ключ", "key-1\n", "*"]
)
def test_key_name_must_be_one_the_service_can_have(value):
    with pytest.raises(InvalidValue) as caught:
        names_model.check_key_name(value)
    assert "--key-name" in caught.value.error_msg and "1-127 letters, digits and hyphens" in caught.value.error_msg


@pytest.mark.parametrize("value", [None, "k", "key-1", "K" * 127, "0"])
def test_key_names_the_service_accepts_pass(value):
    assert names_model.check_key_name(value) == value


@pytest.mark.parametrize("value", ["", " ", "ab", "a" * 25, "1hsm", "hsm-", "my--hsm", "myhsm\n", "my hsm", "my_hsm"])
def test_hsm_filter_must_be_a_valid_hsm_name(value):
    with pytest.raises(InvalidValue, match="--hsm-name"):
        names_model.check_hsm_filter(value)


@pytest.mark.parametrize(
    "value", ["7.2", "7.6", "7.6-preview.2", "7.5-preview.1", "2025-07-01", "2026-01-01-preview", " 7.6 "]
)
def test_api_versions_of_every_form_are_accepted(value):
    assert check_api_version(value) == value.strip()


@pytest.mark.parametrize(
    "value",
    ["", " ", "latest", "7", "7.", "7.x", "8.0", "v7.6", "7.6-preview", "7.6-Preview.2", "2025-7-1", "2025-13-01",
     "2025-02-30", "2025-07-01-beta", "7.6\n1", "7.6&x=1", "1" * 200],
)  # fmt: skip
def test_strings_that_are_not_api_versions_are_refused(value):
    with pytest.raises(InvalidValue) as info:
        check_api_version(value)
    message = info.value.error_msg
    assert message.startswith("--api-version") and ("7.x-preview.N" in message or "empty" in message)
    assert all(c.isprintable() for c in message)


@pytest.mark.parametrize("value", ["", " ", "0", "g" * 32, "a" * 31, "a" * 33, "a" * 32 + "\n" + "b", "-" * 32])
def test_bad_job_ids(value):
    with pytest.raises(InvalidValue) as info:
        check_job_id(value)
    assert info.value.error_msg.startswith("--job-id") and "32 hex digits" in info.value.error_msg


def test_job_id_is_trimmed_and_lower_cased():
    assert check_job_id(" " + "AB" * 16 + "\n") == "ab" * 16


@pytest.mark.parametrize(
    ("check", "value", "flag"),
    [
        (check_hsm_name, "9bad", "--hsm-name"),
        (check_account_name, "Bad_Acct", "--storage-account-name"),
        (check_container_name, "Bad_C", "--storage-container-name"),
    ],
)
def test_a_bad_name_is_shown_and_a_fix_offered(check, value, flag):
    with pytest.raises(InvalidValue) as info:
        check(value)
    assert info.value.error_msg.startswith(f"{flag} '{value}' ") and len(info.value.recommendations) == 1


def test_no_hsm_name_is_no_name():
    refused(InvalidValue, check_hsm_name, None)


@pytest.mark.parametrize(
    ("value", "why"), [("", "is empty"), ("   ", "is empty"), ("a_b", "is not a key name"), (5, "is not a key name")]
)
def test_a_bad_key_name_is_shown_with_why_and_a_fix(value, why):
    with pytest.raises(InvalidValue) as info:
        check_key_name(value)
    assert info.value.error_msg.startswith(f"--key-name '{value}' {why}: a key name has 1-127 ")
    assert len(info.value.recommendations) == 1 and "--key-name" in info.value.recommendations[0]


def test_a_bad_hsm_filter_is_shown_with_the_rule():
    message = refused(InvalidValue, check_hsm_filter, "9x")
    assert message.startswith("--hsm-name '9x' ") and "3-24 letters" in message and "every HSM." in message


@pytest.mark.parametrize(
    ("call", "flag", "form"),
    [
        (check_hsm_name, "--hsm-name", "HSM: 3-24 letters"),
        (check_account_name, "--storage-account-name", "account: 3-24 lowercase letters and digits"),
        (check_container_name, "--storage-container-name", "container: 3-63 lowercase letters"),
        (check_api_version, "--api-version", "e.g. 2025-07-01"),
        (lambda v: hsm_url_from_id(v, MHSM), "--id", "e.g. https://myhsm.managedhsm.azure.net"),
        (lambda v: hsm_url_from_object(v, MHSM), "--hsm-object", "the JSON of the HSM, inline or as @file.json"),
        (lambda v: parse_resource_id(v, "--x"), "--x", "give a resource ID /subscriptions/"),
        (lambda v: split_https_url(v, "--u", "https://e.example"), "--u", "give an https URL, e.g. https://e.example"),
    ],
)
def test_an_empty_value_is_refused_with_the_form_wanted(call, flag, form):
    message = refused(InvalidValue, call, " ")
    assert message.startswith(f"{flag} is empty: ") and form in message


def test_a_value_that_is_not_text_says_its_type():
    assert refused(InvalidValue, check_hsm_name, 5).startswith("--hsm-name must be text, not int: ")


@pytest.mark.parametrize(
    ("call", "form"),
    [
        (check_hsm_name, "3-24 letters"),
        (check_account_name, "3-24 lowercase letters and digits"),
        (check_container_name, "3-63 lowercase letters"),
    ],
)
def test_a_bad_name_offers_the_rule_as_its_fix(call, form):
    with pytest.raises(InvalidValue) as info:
        call("B_d")
    assert form in info.value.recommendations[0]


def test_a_bad_api_version_is_shown_with_examples():
    message = refused(InvalidValue, check_api_version, "2025-13-01")
    assert message.startswith("--api-version '2025-13-01' ") and "e.g. 2025-07-01, 7.6 or 7.6-preview.2" in message
