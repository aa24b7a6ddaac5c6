"""Property-based: whatever a user or a script types into any flag of any command, the command's validator either
produces a plan or prints ONE printable error line and exits 2, and it never opens a connection.

Inputs start from a valid parameter set of the command, then some flags are swapped for hostile values (empty,
whitespace, control characters, zero, negative, NaN, infinity, huge, wrong words, valid strings that are not valid
things) and some parameter-set rules are broken, so most examples get deep into the checks instead of stopping at
the first flag. Each test counts what it reached (through spies on the checks) and asserts the counts itself.
"""

import argparse
import functools
import inspect
import io
import json
import logging
import re
import sys
import unicodedata
from collections import Counter
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from unittest import mock

import pytest
from azure.cli.core.cloud import Cloud, CloudEndpoints, CloudSuffixes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azext_hsmbackup import _params, custom
from azext_hsmbackup import _validators as v
from azext_hsmbackup._validators import PROMPT_FOR_SAS
from azext_hsmbackup.errors import ExitWith
from azext_hsmbackup.model import names as names_model
from azext_hsmbackup.model import target as target_model
from azext_hsmbackup.model.fleet import Fleet
from azext_hsmbackup.model.problems import Problem
from azext_hsmbackup.model.target import Target
from tests.unit.fakes import CONTAINER, SUB

# ---- Valid values, one list per flag -------------------------------------------------------------------------

