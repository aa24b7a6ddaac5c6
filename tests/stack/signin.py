"""A local stand-in for Microsoft Entra ID, the bits of ARM that `az login` reads, and App Service managed identity.

    python -m tests.stack.signin --state-dir DIR --cert C --key K [--port 0] [--token-lifetime 3600]

HTTPS on 127.0.0.1 only. When it listens it writes DIR/signin.json = {"port", "pid", "url"} (atomically) and logs
each request as one JSON line to DIR/signin-requests.jsonl (secrets masked, tokens never logged). SIGTERM stops it.

Endpoints (the cloud's activeDirectory and resourceManager endpoints both point here):
  GET  /{tenant}[/v2.0]/.well-known/openid-configuration    OIDC discovery (issuer on this host, so MSAL accepts it)
  POST /{tenant}/oauth2/v2.0/token                          client_credentials with SP_APP_ID + SP_SECRET
  POST /{tenant}/oauth2/token                               the same, v1 style (resource= instead of scope=)
  GET  /subscriptions, /subscriptions/{id}, /tenants         ARM, any Bearer token
  GET  /subscriptions/{id}[/resourceGroups/{rg}]/providers/Microsoft.KeyVault/managedHSMs?api-version=V
                                                             ARM managedHSMs list (paged via nextLink/$skiptoken)
  GET  /subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.KeyVault/managedHSMs/{name}   one record
  GET  /metadata/endpoints                                   ARM cloud metadata for this cloud
  GET  /msi/token?api-version=2019-08-01&resource=R          App Service managed identity (X-IDENTITY-HEADER)
  GET  /_signin/requests                                     the request log as a JSON list (tests)
  GET|POST /_signin/config                                   {"token_lifetime": s, "fail_token": {...} | null,
                                                              "clock_offset_s": s (token times = real + s)}
  GET|POST /_signin/fleet                                    {"hsms": [{"name", "resourceGroup", ...}], "page_size"}
                                                             the Managed HSMs ARM lists (see Fleet.declare)

The access tokens are unsigned-in-effect JWTs (header.claims.junk) with v1.0 Entra claims; nothing here checks a
signature, and neither does Azurite.
"""

import argparse
import base64
import json
import os
import re
import secrets
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.stack import constants as C
from tests.stack._server import (
    HOST,
    JsonHandler,
    JsonLines,
    TLSThreadingHTTPServer,
    serve_until_sigterm,
    server_tls_context,
    utc_now,
)
from tests.stack.clock import check_offset_s

SENSITIVE = {
    "client_secret",
    "client_assertion",
    "password",
    "refresh_token",
    "assertion",
    "code",
    "code_verifier",
    "access_token",
    "id_token",
}
MASK = "***"
RESERVED_SCOPES = {"openid", "profile", "offline_access"}
TENANT_DISPLAY_NAME = "HSM Backup Local Tenant"
TENANT_DOMAIN = "hsmbackuplocal.onmicrosoft.test"
_HSM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$")  # ARM's managedHSMs name rule: 3-24 chars
_RG_NAME = re.compile(r"^[-\w._()]{1,90}$")
HSM_TYPE = "Microsoft.KeyVault/managedHSMs"
_HOST_HEADER = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


# ---- tokens ---------------------------------------------------------------------------------------------------


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def audience_from_scope(scope):
    """`https://x/.default` -> `https://x`; the ARM scope `https://management.core.windows.net//.default` keeps
    its trailing slash (`https://management.core.windows.net/`), as Entra ID does."""
    if scope.endswith("/.default"):
        return scope[: -len("/.default")]
    if "://" in scope and scope.count("/") > 2:
        return scope.rsplit("/", 1)[0]  # https://x/user_impersonation -> https://x
    return scope


