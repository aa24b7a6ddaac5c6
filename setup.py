"""Packaging for the `hsmbackup` Azure CLI extension (`az hsm-backup ...`)."""

from pathlib import Path

from setuptools import find_packages, setup

# The first release of a new extension is 1.0.0b1 (a preview: azext.isPreview in azext_metadata.json), as the
# version check of the official extension repository (scripts/ci/release_version_cal.py) requires.
VERSION = "1.0.0b1"

CLASSIFIERS = [
    "Development Status :: 4 - Beta",
    "Intended Audience :: Developers",
    "Intended Audience :: System Administrators",
    "Programming Language :: Python",
    "Programming Language :: Python :: 3",
    "Programming Language :: Python :: 3.8",
    "Programming Language :: Python :: 3.9",
    "Programming Language :: Python :: 3.10",
    "Programming Language :: Python :: 3.11",
    "Programming Language :: Python :: 3.12",
    "License :: OSI Approved :: MIT License",
]

# knack, azure-cli-core, azure-keyvault-administration and azure-storage-blob are all provided by the `az` host
# (azure-cli pins the two SDKs). Listing them here would make `az extension add` install a second copy of each
# into the extension directory.
DEPENDENCIES = []

SUMMARY = "Take full backups of Azure Managed HSMs into blob storage, and restore, list, prune and check them."

# What `az extension show` and package indexes print: a short page for users, not the developers' README.
HERE = Path(__file__).resolve().parent
README = (HERE / "docs" / "extension.md").read_text(encoding="utf-8")
HISTORY = (HERE / "HISTORY.rst").read_text(encoding="utf-8")

setup(
    name="hsmbackup",
    version=VERSION,
    # The Extension Summary Guidelines of azure-cli: complete sentences, at most 140 characters, no mention of the CLI
    # or of being an extension, the kinds of commands named. `az extension list-available` shows it as the summary.
    description=SUMMARY,
    long_description=README + "\n\n" + HISTORY,
    long_description_content_type="text/markdown",
    license="MIT",
    author="azext_hsmbackup developers",
    # No `url`: the project has no public home page yet, and a made-up one would be untrue. The official index's
    # checks (scripts/ci/test_index.py) do not ask for one; its list of extensions for the docs reads
    # project_urls.Home, so a release into that index needs the real URL here first.
    classifiers=CLASSIFIERS,
    # The scenario tests and their recordings (azext_hsmbackup/tests) stay in the checkout, out of the wheel.
    packages=find_packages(
        include=["azext_hsmbackup", "azext_hsmbackup.*"], exclude=["azext_hsmbackup.tests", "azext_hsmbackup.tests.*"]
    ),
    install_requires=DEPENDENCIES,
    package_data={"azext_hsmbackup": ["azext_metadata.json"]},
)