SIG = "SIGsecret0123456789abcdef%2B%3D"  # searched for in every message and warning: the token never shows
_in = lambda **delta: (datetime.now(timezone.utc) + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
SAS_GOOD = f"sv=2026-04-06&sr=c&sp=racwdl&se={_in(days=2)}&sig={SIG}"
SAS_SHORT = f"sv=2026-04-06&sr=c&sp=racwdl&se={_in(hours=2)}&sig={SIG}"  # warns where a job runs
SAS_EXPIRED = f"sv=2026-04-06&sr=c&sp=racwdl&se={_in(hours=-2)}&sig={SIG}"
SAS_POLICY = f"sv=2026-04-06&si=backup-policy&sr=c&sig={SIG}"
SAS_LIST_ONLY = f"sv=2026-04-06&sr=c&sp=l&se={_in(days=2)}&sig={SIG}"
FOLDER = "mhsm-myhsm-2026010100000000"
HSM_RID = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/managedHSMs/ridhsm"
VAULT_RID = f"/subscriptions/{SUB}/resourceGroups/managedHSMs/providers/Microsoft.KeyVault/vaults/kv1"
AZ_SHOW = {
    "id": HSM_RID.replace("ridhsm", "objhsm"),
    "name": "objhsm",
    "type": "Microsoft.KeyVault/managedHSMs",
    "location": "westeurope",
    "properties": {"hsmUri": "https://objhsm.managedhsm.azure.net/", "provisioningState": "Succeeded"},
}
PS_HSM = {  # Get-AzKeyVaultManagedHsm | ConvertTo-Json (see test_parameter_sets.py for where the shape comes from)
    "Name": "pshsm",
    "HsmUri": "https://pshsm.managedhsm.azure.net/",
    "ResourceId": HSM_RID.replace("ridhsm", "pshsm"),
    "VaultName": "pshsm",
    "ResourceGroupName": "rg",
    "Location": "westeurope",
    "OriginalManagedHsm": {
        "Properties": {"HsmUri": "https://pshsm.managedhsm.azure.net/"},
        "Id": HSM_RID.replace("ridhsm", "pshsm"),
        "Name": "pshsm",
        "Type": "Microsoft.KeyVault/managedHSMs",
    },
}
PS_HSM_BY_ID = {k: v for k, v in PS_HSM.items() if k not in ("HsmUri", "OriginalManagedHsm")}

VALID = {
    "hsm_name": ["myhsm", "a1b", "Contoso-HSM-01"],
    "hsm_object": [json.dumps(AZ_SHOW), json.dumps(PS_HSM, indent=4), json.dumps(PS_HSM_BY_ID), json.dumps([PS_HSM])],
    "hsm_id": [
        "https://idhsm.managedhsm.azure.net",
        "https://IDHSM.managedhsm.azure.net:443/x",
        HSM_RID,
        HSM_RID.lower() + "/",
        HSM_RID.replace("/rg/", "/managedHSMs/"),
        HSM_RID.replace("resourceGroups", "RESOURCEGROUPS").replace("Microsoft.KeyVault", "microsoft.keyvault"),
        f" {HSM_RID} ",
    ],
    "storage_account_name": ["acct", "devstoreaccount1"],
    "storage_container_name": ["bkp", "backups-2026"],
    "storage_container_uri": [CONTAINER, "https://127.0.0.1:10000/devstoreaccount1/bkp"],
    "sas_token": [
        SAS_GOOD,
        "?" + SAS_GOOD,
        json.dumps(SAS_GOOD) + "\n",
        json.dumps("?" + SAS_SHORT),
        SAS_SHORT,
        SAS_SHORT,
        SAS_POLICY,
        "-",
        f"{CONTAINER}?{SAS_GOOD}",
        f"{CONTAINER}?{SAS_SHORT}",
        json.dumps(f"{CONTAINER}?{SAS_GOOD}"),
        json.dumps(SAS_POLICY),
    ],
    "use_managed_identity": ["true", "True"],
    "mint_sas": [True],
    "api_version": ["2025-07-01", "7.6", "7.6-preview.2", "2026-01-01-preview"],
    "polling_interval": ["0.5", "5", "3600", "0.1"],
    "timeout": ["1", "600", "604800"],
    "job_id": ["0123456789abcdef0123456789abcdef", "ABCDEF0123456789ABCDEF0123456789"],
    # several HSMs (create, wait)
    "hsm_ids": [
        ["https://ids1.managedhsm.azure.net"],
        ["https://ids1.managedhsm.azure.net", HSM_RID, "https://IDS1.managedhsm.azure.net/"],
        f"https://ids2.managedhsm.azure.net\n{HSM_RID}\n",
    ],
    "all_hsms": [True],
    "jobs": [
        json.dumps([{"hsmUrl": "https://jobs1.managedhsm.azure.net", "jobId": "0123456789abcdef0123456789abcdef"}]),
        json.dumps([{"hsmUrl": "https://jobs2.managedhsm.azure.net", "status": "Skipped", "reason": "x"}]),
    ],
    "resource_group": ["rg", "My.Group(1)"],
    "max_parallel": ["1", "5", "64"],
    "folder_url": [f"{CONTAINER}/{FOLDER}"],
    "backup_folder": [FOLDER],
    # H1's flags: generated with every value class, asserted only against the contract
    "key_name": ["key1", "rsa-key-2"],
    "keep": ["3", 3],
    "older_than": ["30", 30.0],
    "hsm_filter": ["myhsm"],
    "max_age": ["26h", "7d", "P1D", "pt26h", " 90m ", "1.5w", "P1DT2H30M"],
}

# ---- Hostile values -------------------------------------------------------------------------------------------

CONTROL = "\x00\x01\x07\x08\t\n\x0b\x0c\r\x1b\x7f\x85\u2028\u2029\u200b\ufeff"
EMPTY = st.sampled_from(["", " ", "   ", "\t", "\n", " \r\n ", "\u3000"])
NUMBER_WORDS = st.sampled_from(
    ["0", "-0", "0.0", "-1", "-0.5", "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e309", "-1e309", "1e-9",
     "9" * 400, "1" + "0" * 30, "0x10", "1_000", "abc", "5s", "1,5", "5 5", "+", ".", "e5", "1e", "3601",
     "604801", "2147483648", "-2147483649", "½", "٣"]
)  # fmt: skip
HUGE = st.sampled_from(["a" * 5000, "x" * 200_000, "9" * 5000, "/" * 3000, "%" * 10000, "[" * 50_000])
WRONG_THING_VALUES = [  # valid strings that are not valid things, for one flag or another
    VAULT_RID,
    HSM_RID.replace("managedHSMs/ridhsm", "managedHSMs"),
    HSM_RID + "/privateEndpointConnections/x",
    HSM_RID.replace(SUB, "not-a-guid"),
    "/subscriptions/",
    "https://kv1.vault.azure.net",
    "http://myhsm.managedhsm.azure.net",
    "https://user:pw@myhsm.managedhsm.azure.net",
    "https://myhsm.managedhsm.azure.net:99999",
    "https://acct.file.core.windows.net/bkp",
    f"{CONTAINER}/{FOLDER}/keys",
    f"{CONTAINER}?sv=1&sig={SIG}",
    "ftp://acct.blob.core.windows.net/bkp",
    json.dumps({"type": "Microsoft.KeyVault/vaults", "name": "kv1"}),
    json.dumps({**AZ_SHOW, "properties": {"hsmUri": 5}}),
    json.dumps({**PS_HSM, "ResourceId": VAULT_RID}),
    json.dumps({**PS_HSM, "VaultName": "other"}),
    json.dumps([PS_HSM, PS_HSM]),
    "{}",
    "[]",
    "null",
    "true",
    '"',
    '"unterminated',
    json.dumps("sv=1&sp=l"),
    "sv=1&sp=crdw&se=tomorrow&sig=x",
    SAS_EXPIRED,
    SAS_LIST_ONLY,
    PROMPT_FOR_SAS,
    "-",
    "latest",
    "7.6-preview",
    "2025-02-30",
    "mhsm-x-1",
    "../../etc",
    "yes",
    "None",
]
WRONG_THINGS = st.sampled_from(WRONG_THING_VALUES)
ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


@st.composite
def corrupted(draw, valid_values):
    """A valid value with a control character, a blank or a unicode look-alike put somewhere inside it."""
    value = str(draw(st.sampled_from(valid_values)))
    at = draw(st.integers(0, len(value)))
    inserted = draw(st.sampled_from([*CONTROL, " ", "é", "Ａ", "-", "--", "/", "?", "#", "%", "@"]))
    return value[:at] + inserted + value[at:]


def _hostile(valid):
    return st.one_of(
        EMPTY, NUMBER_WORDS, HUGE, WRONG_THINGS, ANY_TEXT, corrupted(valid), corrupted(valid),
        st.sampled_from(valid).map(lambda value: str(value).upper()),
    )  # fmt: skip


# Every value class for each flag; values that look like the flag's valid ones are drawn most often.
HOSTILE = {flag: _hostile(valid) for flag, valid in VALID.items()}
PICK = {flag: st.sampled_from(valid) for flag, valid in VALID.items()}


# ---- Commands, as az builds their namespaces -----------------------------------------------------------------

COMMANDS = {
    # command: (its validator, its command function: az builds the namespace from the function's parameters)
    "create": (v.validate_create, custom.create_backup),
    "check backup": (v.validate_check_backup, custom.check_backup),
    "restore": (v.validate_restore, custom.restore_backup),
    "check restore": (v.validate_restore, custom.check_restore),
    "show": (v.validate_show, custom.show_job),
    "wait": (v.validate_wait, custom.wait_job),
    "list": (v.validate_list, custom.list_backups),
    "delete": (v.validate_delete, custom.delete_backup),
    "prune": (v.validate_prune, custom.prune_backups),
    "check freshness": (v.validate_freshness, custom.check_freshness),
}
FLAG_ARGS = {"hsm_filter", "keep", "older_than", "key_name", "max_age"}  # the rest are in VALID already
STORE_TRUE = {"what_if", "yes", "confirm", "skip_wait", "details", "mint_sas", "all_hsms"}


class FlagTable:
    """A stand-in for az's command loader that records what _params.load_arguments registers, per command."""

    def __init__(self):
        self.flags, self.extras = {}, {}

    @contextmanager
    def argument_context(self, scope, **_):
        command = scope.removeprefix("hsm-backup ")
        flags, extras = self.flags.setdefault(command, {}), self.extras.setdefault(command, set())

        def extra(dest, **kw):
            extras.add(dest)
            flags[dest] = kw.get("action") == "store_true" or None

        yield SimpleNamespace(
            argument=lambda dest, **kw: flags.__setitem__(dest, kw.get("action") == "store_true" or None),
            extra=extra,
            ignore=lambda *_: None,
        )


@functools.cache
def flag_table():
    table = FlagTable()
    _params.load_arguments(table, None)
    return table


@pytest.mark.parametrize("command", list(COMMANDS))
def test_command_functions_take_only_what_they_use(command):
    """The parameter-set flags are c.extra, as in az's keyvault module: the validator resolves them into `target`
    and removes them, and the command function has no parameter for them; every parameter it has is a flag."""
    extras = flag_table().extras[command]
    params = set(inspect.signature(COMMANDS[command][1]).parameters) - {"cmd", "target"}
    assert extras and not extras & params, extras & params
    assert params <= set(flag_table().flags[command]) - extras, params - set(flag_table().flags[command])


@functools.cache
def arguments(command):
    """The namespace attributes az gives the validator: every flag _params registers for the command (c.argument
    and c.extra alike, False for a store_true flag, else None), and the function's own parameters."""
    values = {name: (False if store_true else None) for name, store_true in flag_table().flags[command].items()}
    params = inspect.signature(COMMANDS[command][1]).parameters
    for name, p in params.items():
        if name not in ("cmd", "target"):
            values.setdefault(name, p.default if p.default is not inspect.Parameter.empty else None)
    return values


HSM_FORMS = ("hsm_name", "hsm_object", "hsm_id")
FLEET_FORMS = ("hsm_ids", "all_hsms", "jobs")
STORAGE_FORMS = ("uri", "names")
AUTH_FORMS = ("sas_token", "use_managed_identity", "mint_sas")
AUTH_WEIGHTED = st.sampled_from(["sas_token"] * 2 + ["use_managed_identity", "mint_sas"])  # SAS has most branches


@st.composite
def invocation(draw, command):
    """(namespace values, parameter-set label, flags made hostile) for one run of `command`."""
    args = arguments(command)
    values = dict(args)
    label = []
    if "hsm_name" in args:
        form = draw(st.sampled_from([f for f in (*HSM_FORMS, *FLEET_FORMS) if f in args]))
        values[form] = draw(PICK[form])
        label.append(form)
    if "folder_url" in args and draw(st.integers(0, 2)) == 0:
        values["folder_url"] = draw(PICK["folder_url"])
        label.append("folder_url")
    else:
        if "backup_folder" in args:
            values["backup_folder"] = draw(PICK["backup_folder"])
        if "storage_account_name" in args:
            storage = draw(st.sampled_from(STORAGE_FORMS))
            if storage == "uri":
                values["storage_container_uri"] = draw(PICK["storage_container_uri"])
            else:
                values["storage_account_name"] = draw(PICK["storage_account_name"])
                values["storage_container_name"] = draw(PICK["storage_container_name"])
            label.append(storage)
    if "mint_sas" in args:
        auth = draw(AUTH_WEIGHTED)
        values[auth] = draw(PICK[auth])
        label.append(auth)
    elif "use_managed_identity" in args:  # delete, prune: a SAS, the HSMs' identities for their checks, or neither
        auth = draw(st.sampled_from(["sas_token", "sas_token", "use_managed_identity", "use_managed_identity", None]))
        if auth:
            values[auth] = draw(PICK[auth])
            label.append(auth)
    elif "sas_token" in args and draw(st.booleans()):
        values["sas_token"] = draw(PICK["sas_token"])
        label.append("sas_token")
    if "job_id" in args and "jobs" not in label:  # --jobs names every job itself
        values["job_id"] = draw(PICK["job_id"])
        if "hsm_ids" in label and "jobs" in args:  # wait --ids: one --job-id per HSM, as az hands over nargs="+"
            ids = values["hsm_ids"]
            values["job_id"] = [values["job_id"]] * len(ids.split() if isinstance(ids, str) else ids)
    for flag in ("api_version", "polling_interval", "timeout", *FLAG_ARGS):
        if flag in args and draw(st.booleans()):
            values[flag] = draw(PICK[flag])
    for flag in ("resource_group", "max_parallel"):  # several HSMs only: a plan of one HSM refuses them
        if flag in args and draw(st.integers(0, 3)) == 0:
            values[flag] = draw(PICK[flag])
    if "keep" in args and values["keep"] is None and values["older_than"] is None:  # prune needs a rule
        rule = draw(st.sampled_from(["keep", "older_than"]))
        values[rule] = draw(PICK[rule])
    for flag in STORE_TRUE & set(args) - {"mint_sas", "all_hsms"}:
        values[flag] = draw(st.booleans())
    # Break the parameter-set rules now and then: a second form, or a missing one.
    if draw(st.integers(0, 9)) == 0:
        extra = draw(st.sampled_from([f for f in (*HSM_FORMS, *AUTH_FORMS, "storage_container_uri") if f in args]))
        values[extra] = draw(PICK[extra])
    if draw(st.integers(0, 14)) == 0:
        values[draw(st.sampled_from([f for f in args if f in VALID]))] = None
    # Then make 1-3 flags hostile in a third of the runs (test_every_flag_with_every_value_class walks them all).
    # Mostly flags the user did give, so that a hostile value is not just a second parameter set.
    typed = sorted(f for f in args if f in VALID and f not in STORE_TRUE)
    present = sorted(f for f in typed if values[f] is not None) or typed
    flags = st.one_of(st.sampled_from(present), st.sampled_from(typed))
    spoiled = draw(st.lists(flags, min_size=1, max_size=3)) if draw(st.integers(0, 2)) == 0 else []
    for flag in spoiled:
        values[flag] = draw(HOSTILE[flag])
    return values, "+".join(label), tuple(spoiled)


@functools.cache
def fake_cmd(mhsm_dns, storage_endpoint):
    """Enough of az's `cmd` for a validator: a cloud with the suffixes chosen here (None: the cloud has none)."""
    cloud = Cloud(
        "Test", endpoints=CloudEndpoints(), suffixes=CloudSuffixes(mhsm_dns=mhsm_dns, storage_endpoint=storage_endpoint)
    )
    return SimpleNamespace(cli_ctx=SimpleNamespace(cloud=cloud))


CLOUDS = st.sampled_from(
    [(".managedhsm.azure.net", "core.windows.net")] * 10
    + [(".managedhsm.hsmbackup.test", "hsmbackup.test"), (None, "core.windows.net"), (".managedhsm.azure.net", None)]
)
STDIN = st.sampled_from(
    [SAS_GOOD + "\n"] * 4 + [SAS_SHORT, "", "\n", "   \n", "not a token\n", json.dumps(SAS_GOOD) + "\n"]
)

# ---- What every outcome must look like -----------------------------------------------------------------------

HOST = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.?(?::\d{1,5})?"
HSM_URL = re.compile(rf"https://{HOST}")
CONTAINER_URL = re.compile(rf"https://{HOST}(?:/[a-z0-9]{{3,24}})?/[a-z0-9-]{{3,63}}")


def one_printable_line(text):
    """ONE line a terminal shows as it is: every character printable (no \\r, \\t, \\x0b, \\x00, \\u2028 ...)."""
    return bool(text.strip()) and all(c.isprintable() for c in text)


def assert_error_line(error, printed):
    message = error.error_msg
    assert one_printable_line(message), repr(message)
    assert printed == [message], (printed, message)  # exactly what is printed: one record, no extra lines
    assert not error.recommendations and not getattr(error, "example_recommendations", None)
    assert "--" in message, message  # names a flag
    assert SIG not in message and "SIGsecret" not in message, message
    assert len(message) < 600, message


def assert_plan(namespace, command):
    target = namespace.target
    if isinstance(target, Fleet):  # several HSMs: each member's URL (and job), and the one storage target
        assert command in ("create", "wait", "check freshness") and SIG not in repr(target)
        for member in target.members:
            assert HSM_URL.fullmatch(member.hsm_url), member.hsm_url
            assert member.job_id is None or re.fullmatch(r"[0-9a-f]{32}", member.job_id)
        assert len({(m.hsm_url.lower(), m.job_id) for m in target.members}) == len(target.members)  # each HSM once
        assert target.members or target.list_all
        if command == "wait":
            return
        target = target.storage
    assert isinstance(target, Target) and SIG not in repr(target)
    if target.hsm_url is not None:
        assert HSM_URL.fullmatch(target.hsm_url), target.hsm_url
    if target.container_uri is not None:
        assert CONTAINER_URL.fullmatch(target.container_uri), target.container_uri
    if target.storage_auth == "sas":
        assert target.sas_token and one_printable_line(target.sas_token) and not target.sas_token.startswith("?")
    if getattr(namespace, "polling_interval", None) is not None:
        assert 0.1 <= namespace.polling_interval <= 3600
    if getattr(namespace, "timeout", None) is not None:
        assert 1 <= namespace.timeout <= 604800
    if getattr(namespace, "api_version", None) is not None:
        assert names_model.API_VERSION_RE.fullmatch(namespace.api_version)
    if getattr(namespace, "use_managed_identity", None) is not None:
        assert isinstance(namespace.use_managed_identity, bool)
    if command == "show" or (command == "wait" and target.hsm_url):
        assert re.fullmatch(r"[0-9a-f]{32}", namespace.job_id)
    if getattr(namespace, "max_parallel", None) is not None:
        assert 1 <= namespace.max_parallel <= 64 and isinstance(namespace.max_parallel, int)
    if command == "check freshness":  # checked, and the default applied: always a bounded timedelta
        assert timedelta(minutes=1) <= namespace.max_age <= timedelta(days=366)


# ---- The harness: spies, no network, captured output ---------------------------------------------------------

SPIED = (  # counted wherever a module of the extension calls them (each module imports the functions it uses)
    "hsm_url_from_name", "hsm_url_from_object", "hsm_url_from_resource_id", "hsm_url_from_url", "check_container_uri",
    "container_uri_from_names", "resolve_storage_auth", "resolve_folder", "bounded_number", "check_api_version",
    "three_state", "check_job_id", "read_sas_token", "normalize_sas", "check_sas", "split_sas_url",
    "unquote_json_string",
)  # fmt: skip


def callers_of(name):
    """(module, attribute name) of every loaded module of the extension that holds the function `name`."""
    holders = [m for n, m in list(sys.modules.items()) if n.startswith("azext_hsmbackup") and hasattr(m, name)]
    real = {id(getattr(m, name)) for m in holders if callable(getattr(m, name))}
    return [m for m in holders if id(getattr(m, name)) in real]


class Probe:
    """Counts how far inputs get, forbids the network, and collects what az would print."""

    def __init__(self):
        self.counts = Counter()
        self.network = []
        self.records = []

    def _spy(self, real, name):

        def spy(*args, **kwargs):
            key = name
            if name == "hsm_url_from_url" and "hsmUri" in str(kwargs.get("flag", "")):
                key = "hsm_url_from_url(hsmUri)"
            if name == "unquote_json_string" and str(args[0]).startswith('"'):
                key = "unquote_json_string(quoted)"
            self.counts[key] += 1
            result = real(*args, **kwargs)
            self.counts[key + ":ok"] += 1
            return result

        return spy

    def _refuse(self, *args, **kwargs):
        self.network.append(args)
        raise AssertionError(f"a validator opened a connection: {args}")

    def __enter__(self):
        self.stack = ExitStack()
        for name in SPIED:
            holders = callers_of(name)
            assert holders, f"{name} is called by no module"
            spy = self._spy(getattr(holders[0], name), name)
            for module in holders:
                self.stack.enter_context(mock.patch.object(module, name, spy))
        for target in ("socket.socket.connect", "socket.socket.connect_ex", "socket.create_connection",
                       "socket.getaddrinfo", "socket.socket.sendto"):  # fmt: skip
            self.stack.enter_context(mock.patch(target, self._refuse))
        probe = self

        class Collect(logging.Handler):
            def emit(self, record):
                probe.records.append(record)

        handler = Collect(level=logging.DEBUG)
        for name in ("cli.azure.cli.core.azclierror", "cli.azext_hsmbackup._validators"):
            logger = logging.getLogger(name)
            self.stack.enter_context(mock.patch.object(logger, "handlers", [handler]))
            self.stack.enter_context(mock.patch.object(logger, "propagate", False))
        return self

    def __exit__(self, *exc):
        self.stack.close()

    def run(self, validate, cmd, values, stdin):
        """One command run: returns ("plan", namespace, warnings) or ("error", error, printed lines)."""
        self.records.clear()
        namespace = argparse.Namespace(**values)
        with mock.patch.object(sys, "stdin", io.StringIO(stdin)):
            try:
                validate(cmd, namespace)
            except ExitWith as exit_:
                assert exit_.code == 2, exit_.code
                printed = [r.getMessage() for r in self.records if r.levelno >= logging.ERROR]
                return "error", exit_.error, printed
        assert not [r for r in self.records if r.levelno >= logging.ERROR]
        warnings = [r.getMessage() for r in self.records if r.levelno == logging.WARNING]
        return "plan", namespace, warnings


# Derandomized: the same examples on every run, so the counts asserted below never flake and a failure replays.
EXAMPLES = 1200
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True
)


