"""A Managed HSM data-plane emulator (full backup / restore / selective key restore / pre-checks) for tests.

HTTPS on 127.0.0.1, many HSMs told apart by Host name, the real service's 401 challenge, status codes, headers and
body shapes (docs: ../shared/reference/rest-api.md from the checkout root), and jobs that really write and read
backups in Azure Storage (Azurite) through azure-storage-blob. See README.md beside this file.

    python -m tests.mhsm_emulator --state-dir DIR --cert CERT.pem --key KEY.pem --authority https://127.0.0.1:N
"""
