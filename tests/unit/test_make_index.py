"""The index `make index` writes (tools/make_index.py), checked as the official index's CI checks every entry
(Azure/azure-cli-extensions, scripts/ci/test_index.py), reimplemented here, and read by az's own resolver; then the
generator's refusals, on small hand-made wheels."""

import hashlib
import json
import os
import zipfile
from email.parser import Parser
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import build_wheel, source_version
from tools import make_index as mi

BASE_URL = "https://contoso.blob.core.windows.net/az-extensions"
WHEEL_NAME = mi.WHEEL_NAME


def no_duplicate_keys(pairs):
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicate keys in {keys}"
    return dict(pairs)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The real wheel, and the text of the index `make index` writes for it."""
    dist = tmp_path_factory.mktemp("index") / "dist"
    wheel = build_wheel(dist.parent)
    assert mi.main(["--base-url", BASE_URL + "/", str(dist)]) == 0
    return wheel, (dist / "index.json").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def index(built):
    return json.loads(built[1], object_pairs_hook=no_duplicate_keys)


def entries(index):
    return [(name, item) for name, items in index["extensions"].items() for item in items]


# ---- the checks of the official index's CI ----------------------------------------------------------------------


def test_format(index, built):
    assert index["formatVersion"] == "1"
    assert isinstance(index["extensions"], dict) and list(index["extensions"]) == ["hsmbackup"]
    assert built[1] == json.dumps(index, indent=4, sort_keys=True) + "\n", "written as the official index is"


def test_filenames_name_a_universal_wheel_of_the_entry(index):
    for name, item in entries(index):
        assert "_" not in name
        assert item["filename"].endswith(".whl") and item["metadata"]["name"] == name
        parts = WHEEL_NAME.match(item["filename"]).groupdict()
        assert parts["name"] == name.replace("-", "_") and parts["version"] == item["metadata"]["version"]
        assert "py3" in parts["pyver"].split(".") and (parts["abi"], parts["plat"]) == ("none", "any")


def test_download_url_ends_with_the_filename_under_the_base_url(index):
    for _, item in entries(index):
        url = item["downloadUrl"]
        assert os.path.basename(urlsplit(url).path) == item["filename"] == os.path.basename(url)
        assert url == f"{BASE_URL}/{item['filename']}"
        assert not url.startswith("https://pypi.python.org/packages/")


def test_no_filename_twice(index):
    filenames = [item["filename"] for _, item in entries(index)]
    assert len(filenames) == len(set(filenames))


def test_sha256_is_the_wheels(index, built):
    wheel = built[0]
    (item,) = [item for _, item in entries(index)]
    assert item["filename"] == wheel.name
    assert item["sha256Digest"] == hashlib.sha256(wheel.read_bytes()).hexdigest()


def test_metadata_is_the_wheels(index, built, tmp_path):
    """What the official CI compares with: azext_metadata.json, then the package metadata, read here another way
    (the unpacked wheel through importlib.metadata) than the generator reads it."""
    from importlib.metadata import Distribution

    wheel = built[0]
    (item,) = [item for _, item in entries(index)]
    metadata = item["metadata"]
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(tmp_path)
    azext = json.loads((tmp_path / "azext_hsmbackup" / "azext_metadata.json").read_text(encoding="utf-8"))
    assert {k: metadata[k] for k in azext} == azext
    assert metadata["azext.minCliCoreVersion"] and metadata["azext.isPreview"] is azext["azext.isPreview"]
    (dist_info,) = tmp_path.glob("*.dist-info")
    dist = Distribution.at(dist_info).metadata
    assert metadata["name"] == dist["Name"] == "hsmbackup"
    assert metadata["version"] == dist["Version"] == source_version()
    assert metadata["summary"] == dist["Summary"] and metadata["summary"]
    assert metadata["classifiers"] == dist.get_all("Classifier") and metadata["classifiers"]
    assert metadata["license"] == (dist["License-Expression"] or dist["License"]) == "MIT"
    assert metadata["metadata_version"] == dist["Metadata-Version"]
    generator = Parser().parsestr((dist_info / "WHEEL").read_text(encoding="utf-8"))["Generator"]
    assert metadata["generator"] == generator
    # No description: the index stays small, and `az extension show` reads it from the installed wheel.
    assert not {"description", "long_description"} & metadata.keys()
    for group in metadata.get("run_requires", []):
        assert not [r for r in group["requires"] if r.startswith("azure-")], "the az host provides azure-*"


def test_az_picks_the_entry(index, monkeypatch):
    """az's own resolver (azure-cli-core of the project's venv) chooses the entry and hands out its URL and digest."""
    from azure.cli.core.extension import _resolve, ext_compat_with_cli

    (item,) = [item for _, item in entries(index)]
    assert ext_compat_with_cli(item["metadata"])[0]
    monkeypatch.setattr(_resolve, "get_index_extensions", lambda *a, **k: index["extensions"])
    assert _resolve.resolve_from_index("hsmbackup", allow_preview=True) == (
        item["downloadUrl"],
        item["sha256Digest"],
    )


# ---- refusals, on hand-made wheels ---------------------------------------------------------------------------


def fake_wheel(folder, name="hsmbackup", version="1.0.0", azext=None, filename=None, requires=()):
    azext = {"azext.minCliCoreVersion": "2.55.0"} if azext is None else azext
    path = folder / (filename or f"{name}-{version}-py3-none-any.whl")
    metadata = [
        "Metadata-Version: 2.4",
        f"Name: {name}",
        f"Version: {version}",
        "Summary: a test",
        "Author: someone",
        "License: MIT",
        "Classifier: Programming Language :: Python :: 3",
        "Project-URL: Source, https://example.org/src",
        *(f"Requires-Dist: {r}" for r in requires),
    ]
    files = {
        "azext_fake/__init__.py": "",
        "azext_fake/azext_metadata.json": json.dumps(azext) if azext is not False else None,
        f"{name}-{version}.dist-info/METADATA": "\n".join(metadata) + "\n\nlong text\n",
        f"{name}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test (1.0)\n",
    }
    with zipfile.ZipFile(path, "w") as zf:
        for member, text in files.items():
            if text is not None:  # a fixed time: the same files make the same bytes, as a reproducible build does
                zf.writestr(zipfile.ZipInfo(member, date_time=(2020, 1, 1, 0, 0, 0)), text)
    return path


def test_translated_metadata_of_a_hand_made_wheel(tmp_path):
    item = mi.entry_for(fake_wheel(tmp_path, requires=["pyyaml>=6", 'tomli; python_version < "3.11"']), BASE_URL)
    assert item["metadata"] == {
        "azext.minCliCoreVersion": "2.55.0",
        "classifiers": ["Programming Language :: Python :: 3"],
        "extensions": {
            "python.details": {
                "contacts": [{"name": "someone", "role": "author"}],
                "project_urls": {"Source": "https://example.org/src"},
            }
        },
        "generator": "test (1.0)",
        "license": "MIT",
        "metadata_version": "2.4",
        "name": "hsmbackup",
        "run_requires": [
            {"requires": ["pyyaml>=6"]},
            {"requires": ["tomli"], "environment": 'python_version < "3.11"'},
        ],
        "summary": "a test",
        "version": "1.0.0",
    }


@pytest.mark.parametrize(
    "url, accepted",
    [
        ("https://contoso.blob.core.windows.net/ext/", "https://contoso.blob.core.windows.net/ext"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://localhost:8000/x", "http://localhost:8000/x"),
        ("http://contoso.example/ext", None),
        ("https://contoso.blob.core.windows.net/ext?sv=2024&sig=abc", None),
        ("ftp://contoso.example/ext", None),
        ("contoso.example/ext", None),
    ],
)
def test_base_url(url, accepted):
    if accepted:
        assert mi.check_base_url(url) == accepted
    else:
        with pytest.raises(mi.NotIndexable):
            mi.check_base_url(url)


@pytest.mark.parametrize(
    "kwargs, says",
    [
        ({"azext": False}, "azext_metadata.json"),
        ({"azext": {"azext.isPreview": True}}, "azext.minCliCoreVersion"),
        ({"filename": "hsmbackup-1.0.1-py3-none-any.whl"}, "version"),
        ({"filename": "hsmbackup-1.0.0-cp311-cp311-linux_x86_64.whl"}, "py3-none-any"),
        ({"filename": "hsmbackup.zip"}, "not a wheel"),
        ({"requires": ["azure-storage-blob>=12"]}, "azure-storage-blob"),
    ],
)
def test_refuses_a_wheel_az_would_not_take(tmp_path, kwargs, says):
    with pytest.raises(mi.NotIndexable, match=says):
        mi.entry_for(fake_wheel(tmp_path, **kwargs), BASE_URL)


def test_merge_keeps_the_hosted_versions_in_version_order(tmp_path):
    old, rebuilt = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    rebuilt.mkdir()
    hosted = mi.make_index([fake_wheel(old, version=v) for v in ("1.0.0", "1.0.1", "1.2.0")], BASE_URL)
    merged = mi.make_index(
        [fake_wheel(rebuilt, version="1.1.0"), fake_wheel(rebuilt, version="1.0.1")], BASE_URL, hosted
    )
    assert [e["metadata"]["version"] for e in merged["extensions"]["hsmbackup"]] == ["1.0.0", "1.0.1", "1.1.0", "1.2.0"]


def test_merge_refuses_another_build_of_a_hosted_version(tmp_path):
    old, rebuilt = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    rebuilt.mkdir()
    hosted = mi.make_index([fake_wheel(old)], BASE_URL)
    assert mi.make_index([fake_wheel(rebuilt)], BASE_URL, hosted) == hosted, "the same build again is no change"
    with pytest.raises(mi.NotIndexable, match="hosted already, with another digest"):
        mi.make_index([fake_wheel(rebuilt, requires=["pyyaml"])], BASE_URL, hosted)


def test_main_without_a_wheel_says_so(tmp_path, capsys):
    assert mi.main(["--base-url", BASE_URL, str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"make_index: no wheel in {tmp_path}\n"
    assert not (tmp_path / "index.json").exists()