def check_outcome(probe, command, values, cloud, stdin, counts):
    """The contract for one run; returns the outcome ("plan" or "error") and the error or namespace."""
    outcome, result, extra = probe.run(COMMANDS[command][0], fake_cmd(*cloud), values, stdin)
    counts["ran"] += 1
    counts[outcome] += 1
    counts[f"{command}:{outcome}"] += 1
    if outcome == "error":
        assert_error_line(result, extra)
        return outcome, result
    assert_plan(result, command)
    for warning in extra:
        assert one_printable_line(warning) and SIG not in warning, warning
    if command in ("list", "delete", "prune", "check freshness"):
        assert extra == [], extra  # the 24-hour SAS warning is for jobs the HSM runs
    counts["plan:warned"] += bool(extra)
    return outcome, result


def exercise(commands, check_counts, examples=EXAMPLES):
    """Run the property over `commands`, then hand the counts of this run (only) to check_counts."""
    counts = Counter()
    with Probe() as probe:

        @settings(SETTINGS, max_examples=examples)
        @given(st.sampled_from(commands).flatmap(lambda c: st.tuples(st.just(c), invocation(c))), CLOUDS, STDIN)
        def run(case, cloud, stdin):
            command, (values, label, spoiled) = case
            outcome, _ = check_outcome(probe, command, values, cloud, stdin, counts)
            for flag in set(spoiled):
                counts[f"{command}:hostile:{flag}"] += 1
            for part in label.split("+"):
                counts[f"set:{part}"] += 1
            if outcome == "plan":
                counts[f"plan:{label}"] += 1
                for part in label.split("+"):
                    counts[f"plan:{part}"] += 1

        run()
        counts.update({f"reached:{k}": n for k, n in probe.counts.items()})
        assert probe.network == []
    print(f"\n{sorted(commands)}: " + ", ".join(f"{k}={n}" for k, n in sorted(counts.items())))
    assert counts["ran"] >= examples and counts["plan"] >= 300 and counts["error"] >= 300
    # every parameter set is tried hundreds of times, and goes all the way to a plan at least 80 times
    forms = {key.split(":", 1)[1] for key in counts if key.startswith("set:")}
    single = forms - set(FLEET_FORMS)  # the several-HSM forms share create and wait with three others: fewer runs
    at_least(counts, 200, *(f"set:{form}" for form in single))
    at_least(counts, 80, *(f"plan:{form}" for form in single))
    at_least(counts, 100, *(f"set:{form}" for form in forms - single))
    at_least(counts, 40, *(f"plan:{form}" for form in forms - single))
    check_counts(counts)