def make_jwt(audience, oid, appid, lifetime, idtyp="app", extra=None, now=None):
    now = int(time.time() if now is None else now)
    claims = {
        "aud": audience,
        "iss": f"https://sts.windows.net/{C.TENANT_ID}/",
        "iat": now,
        "nbf": now - 5,
        "exp": now + int(lifetime),
        "aio": _b64url(secrets.token_bytes(24)),
        "appid": appid,
        "appidacr": "1",
        "idp": f"https://sts.windows.net/{C.TENANT_ID}/",
        "idtyp": idtyp,
        "oid": oid,
        "rh": "0.local.",
        "sub": oid,
        "tid": C.TENANT_ID,
        "uti": _b64url(secrets.token_bytes(16)),
        "jti": str(uuid.uuid4()),
        "ver": "1.0",
    }
    claims.update(extra or {})
    header = {"typ": "JWT", "alg": "RS256", "kid": "hsmbackup-local", "x5t": "hsmbackup-local"}
    return ".".join(
        [
            _b64url(json.dumps(header, separators=(",", ":")).encode()),
            _b64url(json.dumps(claims, separators=(",", ":")).encode()),
            _b64url(secrets.token_bytes(64)),  # junk "signature": nobody verifies it
        ]
    )


def decode_jwt(token):
    """The claims of a JWT (no verification), or None if it is not one."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None


def _aad_error(error, code, description):
    now = utc_now()
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    return {
        "error": error,
        "error_description": f"{code}: {description} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {now}",
        "error_codes": [int(code[len("AADSTS") :])],
        "timestamp": now,
        "trace_id": trace,
        "correlation_id": correlation,
    }


def _mask(fields):
    return {k: (MASK if k.lower() in SENSITIVE else v) for k, v in fields.items()}


def _flatten(qs):
    return {k: (v[0] if len(v) == 1 else v) for k, v in qs.items()}


# ---- the ARM fleet of Managed HSMs ---------------------------------------------------------------------------


class Fleet:
    """The Managed HSMs that ARM lists. Each points (hsmUri) at the emulator, which serves any HSM by host name.

    A test declares them with POST /_signin/fleet {"hsms": [...], "page_size": n}; each entry:
      name (required), resourceGroup ("hsmbackup-local"), location ("westus"), activationStatus ("Active"),
      provisioningState ("Succeeded"), identity ("none" | "user" | "system" | an ARM identity object; default
      "user"), regions (extra region names: a multi-region HSM is still one resource), tags ({}).
    """

    def __init__(self):
        self.hsms = []
        self.page_size = 100

    def declare(self, body):
        if not isinstance(body, dict):
            raise ValueError("the fleet is a JSON object")
        hsms = body.get("hsms", [])
        if not isinstance(hsms, list):
            raise ValueError("hsms must be a list")
        page_size = int(body.get("page_size", 100))
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be 1..1000")
        records, seen = [], set()
        for entry in hsms:
            record = self._record(entry)
            key = record["id"].lower()
            if key in seen:
                raise ValueError(f"HSM {record['name']} is declared twice in its resource group")
            seen.add(key)
            records.append(record)
        self.hsms, self.page_size = records, page_size
        return self.config()

    def config(self):
        return {"hsms": self.hsms, "page_size": self.page_size}

    @staticmethod
    def _record(entry):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not _HSM_NAME.match(entry["name"]):
            raise ValueError(f"each HSM needs a name of 3-24 letters, digits and hyphens: {entry!r}")
        name = entry["name"]
        group = str(entry.get("resourceGroup", "hsmbackup-local"))
        if not _RG_NAME.match(group) or group.endswith("."):
            raise ValueError(f"bad resourceGroup {group!r}")
        location = str(entry.get("location", "westus"))
        rid = f"/subscriptions/{C.SUBSCRIPTION_ID}/resourceGroups/{group}/providers/{HSM_TYPE}/{name}"
        record = {
            "id": rid,
            "name": name,
            "type": HSM_TYPE,
            "location": location,
            "sku": {"family": "B", "name": "Standard_B1"},
            "tags": dict(entry.get("tags") or {}),
            "properties": {
                "tenantId": C.TENANT_ID,
                "hsmUri": f"https://{name}{C.MHSM_DNS_SUFFIX}/",
                "initialAdminObjectIds": [C.SP_OBJECT_ID],
                "enableSoftDelete": True,
                "softDeleteRetentionInDays": 90,
                "enablePurgeProtection": False,
                "provisioningState": str(entry.get("provisioningState", "Succeeded")),
                "statusMessage": "The Managed HSM is provisioned and ready to use.",
                "securityDomainProperties": {
                    "activationStatus": str(entry.get("activationStatus", "Active")),
                    "activationStatusMessage": "Your HSM has been activated and can be used for cryptographic "
                    "operations.",
                },
                "regions": [
                    {"name": region, "isPrimary": index == 0, "provisioningState": "Succeeded"}
                    for index, region in enumerate([location, *map(str, entry.get("regions") or [])])
                ],
                "publicNetworkAccess": "Enabled",
                "networkAcls": {"bypass": "AzureServices", "defaultAction": "Allow"},
            },
            "systemData": {
                "createdBy": C.SP_APP_ID,
                "createdByType": "Application",
                "createdAt": "2026-01-05T09:00:00.0000000Z",
                "lastModifiedBy": C.SP_APP_ID,
                "lastModifiedByType": "Application",
                "lastModifiedAt": "2026-01-05T09:00:00.0000000Z",
            },
        }
        if record["properties"]["securityDomainProperties"]["activationStatus"] != "Active":
            record["properties"]["securityDomainProperties"]["activationStatusMessage"] = (
                "Your HSM has been provisioned, but cannot be used for cryptographic operations until it is "
                "activated. To activate the HSM, download the security domain."
            )
        identity = entry.get("identity", "user")
        if identity == "user":
            uami = f"/subscriptions/{C.SUBSCRIPTION_ID}/resourceGroups/{group}/providers/"
            uami += f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}-backup"
            identity = {
                "type": "UserAssigned",
                "userAssignedIdentities": {
                    uami: {
                        "principalId": str(uuid.uuid5(uuid.NAMESPACE_URL, uami + "#principal")),
                        "clientId": str(uuid.uuid5(uuid.NAMESPACE_URL, uami + "#client")),
                    }
                },
            }
        elif identity == "system":
            identity = {
                "type": "SystemAssigned",
                "principalId": str(uuid.uuid5(uuid.NAMESPACE_URL, rid + "#system")),
                "tenantId": C.TENANT_ID,
            }
        elif identity in (None, "none"):
            identity = None
        elif not isinstance(identity, dict):
            raise ValueError(f"identity must be none, user, system or an object: {identity!r}")
        if identity is not None:
            record["identity"] = identity
        return record

    def in_group(self, group):
        return [h for h in self.hsms if group is None or h["id"].split("/")[4].lower() == group.lower()]

    def groups(self):
        return {h["id"].split("/")[4].lower() for h in self.hsms}


# ---- the server ----------------------------------------------------------------------------------------------


class SignIn:
    """Mutable state shared by the request threads: token lifetime, injected failures, the request log."""

    def __init__(self, log_path, token_lifetime):
        self.log = JsonLines(log_path)
        self.lock = threading.Lock()
        self.token_lifetime = int(token_lifetime)
        self.fail_token = None  # {"status", "error", "error_description", "remaining"} or None
        # Storage tokens that Azurite refuses (an issuer it does not trust): the identity has no storage access.
        # Azurite checks no roles, so this is how a test gets storage to say no to the signed-in identity.
        self.storage_refuses = False
        self.clock_offset_s = 0.0  # the stack's set_clock: every token time is the real one + this
        self.fleet = Fleet()
        self.url = None

    def config(self):
        return {
            "token_lifetime": self.token_lifetime,
            "fail_token": self.fail_token,
            "storage_refuses": self.storage_refuses,
            "clock_offset_s": self.clock_offset_s,
        }

    def now(self):
        return time.time() + self.clock_offset_s

    def extra_claims(self, audience):
        if self.storage_refuses and audience.rstrip("/") == C.STORAGE_RESOURCE:
            return {"iss": "https://sts.untrusted.invalid/no-storage-role/"}
        return None

    def update(self, body):
        with self.lock:
            if "token_lifetime" in body:
                lifetime = int(body["token_lifetime"])
                if lifetime < 1:
                    raise ValueError("token_lifetime must be >= 1")
                self.token_lifetime = lifetime
            if "clock_offset_s" in body:
                self.clock_offset_s = check_offset_s(body["clock_offset_s"])
            if "storage_refuses" in body:
                self.storage_refuses = bool(body["storage_refuses"])
            if "fail_token" in body:
                fail = body["fail_token"]
                if fail is None:
                    self.fail_token = None
                else:
                    self.fail_token = {
                        "status": int(fail.get("status", 503)),
                        "error": str(fail.get("error", "temporarily_unavailable")),
                        "error_description": str(
                            fail.get("error_description", "AADSTS50196: The server is temporarily unavailable (test).")
                        ),
                        "remaining": None if fail.get("times") is None else int(fail["times"]),
                    }
            return self.config()

    def take_failure(self):
        """The injected token failure to answer with now, if any (counts down `times`)."""
        with self.lock:
            fail = self.fail_token
            if not fail:
                return None
            if fail["remaining"] is not None:
                fail["remaining"] -= 1
                if fail["remaining"] <= 0:
                    self.fail_token = None
            return dict(fail)


class Handler(JsonHandler):
    state: SignIn  # set on the subclass made in main()

    # ---- plumbing ----

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def _dispatch(self):
        url = urlsplit(self.path)
        self.route = re.sub(r"/{2,}", "/", url.path) or "/"
        self.query = parse_qs(url.query, keep_blank_values=True)
        self.form = {}
        self.record = {
            "time": utc_now(),
            "method": self.command,
            "path": self.route,
            "query": _mask(_flatten(self.query)),
            "authorization": bool(self.headers.get("Authorization")),
        }
        try:
            body = self.read_body()
            if body and "application/x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
                self.form = _flatten(parse_qs(body.decode("utf-8"), keep_blank_values=True))
                self.record["form"] = _mask(self.form)
            self.body = body
            self._route()
        except Exception as exc:  # a test server answers 500 rather than dropping the socket
            self.record["exception"] = repr(exc)
            self.send_json(500, {"error": {"code": "InternalError", "message": repr(exc)}})
        finally:
            if not self.route.startswith("/_signin/"):
                self.state.log.append(self.record)

    def send_json(self, status, payload, headers=None):
        self.record["status"] = status
        super().send_json(status, payload, headers)

    def base_url(self):
        """Scheme + host the client used to reach us (so the OIDC issuer matches MSAL's authority)."""
        host = self.headers.get("Host") or ""
        if _HOST_HEADER.match(host):
            return f"https://{host}"
        return self.state.url

    def _route(self):
        r, m = self.route, self.command
        parts = [p for p in r.split("/") if p]
        if (
            m == "GET"
            and r.endswith("/.well-known/openid-configuration")
            and (len(parts) == 3 or (len(parts) == 4 and parts[1] == "v2.0"))
        ):
            return self.openid_configuration(parts[0], v2=len(parts) == 4)
        if m == "POST" and len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
            return self.token(parts[0], v2=True)
        if m == "POST" and len(parts) == 3 and parts[1:] == ["oauth2", "token"]:
            return self.token(parts[0], v2=False)
        if m == "GET" and r == "/msi/token":
            return self.msi_token()
        if m == "GET" and r == "/subscriptions":
            return self.arm(lambda: {"value": [self.subscription()]})
        if m == "GET" and len(parts) == 2 and parts[0] == "subscriptions":
            return self.arm(lambda: self.subscription() if parts[1].lower() == C.SUBSCRIPTION_ID else None)
        if m == "GET" and len(parts) >= 5 and parts[0] == "subscriptions" and "providers" in parts:
            return self.managed_hsms(parts)
        if m == "GET" and r == "/tenants":
            return self.arm(lambda: {"value": [self.tenant()]})
        if m == "GET" and r == "/metadata/endpoints":
            return self.send_json(200, self.cloud_metadata())
        if r == "/_signin/requests" and m == "GET":
            return self.send_json(200, self.state.log.read())
        if r == "/_signin/config":
            if m == "POST":
                try:
                    return self.send_json(200, self.state.update(json.loads(self.body or b"{}")))
                except (ValueError, TypeError, AttributeError) as exc:
                    return self.send_json(400, {"error": str(exc)})
            return self.send_json(200, self.state.config())
        if r == "/_signin/fleet":
            if m == "POST":
                try:
                    with self.state.lock:
                        return self.send_json(200, self.state.fleet.declare(json.loads(self.body or b"{}")))
                except (ValueError, TypeError, AttributeError) as exc:
                    return self.send_json(400, {"error": str(exc)})
            return self.send_json(200, self.state.fleet.config())
        return self.send_json(404, {"error": {"code": "NotFound", "message": f"No route for {m} {r} here."}})

    # ---- Entra ID ----

    def openid_configuration(self, tenant, v2):
        if tenant.lower() != C.TENANT_ID:
            return self.send_json(
                400,
                _aad_error(
                    "invalid_tenant",
                    "AADSTS90002",
                    f"Tenant '{tenant}' not found. Check to make sure you have the "
                    "correct tenant ID and are signing into the correct cloud.",
                ),
            )
        base = f"{self.base_url()}/{C.TENANT_ID}"
        oauth = f"{base}/oauth2/v2.0" if v2 else f"{base}/oauth2"
        self.send_json(
            200,
            {
                "token_endpoint": f"{oauth}/token",
                "authorization_endpoint": f"{oauth}/authorize",
                "device_authorization_endpoint": f"{oauth}/devicecode",
                "end_session_endpoint": f"{oauth}/logout",
                "issuer": f"{base}/v2.0" if v2 else f"https://sts.windows.net/{C.TENANT_ID}/",
                "jwks_uri": f"{self.base_url()}/{C.TENANT_ID}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "tid", "oid"],
                "tenant_region_scope": "WW",
                "cloud_instance_name": "hsmbackup.test",
            },
        )

    def token(self, tenant, v2):
        form = self.form
        if v2:
            scopes = [s for s in (form.get("scope") or "").split() if s not in RESERVED_SCOPES]
            requested = scopes[0] if scopes else ""
            self.record["scope"] = requested
        else:
            requested = form.get("resource") or ""
            self.record["resource"] = requested
        self.record["client_id"] = form.get("client_id")
        self.record["grant_type"] = form.get("grant_type")
        if tenant.lower() != C.TENANT_ID:
            return self.send_json(
                400,
                _aad_error(
                    "invalid_request",
                    "AADSTS90002",
                    f"Tenant '{tenant}' not found. Check to make sure you have the "
                    "correct tenant ID and are signing into the correct cloud.",
                ),
            )
        if form.get("grant_type") != "client_credentials":
            return self.send_json(
                400,
                _aad_error(
                    "unsupported_grant_type",
                    "AADSTS70003",
                    "The app requested an unsupported grant type "
                    f"'{form.get('grant_type')}'. Only client_credentials is available here.",
                ),
            )
        if not requested:
            field = "scope" if v2 else "resource"
            return self.send_json(
                400,
                _aad_error(
                    "invalid_request", "AADSTS90014", f"The required field '{field}' is missing from the credential."
                ),
            )
        if form.get("client_id") != C.SP_APP_ID:
            return self.send_json(
                401,
                _aad_error(
                    "invalid_client",
                    "AADSTS700016",
                    f"Application with identifier '{form.get('client_id')}' "
                    f"was not found in the directory '{C.TENANT_ID}'.",
                ),
            )
        if form.get("client_secret") != C.SP_SECRET:
            return self.send_json(
                401,
                _aad_error(
                    "invalid_client",
                    "AADSTS7000215",
                    "Invalid client secret provided. Ensure the secret being sent "
                    f"in the request is the client secret value, not the client secret ID, for a secret added to app "
                    f"'{C.SP_APP_ID}'.",
                ),
            )
        fail = self.state.take_failure()
        if fail:
            self.record["injected_failure"] = True
            return self.send_json(
                fail["status"], {"error": fail["error"], "error_description": fail["error_description"]}
            )
        lifetime = self.state.token_lifetime
        audience = audience_from_scope(requested) if v2 else requested
        now = int(self.state.now())
        extra = self.state.extra_claims(audience)
        token = make_jwt(audience, C.SP_OBJECT_ID, C.SP_APP_ID, lifetime, extra=extra, now=now)
        self.record["aud"] = audience
        response = {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token}
        if not v2:
            response.update(expires_on=str(now + lifetime), not_before=str(now), resource=requested)
        self.send_json(200, response, {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})

    # ---- managed identity (App Service flavour) ----

    def msi_token(self):
        q = _flatten(self.query)
        resource = q.get("resource") or ""
        self.record["resource"] = resource
        header = self.headers.get("X-IDENTITY-HEADER")
        self.record["identity_header"] = header is not None
        if header is None:
            return self.send_json(
                400, {"statusCode": 400, "message": "The request is missing the X-IDENTITY-HEADER header."}
            )
        if header != C.MI_IDENTITY_HEADER:
            return self.send_json(401, {"statusCode": 401, "message": "The X-IDENTITY-HEADER value is not valid."})
        if q.get("api-version") != "2019-08-01":
            return self.send_json(
                400,
                {"statusCode": 400, "message": f"Unsupported api-version '{q.get('api-version')}'; use 2019-08-01."},
            )
        if not resource:
            return self.send_json(400, {"statusCode": 400, "message": "The 'resource' query parameter is required."})
        wanted = {k: q[k] for k in ("client_id", "object_id", "principal_id", "mi_res_id") if q.get(k)}
        known = {"client_id": C.MI_CLIENT_ID, "object_id": C.MI_OBJECT_ID, "principal_id": C.MI_OBJECT_ID}
        if any(known.get(k) != str(v).lower() for k, v in wanted.items()):
            return self.send_json(
                400,
                {
                    "statusCode": 400,
                    "message": "No Managed Identity found for specified ClientId/ResourceId/PrincipalId.",
                },
            )
        fail = self.state.take_failure()
        if fail:
            self.record["injected_failure"] = True
            return self.send_json(fail["status"], {"statusCode": fail["status"], "message": fail["error_description"]})
        lifetime = self.state.token_lifetime
        now = int(self.state.now())
        token = make_jwt(
            resource,
            C.MI_OBJECT_ID,
            C.MI_CLIENT_ID,
            lifetime,
            extra={
                "appidacr": "2",
                "xms_mirid": "/subscriptions/"
                + C.SUBSCRIPTION_ID
                + "/resourcegroups/hsmbackup-local/providers/Microsoft.Web/sites/hsmbackup-local",
            },
            now=now,
        )
        self.record["aud"] = resource
        self.send_json(
            200,
            {
                "access_token": token,
                "expires_on": str(now + lifetime),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": C.MI_CLIENT_ID,
            },
        )

    # ---- ARM ----

    def arm(self, produce):
        auth = self.headers.get("Authorization") or ""
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            return self.send_json(
                401,
                {
                    "error": {
                        "code": "AuthenticationFailed",
                        "message": "Authentication failed. The 'Authorization' header is missing.",
                    }
                },
                {
                    "WWW-Authenticate": f'Bearer authorization_uri="{self.base_url()}/{C.TENANT_ID}", '
                    'error="invalid_token", error_description="The authentication failed '
                    "because of missing 'Authorization' header.\""
                },
            )
        claims = decode_jwt(auth[7:].strip())
        if claims and isinstance(claims.get("exp"), int) and claims["exp"] < self.state.now():
            return self.send_json(
                401,
                {
                    "error": {
                        "code": "ExpiredAuthenticationToken",
                        "message": "The access token expiry UTC time is earlier than current UTC time.",
                    }
                },
            )
        payload = produce()
        if payload is None:
            return self.send_json(
                404, {"error": {"code": "SubscriptionNotFound", "message": "The subscription could not be found."}}
            )
        if "_status" in payload:  # an ARM error the producer chose
            return self.send_json(
                payload["_status"], {"error": {"code": payload["code"], "message": payload["message"]}}
            )
        return self.send_json(200, payload)

    def managed_hsms(self, parts):
        """ARM's managedHSMs list (subscription or resource group, paged) and GET of one, as ARM answers them."""
        lower = [p.lower() for p in parts]
        tail = lower[lower.index("providers") :]
        group = None
        if len(lower) > 4 and lower[2] == "resourcegroups" and lower.index("providers") == 4:
            group = parts[3]
        elif lower.index("providers") != 2:
            return self.send_json(404, {"error": {"code": "NotFound", "message": f"No route for {self.route} here."}})
        if tail[1:3] != ["microsoft.keyvault", "managedhsms"] or len(tail) > 4 or (len(tail) == 4 and group is None):
            return self.send_json(404, {"error": {"code": "NotFound", "message": f"No route for {self.route} here."}})
        version = _flatten(self.query).get("api-version")
        if not version:
            return self.send_json(
                400,
                {
                    "error": {
                        "code": "MissingApiVersionParameter",
                        "message": "The api-version query parameter (?api-version=) is required for all requests.",
                    }
                },
            )
        self.record["api_version"] = version

        def produce():
            if lower[1] != C.SUBSCRIPTION_ID:
                return None
            with self.state.lock:
                fleet = self.state.fleet
                if group is not None and group.lower() not in fleet.groups():
                    return {
                        "_status": 404,
                        "code": "ResourceGroupNotFound",
                        "message": f"Resource group '{group}' could not be found.",
                    }
                hsms = [json.loads(json.dumps(h)) for h in fleet.in_group(group)]
                page_size = fleet.page_size
            if len(tail) == 4:
                found = [h for h in hsms if h["name"].lower() == tail[3]]
                if not found:
                    return {
                        "_status": 404,
                        "code": "ResourceNotFound",
                        "message": f"The Resource "
                        f"'{HSM_TYPE}/{parts[-1]}' under resource group '{group}' was not found.",
                    }
                return found[0]
            token = _flatten(self.query).get("$skiptoken")
            try:
                start = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
            except (ValueError, UnicodeDecodeError):
                return {"_status": 400, "code": "InvalidSkipToken", "message": "The $skiptoken is not valid."}
            page = {"value": hsms[start : start + page_size]}
            if start + page_size < len(hsms):
                skip = base64.urlsafe_b64encode(str(start + page_size).encode()).decode()
                page["nextLink"] = f"{self.base_url()}{self.route}?api-version={version}&$skiptoken={skip}"
                self.record["next"] = start + page_size
            self.record["count"] = len(page["value"])
            return page

        return self.arm(produce)

    def subscription(self):
        return {
            "id": f"/subscriptions/{C.SUBSCRIPTION_ID}",
            "authorizationSource": "RoleBased",
            "managedByTenants": [],
            "subscriptionId": C.SUBSCRIPTION_ID,
            "tenantId": C.TENANT_ID,
            "displayName": C.SUBSCRIPTION_NAME,
            "state": "Enabled",
            "subscriptionPolicies": {
                "locationPlacementId": "Public_2014-09-01",
                "quotaId": "Internal_2014-09-01",
                "spendingLimit": "Off",
            },
        }

    def tenant(self):
        return {
            "id": f"/tenants/{C.TENANT_ID}",
            "tenantId": C.TENANT_ID,
            "countryCode": "US",
            "displayName": TENANT_DISPLAY_NAME,
            "domains": [TENANT_DOMAIN],
            "defaultDomain": TENANT_DOMAIN,
            "tenantCategory": "Home",
            "tenantType": "AAD",
        }

    def cloud_metadata(self):
        base = self.base_url()
        return {
            "name": C.CLOUD_NAME,
            "portal": base,
            "resourceManager": base + "/",
            "authentication": {
                "loginEndpoint": base,
                "audiences": [C.ARM_RESOURCE],
                "tenant": "common",
                "identityProvider": "AAD",
            },
            "suffixes": {
                "keyVaultDns": "vault." + C.DOMAIN,
                "mhsmDns": C.MHSM_DNS_SUFFIX.lstrip("."),
                "storage": C.STORAGE_ENDPOINT_SUFFIX,
            },
        }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.stack.signin", description=__doc__.split("\n")[0])
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--cert", required=True, type=Path)
    parser.add_argument("--key", required=True, type=Path)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token-lifetime", type=int, default=3600, help="seconds (default 3600)")
    args = parser.parse_args(argv)
    args.state_dir.mkdir(parents=True, exist_ok=True)

    state = SignIn(args.state_dir / "signin-requests.jsonl", args.token_lifetime)
    handler = type("SignInHandler", (Handler,), {"state": state})
    server = TLSThreadingHTTPServer((HOST, args.port), handler, server_tls_context(args.cert, args.key))
    port = server.server_address[1]
    state.url = f"https://{HOST}:{port}"
    serve_until_sigterm(server, args.state_dir / "signin.json", {"port": port, "pid": os.getpid(), "url": state.url})


if __name__ == "__main__":
    main()
