"""The recording processors of the scenario tests: what keeps access tokens, SAS signatures, account and delegation
keys, random local ports and the names of the place a recording was made out of recordings/*.yaml, and what makes a
request sent in playback look like the one recorded.

A recording is made live, against the local stack (`make record`) or a real subscription, and always reads as if
it had been made in the public cloud with the playback names of base.py: the live HSM, account, key and suffixes
are replaced by those. The same scrubbing runs over each request in playback before it is matched, so a SAS with
other times or signature (the one base.py uses in playback, or one minted from a user delegation key) still finds
its recorded twin.
"""

import base64
import re

from azure.cli.testsdk.scenario_tests import RecordingProcessor

REDACTED = "REDACTED"
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
# The suffixes of the public cloud, which recordings use whatever cloud they were made in.
PLAYBACK_MHSM_SUFFIX = ".managedhsm.azure.net"
PLAYBACK_STORAGE_SUFFIX = "core.windows.net"
# Where a Managed HSM's 401 challenge sends the client for a token (the tenant zeroed).
PLAYBACK_AUTHORITY = f"https://login.microsoftonline.com/{ZERO_GUID}"
# A user delegation key in playback: valid base64 (the SDK signs with it), of no secret.
PLAYBACK_DELEGATION_KEY = base64.b64encode(b"hsmbackup-playback-user-delegation-key").decode("ascii")

# SAS fields in a request URL that change with every token: its times, the signer (user delegation) and the
# signature. A fixed value in the recording and in playback alike, so that the query matcher compares the rest.
_SAS_VOLATILE = {
    "sig": REDACTED,
    "st": "2000-01-01T00%3A00%3A00Z",
    "se": "2000-01-01T00%3A00%3A00Z",
    "skt": "2000-01-01T00%3A00%3A00Z",
    "ske": "2000-01-01T00%3A00%3A00Z",
    "skoid": ZERO_GUID,
    "sktid": ZERO_GUID,
}
_SAS_FIELD_RE = re.compile(r"(?<=[?&])(" + "|".join(_SAS_VOLATILE) + r")=[^&#]*")

# Secrets wherever they are: in a URL, a JSON body (the SAS of a job start), an XML body, a header.
_SCRUB = [
    # a SAS signature, plain or URL-encoded
    (re.compile(r"sig=[^&\"'\s<]+"), "sig=" + REDACTED),
    (re.compile(r"sig%3D[^&\"'\s<]+", re.IGNORECASE), "sig%3D" + REDACTED),
    # JWTs (access tokens, client assertions) and bearer values (not a challenge's `Bearer authorization=...`)
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), REDACTED),
    (re.compile(r"(?i)\bBearer\s+(?!authorization|REDACTED)[A-Za-z0-9._~+/-]{8,}=*"), "Bearer " + REDACTED),
    (re.compile(r"\"(access_token|refresh_token|id_token|client_secret)\"\s*:\s*\"[^\"]*\""), r'"\1": "REDACTED"'),
    # the key of a user delegation key (its answer is XML), and account keys in connection strings
    (re.compile(r"<Value>[^<]*</Value>"), f"<Value>{PLAYBACK_DELEGATION_KEY}</Value>"),
    (re.compile(r"(?i)AccountKey=[^;\"'\s]+"), "AccountKey=" + REDACTED),
    # who signed a user delegation key: your object and tenant ids
    (re.compile(r"<(SignedOid|SignedTid)>[^<]*</"), rf"<\1>{ZERO_GUID}</"),
    # the authority a 401 challenge names: the sign-in stand-in's random port locally, your tenant in Azure
    (re.compile(r"(authorization(?:_uri)?=\")https?://[^\"]*\""), rf'\g<1>{PLAYBACK_AUTHORITY}"'),
    # the caller's address the HSM reports (x-ms-keyvault-network-info): yours, when recorded against Azure
    (re.compile(r"(?<![A-Za-z0-9_])addr=[0-9A-Fa-f:.]+"), "addr=0.0.0.0"),
    # any other local address with its random port
    (re.compile(r"https?://(?:127\.0\.0\.1|localhost):\d+"), "https://localhost"),
    (re.compile(r"(?:127\.0\.0\.1|localhost):\d+"), "localhost"),
]

# `(Linux-6.1-x86_64-with-glibc2.36)` in az's User-Agent
_PLATFORM_RE = re.compile(r"\((?:Linux|Windows|macOS|Darwin)[^)]*\)")