def at_least(counts, floor, *keys):
    low = {key: counts[key] for key in keys if counts[key] < floor}
    assert not low, f"reached fewer than {floor} times: {low}"


# ---- The properties ------------------------------------------------------------------------------------------


def test_create_and_check_backup():
    def check(counts):
        at_least(
            counts,
            200,
            "reached:normalize_sas",
            "reached:check_sas",
            "reached:resolve_storage_auth",
            "reached:bounded_number",
            "reached:check_api_version",
            "reached:three_state",
        )
        at_least(counts, 120, "reached:hsm_url_from_resource_id", "reached:hsm_url_from_object:ok")
        at_least(counts, 100, "reached:hsm_url_from_url(hsmUri):ok")
        # the SAS forms: JSON-quoted, a whole SAS URL, and the short-lived one that warns
        at_least(counts, 50, "reached:unquote_json_string(quoted)", "reached:split_sas_url", "plan:warned")

    exercise(["create", "check backup"], check)


def test_restore_and_check_restore():
    def check(counts):
        at_least(counts, 200, "reached:resolve_folder", "reached:normalize_sas", "reached:hsm_url_from_object")
        at_least(counts, 200, "reached:hsm_url_from_url(hsmUri):ok")
        at_least(counts, 150, "reached:hsm_url_from_resource_id")
        at_least(counts, 50, "plan:warned")

    exercise(["restore", "check restore"], check)


