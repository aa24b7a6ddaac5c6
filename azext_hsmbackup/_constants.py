"""Values the whole extension agrees on."""

# A generally available Managed HSM api-version with backup, restore, selective key restore and the pre-checks.
# Pinned on purpose: the SDK that azure-cli 2.91.0 ships defaults to a preview (2026-01-01-preview).
DEFAULT_API_VERSION = "2025-07-01"

# The service sends no Retry-After on status polls and the SDK then waits 5 s between polls, so a backup that ends
# just after a poll keeps the user waiting for nothing (3-4 s measured). Polls are cheap GETs, and a Retry-After the
# service does send is still honoured. 1 s measured a median lag of 1.08-1.18 s when a job ends mid-interval; 0.5 s
# keeps it under 1 s (make bench).
DEFAULT_POLLING_INTERVAL = 0.5

# The longest Retry-After the extension waits (the 202's, a 429/503's, a status poll's). The real service asks for
# 10 s on a 202; azure-core alone would sleep any value, so `Retry-After: 99999` from a broken server would hang.
MAX_RETRY_AFTER_S = 30

# Several HSMs: how many jobs run at once unless --max-parallel says otherwise.
DEFAULT_MAX_PARALLEL = 5

MANAGED_HSM_RESOURCE_TYPE = "microsoft.keyvault/managedhsms"

# Blob SAS permission letters each operation needs (Managed HSM backup and restore documentation).
BACKUP_SAS_PERMISSIONS = "crdw"
RESTORE_SAS_PERMISSIONS = "rl"
# delete and prune: list (l) and delete (d) the folders, and the HSM's pre-restore check reads them (r, l).
RETENTION_SAS_PERMISSIONS = "rld"

# The service asks for a SAS valid for at least this long when the job starts.
SAS_MIN_VALIDITY_HOURS = 24

# Local RBAC roles of a Managed HSM that may start a full backup.
BACKUP_ROLES = ('"Managed HSM Backup"', '"Managed HSM Administrator"')
