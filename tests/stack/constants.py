"""Names and identities shared by every piece of the local Azure stand-in.

The stack is a custom cloud whose DNS suffixes live under the reserved `.test` top-level domain, so nothing here
can ever name a public Azure host. A local CONNECT proxy (HTTPS_PROXY) sends those names to 127.0.0.1 ports.
"""

from pathlib import Path

TENANT_ID = "8f5d0c1e-3a7b-4c2d-9e6f-0a1b2c3d4e5f"
SUBSCRIPTION_ID = "6a1c9e2b-4d3f-4b8a-9c7e-112233445566"
SUBSCRIPTION_NAME = "HSM Backup Local Subscription"

# The service principal that `az login --service-principal` uses in tests and the demo.
SP_APP_ID = "3c2b1a09-8f7e-4d6c-b5a4-9f8e7d6c5b4a"
SP_SECRET = "local-sp-secret-not-a-real-credential"
SP_OBJECT_ID = "0d9c8b7a-6f5e-4d3c-2b1a-a1b2c3d4e5f6"

# The managed identity that `az login --identity` signs in as (IDENTITY_ENDPOINT / IDENTITY_HEADER).
MI_CLIENT_ID = "5e4d3c2b-1a09-4f8e-8d7c-6b5a4f3e2d1c"
MI_OBJECT_ID = "7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2918"
MI_IDENTITY_HEADER = "local-identity-header"

CLOUD_NAME = "HsmBackupLocal"
DOMAIN = "hsmbackup.test"
MHSM_DNS_SUFFIX = ".managedhsm." + DOMAIN  # cloud suffixes.mhsmDns
MHSM_RESOURCE = "https://managedhsm." + DOMAIN  # what the HSM's 401 challenge names as resource
STORAGE_ENDPOINT_SUFFIX = DOMAIN  # cloud suffixes.storageEndpoint -> <acct>.blob.hsmbackup.test
STORAGE_RESOURCE = "https://storage.azure.com"  # audience Azurite's OAuth accepts
ARM_RESOURCE = "https://management.core.windows.net/"
GRAPH_RESOURCE = "https://graph.windows.net/"  # the AAD Graph audience az < 2.70 insists on; never asked for

# Azurite's well-known development account (public, documented by Microsoft; not a secret).
STORAGE_ACCOUNT = "devstoreaccount1"
STORAGE_ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

# Real recorded Managed HSM traffic, in the project's shared/ folder beside the checkout (as CI lays it out too).
# The nearest such folder above this file: `make mutation` runs a copy of tests/ one level deeper (mutants/tests).
RECORDINGS_DIR = next(
    (
        parent / "shared" / "reference" / "recordings"
        for parent in Path(__file__).resolve().parents
        if (parent / "shared" / "reference" / "recordings").is_dir()
    ),
    Path(__file__).resolve().parents[3] / "shared" / "reference" / "recordings",
)