def test_show_and_wait():
    def check(counts):
        at_least(counts, 200, "reached:check_job_id", "show:plan", "wait:plan")
        at_least(counts, 200, "reached:bounded_number")
        at_least(counts, 150, "reached:hsm_url_from_resource_id")
        assert counts["plan:warned"] == 0

    exercise(["show", "wait"], check)


def test_list_delete_and_prune():
    def check(counts):
        at_least(counts, 200, "plan:uri", "plan:names", "plan:sas_token", "reached:check_sas", "reached:normalize_sas")
        assert counts["set:uri"] + counts["set:names"] == counts["ran"]
        at_least(counts, 200, "reached:check_container_uri")
        at_least(counts, 150, "list:plan", "delete:plan", "prune:plan")
        at_least(counts, 50, "reached:unquote_json_string(quoted)", "reached:split_sas_url")
        assert counts["plan:warned"] == 0  # short-lived SAS tokens were among them: no warning here

    exercise(["list", "delete", "prune"], check)


def test_check_freshness():
    def check(counts):
        at_least(counts, 150, "plan:uri", "plan:names", "plan:sas_token", "plan:use_managed_identity")
        at_least(counts, 100, "reached:check_sas", "reached:hsm_url_from_resource_id", "reached:three_state")
        at_least(counts, 40, "check freshness:hostile:max_age")
        assert counts["plan:warned"] == 0

    exercise(["check freshness"], check, examples=1500)  # five HSM forms: a few more runs for 200 of each


