"""SAS tokens (model/sas.py): what they grant, until when, whether they were pasted whole; each refusal names the flag
and never the token."""

import json
from datetime import datetime, timedelta, timezone

import pytest

from azext_hsmbackup.model.problems import InvalidValue
from azext_hsmbackup.model.sas import check_sas, normalize_sas

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


CONTAINER = "https://acct.blob.core.windows.net/backups"


def refusal(call, *args, **kwargs):
    with pytest.raises(InvalidValue) as info:
        call(*args, **kwargs)
    error = info.value
    assert error.error_msg.startswith("--sas-token"), "the flag is named first"
    (fix,) = error.recommendations
    return error.error_msg, fix


# Every expiry form the service accepts, one minute after NOW and one minute before (the date-only form: a day).
EXPIRY_FORMS = {
    "seconds": ("2026-11-28T12:01:00Z", "2026-11-28T11:59:00Z"),
    "minutes": ("2026-11-28T12:01Z", "2026-11-28T11:59Z"),
    "fraction": ("2026-11-28T12:01:00.5Z", "2026-11-28T11:59:00.5Z"),
    "date": ("2026-11-29", "2026-11-28"),
}


@pytest.mark.parametrize(("later", "earlier"), EXPIRY_FORMS.values(), ids=EXPIRY_FORMS.keys())
def test_every_expiry_form_is_read_as_the_moment_it_names(later, earlier):
    warnings = check_sas(f"sp=crdw&se={later}&sig=x", "crdw", now=NOW)
    assert len(warnings) == 1 and "expires at" in warnings[0], "read, and less than 24 hours away"
    message, fix = refusal(check_sas, f"sp=crdw&se={earlier}&sig=x", "crdw", now=NOW)
    assert "expired at" in message and fix.startswith("Generate a new SAS token")


def test_an_expiry_exactly_now_is_expired():
    message, _ = refusal(check_sas, "sp=crdw&se=2026-11-28T12:00:00Z&sig=x", "crdw", now=NOW)
    assert message == "--sas-token expired at 2026-11-28T12:00:00Z."


def test_exactly_24_hours_left_is_enough_and_a_second_less_warns():
    assert check_sas("sp=crdw&se=2026-11-29T12:00:00Z&sig=x", "crdw", now=NOW) == []
    assert len(check_sas("sp=crdw&se=2026-11-29T11:59:59Z&sig=x", "crdw", now=NOW)) == 1


def test_an_expiry_that_is_no_date_names_it_and_says_how_to_get_a_good_token():
    message, fix = refusal(check_sas, "sp=crdw&se=2026-13-01&sig=x", "crdw", now=NOW)
    assert "se='2026-13-01'" in message
    assert fix.startswith("Generate a new SAS token") and "`az storage container generate-sas`" in fix


def test_missing_permissions_name_what_is_granted_and_the_permissions_to_ask_for():
    message, fix = refusal(check_sas, "sp=rl&se=2026-12-30&sig=x", "crdw", now=NOW)
    assert "lacks the permission(s) 'cdw' (it grants 'rl')" in message
    assert fix == "Generate a SAS with --permissions crdw."


def test_no_permissions_field_grants_nothing():
    message, _ = refusal(check_sas, "se=2026-12-30&sig=x", "rl", now=NOW)
    assert "'rl' (it grants '')" in message


def test_an_empty_stored_policy_does_not_skip_the_permission_check():
    refusal(check_sas, "si=&sp=r&sig=x", "crdw", now=NOW)
    assert check_sas("si=policy&sp=r&sig=x", "crdw", now=NOW) == []


def test_an_empty_signature_is_no_signature():
    message, fix = refusal(normalize_sas, "sv=1&sp=crdw&sig=")
    assert "no signature (sig=)" in message and fix.startswith("Pass the query string of a container or account SAS")


def test_only_question_marks_are_stripped_from_the_front():
    assert normalize_sas("?XYZ=1&sig=abcd") == "XYZ=1&sig=abcd"
    assert normalize_sas("  ??sv=1&sig=abcd \n") == "sv=1&sig=abcd"


@pytest.mark.parametrize("scheme", ["https", "http", "HTTP"])
def test_a_pasted_sas_url_gives_its_query(scheme):
    local = f"{scheme}://127.0.0.1:10000/devstoreaccount1/backups"
    assert normalize_sas(f"{local}?sv=1&sig=abc", local.lower()) == "sv=1&sig=abc"


@pytest.mark.parametrize(
    ("pasted", "container"),
    [
        (CONTAINER + "/", CONTAINER),
        (CONTAINER, CONTAINER + "/"),
        (CONTAINER.upper(), CONTAINER),
        (CONTAINER.upper() + "X", CONTAINER + "x"),  # only '/' is stripped, not a letter the case fold made
        (CONTAINER + "x", CONTAINER.upper() + "X"),
    ],
    ids=["pasted with slash", "container with slash", "other case", "pasted ends in X", "container ends in X"],
)
def test_a_pasted_sas_url_for_the_same_container_is_accepted(pasted, container):
    assert normalize_sas(f"{pasted}?sv=1&sig=abc", container) == "sv=1&sig=abc"


def test_a_pasted_sas_url_for_another_container_names_both():
    message, fix = refusal(normalize_sas, "https://acct.blob.core.windows.net/other?sv=1&sig=abc", CONTAINER)
    assert "'https://acct.blob.core.windows.net/other'" in message and CONTAINER in message
    assert "abc" not in message
    assert fix == "Pass only the token (the part after '?') of a SAS for the backup container."


def test_a_pasted_url_without_a_query_says_to_pass_the_token_only():
    message, fix = refusal(normalize_sas, CONTAINER, CONTAINER)
    assert message == "--sas-token looks like a URL without a SAS query string."
    assert fix == "Pass only the token (the part after '?'), e.g. --sas-token @token.txt."


@pytest.mark.parametrize(
    "value",
    ["", "   ", "sp=l&sig=" + "a" * 16384, "sp=l&sig=ab cd", "sp=l&sig=abcé"],
    ids=["empty", "blank", "too long", "space", "non-ascii"],
)
def test_each_refusal_of_a_token_that_cannot_be_one_offers_a_fix(value):
    refusal(normalize_sas, value)


def test_a_token_of_exactly_the_longest_length_is_accepted():
    token = "sp=l&sig=" + "a" * (16384 - len("sp=l&sig="))
    assert normalize_sas(token) == token


def test_the_first_and_last_printable_ascii_characters_are_accepted():
    assert normalize_sas("sp=l&sig=!abc~") == "sp=l&sig=!abc~"


def test_a_token_that_is_not_text_is_refused_naming_its_type():
    with pytest.raises(InvalidValue) as info:
        normalize_sas(5)
    assert info.value.error_msg.startswith("--sas-token ") and "int" in info.value.error_msg
