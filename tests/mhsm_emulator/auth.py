"""The Managed HSM's bearer challenge and the checks it makes on a token (rest-api.md 2.1).

The token is a JWT whose signature nobody checks (the local sign-in stand-in signs nothing); its claims are: `aud`
must be the configured resource (with or without a trailing slash), `exp` in the future, `nbf` (when present) no
more than NBF_LEEWAY_S ahead of the emulator's clock, `tid` the configured tenant. Anything else - no header,
another scheme, not a JWT, another HSM's audience, a token "from the future" - gets the same 401 challenge.
The leeway is the clock skew Entra ID-protected services allow (5 minutes).
"""

import base64
import json

from tests.mhsm_emulator import clock

NBF_LEEWAY_S = 300


def challenge(config):
    """The WWW-Authenticate value: no scope=, only authorization= and resource=, as the real Managed HSM."""
    authority = (config.get("authority") or "").rstrip("/")
    return f'Bearer authorization="{authority}/{config["tenant"]}", resource="{config["resource"]}"'


def _claims(token):
    parts = token.split(".")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        return None
    try:
        decoded = [json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in parts[:2]]
    except ValueError:
        return None
    header, claims = decoded
    return claims if isinstance(header, dict) and isinstance(claims, dict) else None


def check(authorization, config, now=None):
    """Return (ok, reason); reason is a short word for the request log ("ok", "missing", "expired", ...)."""
    if authorization is None:
        return False, "missing"
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False, "not-bearer"
    claims = _claims(token.strip())
    if claims is None:
        return False, "not-a-jwt"
    resource = config["resource"].rstrip("/")
    audiences = claims.get("aud")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    if not any(a in (resource, resource + "/") for a in audiences):
        return False, "audience"
    now = now or clock.time()
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)) or exp <= now:
        return False, "expired"
    nbf = claims.get("nbf")
    if isinstance(nbf, (int, float)) and not isinstance(nbf, bool) and nbf > now + NBF_LEEWAY_S:
        return False, "not-yet-valid"
    if str(claims.get("tid", "")).lower() != config["tenant"].lower():
        return False, "tenant"
    return True, "ok"