# ---- The whole flag table: every flag of every command, every value class, from a valid base --------------------

VALUE_CLASSES = {
    "empty": ["", " ", "\t", "\n", " \r\n ", "\u3000"],
    "control": ["\x00", "\x0b", "\r", "\x1b[31m", "\u2028", "\x85"],  # put inside a valid value
    "numbers": ["0", "-0", "-1", "-0.5", "nan", "-inf", "inf", "Infinity", "1e309", "9" * 400, "0x10", "1_000"],
    "words": ["abc", "None", "yes", "true", "5s", "½", "٣"],
    "huge": ["a" * 5000, "x" * 200_000, "[" * 50_000, "%" * 10_000],
    "wrong things": WRONG_THING_VALUES,
}
OPTION = {  # the flag each attribute is typed as; an error about a value names it
    "hsm_name": "--hsm-name", "hsm_object": "--hsm-object", "hsm_id": "--id",
    "storage_account_name": "--storage-account-name", "storage_container_name": "--storage-container-name",
    "storage_container_uri": "--storage-container-uri", "sas_token": "--sas-token",
    "use_managed_identity": "--use-user-managed-identity", "api_version": "--api-version",
    "polling_interval": "--polling-interval", "timeout": "--timeout", "job_id": "--job-id", "max_age": "--max-age",
}  # fmt: skip
H1_FLAGS = {"folder_url", "backup_folder", "key_name", "keep", "older_than", "hsm_filter"}  # contract only here


