"""Packaging for the `hsmbackup` Azure CLI extension (`az hsm-backup ...`)."""

from pathlib import Path

from setuptools import find_packages, setup

VERSION = "0.1.0"

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

# What `az extension show` and package indexes print: a short page for users, not the developers' README.
HERE = Path(__file__).resolve().parent
README = (HERE / "docs" / "extension.md").read_text(encoding="utf-8")
HISTORY = (HERE / "HISTORY.rst").read_text(encoding="utf-8")

setup(
    name="hsmbackup",
    version=VERSION,
    description="Full backups of an Azure Managed HSM into blob storage: az hsm-backup create, and friends.",
    long_description=README + "\n\n" + HISTORY,
    long_description_content_type="text/markdown",
    license="MIT",
    author="azext_hsmbackup developers",
    classifiers=CLASSIFIERS,
    # The scenario tests and their recordings (azext_hsmbackup/tests) stay in the checkout, out of the wheel.
    packages=find_packages(
        include=["azext_hsmbackup", "azext_hsmbackup.*"], exclude=["azext_hsmbackup.tests", "azext_hsmbackup.tests.*"]
    ),
    install_requires=DEPENDENCIES,
    package_data={"azext_hsmbackup": ["azext_metadata.json"]},
)
