"""The HSMs the emulator serves, each with its keys, created (with deterministic seed keys) on first use.

A key record is plain JSON, the unit that backup writes and restore reads back:

    {"name": "key-0-rsa", "kty": "RSA-HSM", "key_size": 2048, "key_ops": [...], "tags": {...},
     "versions": [{"version": "<32 hex>", "material": "<base64 bytes>",
                   "attributes": {"enabled": true, "exportable": false, "created": 1704067200,
                                  "updated": 1704067200, "recoverableDays": 90,
                                  "recoveryLevel": "Recoverable+Purgeable"}}, ...]}
"""

import base64
import binascii
import copy
import hashlib
import re
import threading

KEY_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")
_SEED_EPOCH = 1704067200  # 2024-01-01T00:00:00Z: seed keys are the same on every run
_KINDS = (
    (
        "rsa",
        {"kty": "RSA-HSM", "key_size": 2048},
        256,
        ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"],
    ),
    ("ec", {"kty": "EC-HSM", "crv": "P-256"}, 32, ["sign", "verify"]),
    ("oct", {"kty": "oct-HSM", "key_size": 256}, 32, ["encrypt", "decrypt", "wrapKey", "unwrapKey"]),
)


def _stream(seed, length):
    out, counter = b"", 0
    while len(out) < length:
        out += hashlib.sha256(f"{seed}#{counter}".encode()).digest()
        counter += 1
    return out[:length]


def seed_keys(hsm_name, count):
    """`count` deterministic keys for `hsm_name`: name, kty, several versions with material and attributes."""
    keys = {}
    for i in range(count):
        suffix, params, size, ops = _KINDS[i % len(_KINDS)]
        name = f"key-{i}-{suffix}"
        versions = []
        for v in range(2 + i % 2):
            created = _SEED_EPOCH + i * 86400 + v * 3600
            versions.append(
                {
                    "version": hashlib.sha256(f"{hsm_name}/{name}/{v}".encode()).hexdigest()[:32],
                    "material": base64.b64encode(_stream(f"{hsm_name}/{name}/{v}", size)).decode("ascii"),
                    "attributes": {
                        "enabled": True,
                        "exportable": False,
                        "created": created,
                        "updated": created,
                        "recoverableDays": 90,
                        "recoveryLevel": "Recoverable+Purgeable",
                    },
                }
            )
        keys[name] = {"name": name, **params, "key_ops": ops, "tags": {"seed": str(i)}, "versions": versions}
    return keys


def validate_key(record):
    """A deep copy of `record` if it is a well-formed key record, else ValueError."""
    if not isinstance(record, dict):
        raise ValueError("a key must be a JSON object")
    name = record.get("name")
    if not isinstance(name, str) or not KEY_NAME.match(name):
        raise ValueError(f"key name {name!r} is not valid (1-127 of 0-9, a-z, A-Z, -)")
    versions = record.get("versions")
    if not isinstance(versions, list) or not versions:
        raise ValueError(f"key {name}: versions must be a non-empty list")
    for version in versions:
        if not isinstance(version, dict) or not isinstance(version.get("version"), str):
            raise ValueError(f"key {name}: each version needs a string 'version'")
        try:
            base64.b64decode(version.get("material", ""), validate=True)
        except (binascii.Error, TypeError, ValueError) as exc:
            raise ValueError(f"key {name}: version {version['version']} has no valid base64 'material'") from exc
    return copy.deepcopy(record)


class Hsm:
    def __init__(self, name, keys):
        self.name = name
        self._keys = keys
        self.lock = threading.Lock()

    def snapshot(self):
        """Every key (deep copies), sorted by name."""
        with self.lock:
            return [copy.deepcopy(self._keys[k]) for k in sorted(self._keys)]

    def replace_all(self, records):
        records = [validate_key(r) for r in records]
        with self.lock:
            self._keys = {r["name"]: r for r in records}

    def put(self, record):
        record = validate_key(record)
        with self.lock:
            self._keys[record["name"]] = record

    def delete(self, name):
        with self.lock:
            return self._keys.pop(name, None) is not None


class HsmRegistry:
    def __init__(self):
        self._lock = threading.Lock()
        self._hsms = {}

    def get(self, name, seed_count):
        """The HSM called `name`, created with `seed_count` seed keys if this is its first use."""
        name = name.lower()
        with self._lock:
            hsm = self._hsms.get(name)
            if hsm is None:
                hsm = self._hsms[name] = Hsm(name, seed_keys(name, seed_count))
            return hsm

    def names(self):
        with self._lock:
            return sorted(self._hsms)

    def clear(self):
        with self._lock:
            self._hsms = {}