def bases(command):
    """Valid invocations of `command` to start from: with the HSM's identity and with a SAS where both exist."""
    args = arguments(command)
    given = {
        "hsm_name": "myhsm",
        "storage_container_uri": CONTAINER,
        "folder_url": f"{CONTAINER}/{FOLDER}",
        "backup_folder": FOLDER,
        "job_id": VALID["job_id"][0],
        "api_version": "2025-07-01",
        "polling_interval": "0.5",
        "timeout": "600",
        "key_name": "key1",
        "keep": "3",
        "older_than": "30",
        "hsm_filter": "myhsm",
        "max_age": "26h",
    }
    base = {**args, **{k: v for k, v in given.items() if k in args}}
    if "folder_url" in args:
        base["storage_container_uri"] = base["backup_folder"] = None
    if "use_managed_identity" in args:
        return [{**base, "use_managed_identity": "true"}, {**base, "sas_token": SAS_GOOD}]
    return [base, {**base, "sas_token": SAS_GOOD}] if "sas_token" in args else [base]


def hostile_values(valid):
    text = str(valid or "abc")
    for name, values in VALUE_CLASSES.items():
        for value in values:
            yield name, text[: len(text) // 2] + value + text[len(text) // 2 :] if name == "control" else value


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_flag_with_every_value_class(command):
    """No randomness: each flag of the command gets each value class, the rest of the command being valid."""
    counts = Counter()
    cloud = (".managedhsm.azure.net", "core.windows.net")
    with Probe() as probe:
        for base in bases(command):
            assert check_outcome(probe, command, dict(base), cloud, "", counts)[0] == "plan", base
            for flag in [f for f in base if f in VALID and f not in STORE_TRUE]:
                for value_class, value in hostile_values(base[flag]):
                    outcome, result = check_outcome(probe, command, {**base, flag: value}, cloud, "", counts)
                    counts[f"{flag}:{value_class}"] += 1
                    if outcome == "error" and flag in OPTION:
                        assert OPTION[flag] in result.error_msg, (flag, value, result.error_msg)
                    if outcome == "plan" and flag in OPTION and value_class in ("empty", "control", "huge"):
                        pytest.fail(f"{OPTION[flag]} {value!r:.80} was accepted by {command}")
        assert probe.network == []
    flags = {f for base in bases(command) for f in base if f in VALID and f not in STORE_TRUE}
    assert {key for key in counts if ":" in key and key.split(":")[0] in flags} >= {
        f"{flag}:{value_class}" for flag in flags for value_class in VALUE_CLASSES
    }
    print(f"\n{command}: {counts['ran']} runs, {counts['error']} refused, {counts['plan']} accepted")


# Pure resolvers with values az never hands over (numbers, lists, dicts, bools): still a Problem (which the glue
# makes the az error of the same meaning), not a crash.
PYTHON_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2), ANY_TEXT,
)  # fmt: skip