# The paths of sign-in traffic: Entra ID's token, discovery and metadata endpoints, and managed identity's.
_SIGN_IN_PATH_RE = re.compile(
    r"/oauth2/(?:v2\.0/)?(?:token|authorize|devicecode)|/\.well-known/openid-configuration|/discovery/instance"
    r"|/common/userrealm|/metadata/identity/|/msi/token",
    re.IGNORECASE,
)


def scrub_text(text):
    """`text` with every secret and local port of _SCRUB replaced."""
    for pattern, replacement in _SCRUB:
        text = pattern.sub(replacement, text)
    return text


def normalize_sas_in_url(url):
    """A URL with a SAS, its volatile fields (times, signer, signature) fixed; other URLs unchanged."""
    if "sig=" not in url:
        return url
    return _SAS_FIELD_RE.sub(lambda m: f"{m.group(1)}={_SAS_VOLATILE[m.group(1)]}", url)


class TextProcessor(RecordingProcessor):
    """Applies `fix` to a request's URL and body, and to a response's body and every header."""

    def fix(self, text):
        return text

    def fix_url(self, url):
        return self.fix(url)

    def process_request(self, request):
        request.uri = self.fix_url(request.uri)
        body = request.body
        if body:
            fixed = _fixed_payload(body, self.fix)
            if fixed is not body:
                request.body = fixed
        return request

    def process_response(self, response):
        body = response.get("body", {}).get("string")
        if body:
            response["body"]["string"] = _fixed_payload(body, self.fix)
        for key, values in list(response.get("headers", {}).items()):
            response["headers"][key] = [self.fix(v) if isinstance(v, str) else v for v in values]
        return response


def _fixed_payload(payload, fix):
    """`fix` applied to a text payload, given and returned as str or bytes; a binary payload is left as it is."""
    if isinstance(payload, str):
        return fix(payload)
    try:
        text = payload.decode("utf-8")
    except (AttributeError, UnicodeDecodeError):
        return payload
    fixed = fix(text)
    return payload if fixed == text else fixed.encode("utf-8")


class SecretScrubber(TextProcessor):
    """Every SAS signature, token, key and local port out; a SAS's volatile fields fixed in URLs (for matching)."""

    def fix(self, text):
        return scrub_text(text)

    def fix_url(self, url):
        return scrub_text(normalize_sas_in_url(url))

    def process_request(self, request):
        """Also the platform in the User-Agent (kernel, libc): the recorder's machine, not the request's shape."""
        request = super().process_request(request)
        for name in [n for n in request.headers if n.lower() == "user-agent"]:
            request.headers[name] = _PLATFORM_RE.sub("(platform)", str(request.headers[name]))
        return request


class NameReplacer(TextProcessor):
    """The live cloud's suffixes and the live names (HSM, account, key...) by their playback twins.

    A suffix is replaced as a plain string; a name only where it is not part of a longer word of letters and digits
    (a container called `hsm` stays inside `managedhsm`), so `mhsm-<hsm>-<time>` folder names follow the HSM's name.
    """

    def __init__(self, suffixes, names):
        self.suffixes = sorted(((a, b) for a, b in suffixes if a and a != b), key=lambda p: -len(p[0]))
        self.names = [
            (re.compile(rf"(?<![A-Za-z0-9]){re.escape(a)}(?![A-Za-z0-9])"), b)
            for a, b in sorted(((a, b) for a, b in names if a and a != b), key=lambda p: -len(p[0]))
        ]

    def fix(self, text):
        for live, playback in self.suffixes:
            text = text.replace(live, playback)
        for pattern, playback in self.names:
            text = pattern.sub(playback, text)
        return text


def cloud_suffix_pairs(cloud):
    """(live, playback) pairs for the Managed HSM and blob endpoints of `cloud` (empty for the public cloud)."""
    pairs = []
    mhsm = _suffix(cloud, "mhsm_dns")
    if mhsm:
        pairs.append((mhsm.lstrip("."), PLAYBACK_MHSM_SUFFIX.lstrip(".")))  # also the challenge's resource=
    storage = _suffix(cloud, "storage_endpoint")
    if storage:
        pairs.append((f".blob.{storage}", f".blob.{PLAYBACK_STORAGE_SUFFIX}"))
    return pairs


def _suffix(cloud, name):
    try:
        return getattr(cloud.suffixes, name)
    except Exception:  # azure-cli-core raises CloudSuffixNotSetException for a suffix the cloud has not set
        return None


class SignInFilter(RecordingProcessor):
    """Leaves sign-in traffic (token requests and their answers, discovery, managed identity) out of recordings."""

    def process_request(self, request):
        path = request.path if hasattr(request, "path") else request.uri
        if _SIGN_IN_PATH_RE.search(path or ""):
            return None
        return request
