"""The extension as users install it: a wheel, added with `az extension add`, runs a backup."""

import re
import zipfile

from tests.e2e.conftest import az_json, build_wheel


def test_wheel_installs_alone_and_runs_a_backup(stack, hsm, tmp_path):
    wheel = build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    assert "azext_hsmbackup/azext_metadata.json" in names
    assert not [n for n in names if n.startswith("tests/")], "tests must stay out of the wheel"
    assert not [n for n in names if n.startswith("azext_hsmbackup/tests/")], "so must the scenario tests"
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    # What `az extension show` prints is the users' page and the whole history, not the developers' README.
    assert "az hsm-backup restore" in metadata and "make demo" not in metadata and "az hsm-backup prune" in metadata
    # The first release of a new extension, and a summary as the Extension Summary Guidelines of azure-cli ask:
    # complete sentences of at most 140 characters that do not speak of the CLI or of an extension.
    fields = dict(line.split(": ", 1) for line in metadata.split("\n\n", 1)[0].splitlines() if ": " in line)
    assert fields["Version"] == "1.0.0b1" and "\n1.0.0b1\n+++++++\n" in metadata
    summary = fields["Summary"]
    assert summary.endswith(".") and summary[0].isupper() and len(summary) <= 140, summary
    assert not re.search(r"\b(CLI|az|extension|command-line)\b", summary, re.IGNORECASE), summary

    ext_dir, empty = tmp_path / "extensions", tmp_path / "no-system-extensions"
    empty.mkdir()
    env = stack.env(AZURE_EXTENSION_DIR=ext_dir, AZURE_EXTENSION_SYS_DIR=empty)
    added = stack.az("extension", "add", "--source", wheel, "-y", env=env)
    assert added.returncode == 0, added.stderr
    installed = sorted(p.name for p in (ext_dir / "hsmbackup").iterdir())
    # Only our package and its metadata: no second copy of the SDKs or azure-cli-core the host provides.
    assert [n for n in installed if not n.endswith((".dist-info", ".whl"))] == ["azext_hsmbackup"], installed

    listed = az_json(stack.az("extension", "list", env=env))
    assert [(e["name"], e["extensionType"], e["version"], e["preview"]) for e in listed] == [
        ("hsmbackup", "whl", "1.0.0b1", True)
    ]
    out = az_json(
        stack.az(
            "hsm-backup", "create", "--hsm-name", hsm, "--storage-container-uri", stack.container_uri(), "--mi", env=env
        )
    )
    assert out["status"] == "Succeeded" and out["folderName"].startswith(f"mhsm-{hsm}-")