@pytest.mark.parametrize(
    "resolve, flags",
    [
        (target_model.resolve_target, ["hsm_name", "hsm_object", "hsm_id", "storage_container_uri", "sas_token"]),
        (target_model.resolve_restore_target, ["hsm_id", "folder_url", "storage_account_name", "sas_token"]),
        (target_model.resolve_storage_target, ["storage_account_name", "storage_container_name", "sas_token"]),
        (target_model.resolve_job, ["hsm_name", "hsm_object", "job_id"]),
    ],
    ids=lambda x: getattr(x, "__name__", "flags"),
)
def test_resolvers_with_any_python_value(resolve, flags):
    outcomes = Counter()

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)
    @given(st.fixed_dictionaries({flag: PYTHON_VALUES for flag in flags}))
    def run(kwargs):
        try:
            target, warnings = resolve(
                **kwargs, mhsm_dns_suffix=".managedhsm.azure.net", storage_endpoint_suffix="x.net"
            )
        except Problem as error:
            assert one_printable_line(error.error_msg), repr(error.error_msg)
            outcomes["error"] += 1
            return
        assert isinstance(target, Target) and all(one_printable_line(w) for w in warnings)
        outcomes["plan"] += 1

    with mock.patch.object(sys, "stdin", io.StringIO("")):
        run()
    assert outcomes["error"] >= 250, outcomes


def test_one_printable_line_sees_every_invisible_character():
    """The check the properties rely on: any control or separator character fails it, not only \\n."""
    for char in CONTROL.replace("\u200b", "").replace("\ufeff", ""):
        assert not one_printable_line(f"--flag 'a{char}b' is bad"), repr(char)
    for char in ("\u200b", "\ufeff"):  # format characters: not printable either
        assert unicodedata.category(char) == "Cf" and not one_printable_line(char)
    assert one_printable_line("--hsm-name 'a\\x0bb' is not a valid Managed HSM name. Use é and ☃.")
