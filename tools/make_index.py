"""Writes an extension index (index.json) for the wheels in a folder, so that `az extension add --name hsmbackup`
and `az extension update --name hsmbackup` work against an organisation's own web server or storage container.

    python -m tools.make_index --base-url https://<account>.blob.core.windows.net/<container> dist
    python -m tools.make_index --base-url URL --merge hosted-index.json dist    # keep the versions already hosted

The layout is the official index's (Azure/azure-cli-extensions, src/index.json): `formatVersion` "1" and
`extensions: {name: [entry, ...]}`, one entry per wheel with `downloadUrl` (base URL + file name), `filename`,
`sha256Digest` (az checks the download against it) and `metadata`: the wheel's azext_metadata.json (az reads
`azext.minCliCoreVersion` from it to pick a release that runs on the user's az) merged with the wheel's own
metadata in the JSON shape of the official entries (a wheel's metadata.json where it has one, else its METADATA and
WHEEL files translated to that shape). Dev tooling: not part of the extension package.
"""

import argparse
import hashlib
import json
import re
import sys
import zipfile
from email.parser import Parser
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import quote, urlsplit

from packaging.version import Version

FORMAT_VERSION = "1"
# name-version(-build)-python-abi-platform.whl (PEP 427); the name and the version never contain "-".
WHEEL_NAME = re.compile(
    r"^(?P<name>[^-]+)-(?P<version>\d[^-]*)(?:-(?P<build>\d[^-]*))?"
    r"-(?P<pyver>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$"
)
AZEXT_METADATA = re.compile(r"^azext_[^/]+/azext_metadata\.json$")
MIN_CLI_CORE = "azext.minCliCoreVersion"


class NotIndexable(ValueError):
    """A wheel or a URL an index cannot be made of; the message says which and why."""


