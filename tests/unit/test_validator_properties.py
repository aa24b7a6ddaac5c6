"""Property-based: whatever flags and values a user types, the validators give a plan or ONE az error line."""

import json
import string

from azure.cli.core.azclierror import AzCLIError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azext_hsmbackup._validators import Target, resolve_restore_target, resolve_storage_target, resolve_target

EXAMPLES = 3000
CASES = {"ran": 0, "plans": 0, "errors": 0}

text = st.text(alphabet=string.printable + "éß☃\x00", max_size=80)
sas_like = st.builds(
    lambda sp, se, sig: f"sv=2026-04-06&sr=c&sp={sp}&se={se}&sig={sig}",
    st.text(alphabet="racwdlxyz", max_size=8),
    st.sampled_from(["2030-01-01T00:00:00Z", "2001-01-01T00:00:00Z", "soon", "", "2030-01-01"]),
    st.text(alphabet=string.ascii_letters + "%+/=", max_size=20),
)
urls = st.one_of(
    text,
    st.builds(
        lambda h, p: f"https://{h}/{p}",
        st.sampled_from(["a.blob.core.windows.net", "h.managedhsm.azure.net", "127.0.0.1:1", "x", ""]),
        text,
    ),
    st.sampled_from(
        [
            "https://acct.blob.core.windows.net/bkp",
            "http://acct.blob.core.windows.net/bkp",
            "https://acct.blob.core.windows.net/bkp/mhsm-a-2026010100000000",
            "https://myhsm.managedhsm.azure.net",
            "/subscriptions/s/providers/Microsoft.KeyVault/managedHSMs/h",
        ]
    ),
)
hsm_objects = st.one_of(
    text,
    st.dictionaries(
        st.sampled_from(["name", "type", "properties", "Name", "ResourceType"]),
        st.one_of(text, st.dictionaries(st.sampled_from(["hsmUri"]), urls)),
        max_size=4,
    ).map(json.dumps),
)


def maybe(strategy, valid=None):
    """Absent, a plausible value, or anything at all: enough valid inputs that plans are reached too."""
    branches = [st.none(), st.none()]
    if valid is not None:
        branches += [st.sampled_from(valid)] * 2
    return st.one_of(*branches, strategy)


COMMON = {
    "storage_account_name": maybe(text, ["acct", "devstoreaccount1"]),
    "storage_container_name": maybe(text, ["bkp", "backups"]),
    "storage_container_uri": maybe(urls, ["https://acct.blob.core.windows.net/bkp"]),
    "sas_token": maybe(st.one_of(text, sas_like, urls), ["sv=2026-04-06&sp=racwdl&se=2099-01-01T00:00:00Z&sig=x"]),
    "storage_endpoint_suffix": st.sampled_from([None, "core.windows.net", "core.windows.net"]),
}
HSM = {
    "hsm_name": maybe(text, ["myhsm", "a1b"]),
    "hsm_object": maybe(hsm_objects, ['{"type": "Microsoft.KeyVault/managedHSMs", "name": "objhsm"}']),
    "hsm_id": maybe(urls, ["https://idhsm.managedhsm.azure.net"]),
    "use_managed_identity": st.sampled_from([None, True, False]),
    "mint_sas": st.sampled_from([None, True, False]),
    "mhsm_dns_suffix": st.sampled_from([None, ".managedhsm.azure.net", ".managedhsm.azure.net"]),
}


def check(resolve, kwargs):
    CASES["ran"] += 1
    try:
        target, warnings = resolve(**kwargs)
    except AzCLIError as error:
        CASES["errors"] += 1
        message = " ".join([error.error_msg, *map(str, error.recommendations)])
        assert "\n" not in message and message.strip(), message
        assert message.lstrip("-")[:1].isupper() or message.startswith("--"), message
        return
    CASES["plans"] += 1
    assert isinstance(target, Target) and all("\n" not in w for w in warnings)
    if target.container_uri:
        assert target.container_uri.startswith("https://")


SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(st.fixed_dictionaries({**COMMON, **HSM}))
def test_create_parameter_sets(kwargs):
    check(resolve_target, kwargs)


@SETTINGS
@given(
    st.fixed_dictionaries(
        {
            **COMMON,
            **HSM,
            "folder_url": maybe(urls, ["https://acct.blob.core.windows.net/bkp/mhsm-h-2026010100000000"]),
            "backup_folder": maybe(text, ["mhsm-h-2026010100000000"]),
        }
    )
)
def test_restore_parameter_sets(kwargs):
    check(resolve_restore_target, kwargs)


@SETTINGS
@given(st.fixed_dictionaries({**COMMON, "backup_folder": maybe(text, ["mhsm-h-2026010100000000"])}))
def test_storage_parameter_sets(kwargs):
    check(resolve_storage_target, kwargs)


def test_report_case_count():
    """Runs last in this module: how many generated cases the three properties above went through."""
    print(f"\nvalidator property cases: {CASES}")
    assert CASES["ran"] >= EXAMPLES and CASES["plans"] and CASES["errors"]