def check_base_url(base_url):
    """The folder the wheels are served from. https, or http on this machine only (a try-out): over plain http
    anyone on the way could swap a wheel and its digest. No query string: az downloads `downloadUrl` as it is, and a
    SAS token in an index would be handed to everyone who reads it; the container must allow anonymous reads."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise NotIndexable(f"base URL {base_url!r}: not an http(s) URL")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise NotIndexable(f"base URL {base_url!r}: plain http is for this machine only; use https")
    if parts.query or parts.fragment:
        raise NotIndexable(f"base URL {base_url!r}: no query string or fragment (the files must be readable as is)")
    return base_url.rstrip("/")


def _loopback(host):
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_wheel_name(filename):
    found = WHEEL_NAME.match(filename)
    if not found:
        raise NotIndexable(f"{filename}: not a wheel file name (name-version-python-abi-platform.whl)")
    return found.groupdict()


def wheel_metadata(wheel):
    """The `metadata` of the wheel's index entry: azext_metadata.json, then the package metadata on top."""
    wheel = Path(wheel)
    parse_wheel_name(wheel.name)
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        modules = {n.split("/", 1)[0] for n in names if n.startswith("azext_") and "/" in n}
        if len(modules) != 1:
            raise NotIndexable(f"{wheel.name}: expected one azext_* package, found {sorted(modules) or 'none'}")
        azext = [n for n in names if AZEXT_METADATA.match(n)]
        if not azext:
            raise NotIndexable(f"{wheel.name}: no azext_*/azext_metadata.json (az reads the CLI versions from it)")
        metadata = json.loads(zf.read(azext[0]))
        dist_infos = [n.split("/")[0] for n in names if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
        if len(dist_infos) != 1:
            raise NotIndexable(f"{wheel.name}: expected one *.dist-info/METADATA, found {len(dist_infos)}")
        dist_info = dist_infos[0]
        if f"{dist_info}/metadata.json" in names:  # wheels of bdist_wheel < 0.31 carry it ready-made
            metadata.update(json.loads(zf.read(f"{dist_info}/metadata.json")))
        else:
            headers = Parser().parsestr(zf.read(f"{dist_info}/METADATA").decode("utf-8"), headersonly=True)
            generator = Parser().parsestr(zf.read(f"{dist_info}/WHEEL").decode("utf-8"))["Generator"]
            metadata.update(translate(headers, generator))
    return metadata


def translate(headers, generator):
    """METADATA (RFC 822 headers) in the JSON shape of the official index's entries (the metadata.json of
    bdist_wheel 0.30): the fields az and the official index's checks read, and the people and links."""
    out = {
        "metadata_version": headers["Metadata-Version"],
        "name": headers["Name"],
        "version": headers["Version"],
        "summary": headers.get("Summary", ""),
        "classifiers": headers.get_all("Classifier") or [],
    }
    if generator:
        out["generator"] = generator
    licence = headers.get("License-Expression") or headers.get("License")
    if licence:
        out["license"] = licence
    details = {}
    people = (("Author", "Author-email", "author"), ("Maintainer", "Maintainer-email", "maintainer"))
    contacts = [
        {k: v for k, v in (("name", headers.get(name)), ("email", headers.get(email)), ("role", role)) if v}
        for name, email, role in people
        if headers.get(name) or headers.get(email)
    ]
    if contacts:
        details["contacts"] = contacts
    urls = {}
    if headers.get("Home-page"):
        urls["Home"] = headers["Home-page"]
    for entry in headers.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        urls[label.strip()] = url.strip()
    if urls:
        details["project_urls"] = urls
    if details:
        out["extensions"] = {"python.details": details}
    requires = {}
    for requirement in headers.get_all("Requires-Dist") or []:
        spec, _, marker = requirement.partition(";")
        requires.setdefault(marker.strip(), []).append(spec.strip())
    if requires:
        out["run_requires"] = [
            {"requires": specs, **({"environment": marker} if marker else {})} for marker, specs in requires.items()
        ]
    extras = headers.get_all("Provides-Extra")
    if extras:
        out["extras"] = extras
    return out


def entry_for(wheel, base_url):
    """One wheel's index entry, after the checks the official index's CI makes of every entry."""
    wheel = Path(wheel)
    parts = parse_wheel_name(wheel.name)
    if "py3" not in parts["pyver"].split(".") or parts["abi"] != "none" or parts["plat"] != "any":
        raise NotIndexable(f"{wheel.name}: az picks only pure-Python wheels from an index (py3-none-any)")
    metadata = wheel_metadata(wheel)
    name, version = metadata.get("name"), metadata.get("version")
    if not name or "_" in name or name.replace("-", "_") != parts["name"]:
        raise NotIndexable(f"{wheel.name}: the file name does not match the package name {name!r}")
    if version != parts["version"]:
        raise NotIndexable(f"{wheel.name}: the file name does not match the package version {version!r}")
    if not metadata.get(MIN_CLI_CORE):
        raise NotIndexable(f"{wheel.name}: azext_metadata.json has no {MIN_CLI_CORE}")
    for group in metadata.get("run_requires", []):
        azure = [r for r in group["requires"] if r.split()[0].lower().startswith("azure-")]
        if azure:
            raise NotIndexable(f"{wheel.name}: depends on {azure}; the az host provides the azure-* packages")
    return {
        "downloadUrl": f"{check_base_url(base_url)}/{quote(wheel.name)}",
        "filename": wheel.name,
        "sha256Digest": sha256_of(wheel),
        "metadata": metadata,
    }


def make_index(wheels, base_url, merge=None):
    """The index of `wheels`; with `merge` (an index already hosted), its entries for other files are kept. A file
    the hosted index lists with another digest is refused: az would refuse the wheel wherever a cache still serves
    the old one, and a user could not tell the two builds of one version apart."""
    extensions = {}
    for name, entries in ((merge or {}).get("extensions") or {}).items():
        extensions[name] = list(entries)
    for wheel in sorted(wheels, key=lambda p: Path(p).name):
        entry = entry_for(wheel, base_url)
        same_name = extensions.setdefault(entry["metadata"]["name"], [])
        for hosted in same_name:
            if hosted["filename"] == entry["filename"] and hosted.get("sha256Digest") != entry["sha256Digest"]:
                raise NotIndexable(
                    f"{entry['filename']} is hosted already, with another digest: a new build needs a new version"
                )
        same_name[:] = [e for e in same_name if e["filename"] != entry["filename"]] + [entry]
    for entries in extensions.values():
        entries.sort(key=lambda e: Version(e["metadata"]["version"]))
    filenames = [e["filename"] for entries in extensions.values() for e in entries]
    duplicates = sorted({f for f in filenames if filenames.count(f) > 1})
    if duplicates:
        raise NotIndexable(f"the same file under two names: {duplicates}")
    return {"extensions": extensions, "formatVersion": FORMAT_VERSION}


def dumps(index):
    """As the official index is written: sorted keys, four spaces, a final newline."""
    return json.dumps(index, indent=4, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.make_index", description=__doc__.split("\n\n")[0])
    parser.add_argument("dist", type=Path, help="the folder of the wheels; index.json is written there")
    parser.add_argument("--base-url", required=True, help="where the wheels will be served from (https)")
    parser.add_argument("--merge", type=Path, help="an index already hosted: its other versions are kept")
    args = parser.parse_args(argv)
    wheels = sorted(args.dist.glob("*.whl"))
    try:
        if not wheels:
            raise NotIndexable(f"no wheel in {args.dist}")
        merge = json.loads(args.merge.read_text(encoding="utf-8")) if args.merge else None
        index = make_index(wheels, args.base_url, merge)
    except (NotIndexable, OSError, json.JSONDecodeError, zipfile.BadZipFile) as err:
        print(f"make_index: {err}", file=sys.stderr)
        return 2
    out = args.dist / "index.json"
    out.write_text(dumps(index), encoding="utf-8")
    for name, entries in sorted(index["extensions"].items()):
        versions = ", ".join(e["metadata"]["version"] for e in entries)
        print(f"{out}: {name} {versions} at {check_base_url(args.base_url)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
