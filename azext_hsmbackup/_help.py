"""Help for `az hsm-backup`, with examples for every parameter set."""

from knack.help_files import helps

helps["hsm-backup"] = """
type: group
short-summary: Take and manage full backups of a Managed HSM in blob storage.
long-summary: >
    The commands mirror the Az PowerShell cmdlet Backup-AzKeyVault and accept the flag names of
    `az keyvault backup start`, so existing scripts keep working.
"""

helps["hsm-backup create"] = """
type: command
short-summary: Take a full backup of a Managed HSM into a blob container.
long-summary: >
    Give the HSM once, by --hsm-name, --hsm-object (the JSON of `az keyvault show --hsm-name NAME`) or --id
    (its URL or resource ID), and the container once, by --storage-container-uri or by --storage-account-name with
    --storage-container-name. The service writes a new folder mhsm-NAME-TIMESTAMP into the container; the output's
    folderUrl is what Backup-AzKeyVault prints (`--query folderUrl -o tsv`).

    The HSM reaches storage either with a SAS token (--sas-token) or with its own user-assigned managed identity
    (--use-user-managed-identity). A SAS token needs the permissions 'crdw' (create, read, delete, write) on the
    container and should stay valid for 24 hours. Never type it inline: `--sas-token @file` reads it from a file,
    `--sas-token -` from stdin, and a bare `--sas-token` asks for it without echo. The token never appears in
    output, errors or --debug logs.

    The signed-in identity needs the Managed HSM local role "Managed HSM Backup" or "Managed HSM Administrator".
    Exit codes: 0 done, 2 bad input, 3 not found, 4 the job failed, 5 not authorized, 6 another backup or restore
    is running, 7 the HSM cannot be reached, 130 stopped waiting (the job keeps running).
examples:
  - name: Back up an HSM to a container URL with a SAS token read from a file (Backup-AzKeyVault example 1).
    text: >
        az hsm-backup create --hsm-name myhsm --storage-container-uri https://myaccount.blob.core.windows.net/backups
        --sas-token @sas.txt
  - name: Back up with the HSM's user-assigned managed identity (Backup-AzKeyVault example 2).
    text: >
        az hsm-backup create --hsm-name myhsm --storage-container-uri https://myaccount.blob.core.windows.net/backups
        --use-user-managed-identity
  - name: Back up to a storage account and container by name (Backup-AzKeyVault example 3).
    text: >
        az hsm-backup create --hsm-name myhsm --storage-account-name myaccount --storage-container-name backups
        --use-user-managed-identity
  - name: Back up the HSM object that `az keyvault show` printed, and print only the folder URL.
    text: >
        az keyvault show --hsm-name myhsm > hsm.json &&
        az hsm-backup create --hsm-object @hsm.json --storage-account-name myaccount
        --storage-container-name backups --sas-token @sas.txt --query folderUrl -o tsv
  - name: Back up an HSM by URL (private endpoint, other cloud), passing the SAS token on stdin.
    text: >
        pass show backup-sas | az hsm-backup create --id https://myhsm.managedhsm.azure.net
        --storage-container-uri https://myaccount.blob.core.windows.net/backups --sas-token -
  - name: Run an existing `az keyvault backup start` script unchanged except for the command name.
    text: >
        az hsm-backup create --hsm-name myhsm --storage-account-name myaccount --blob-container-name backups
        --use-managed-identity true
  - name: Show what would happen, without starting anything.
    text: >
        az hsm-backup create --hsm-name myhsm --storage-container-uri https://myaccount.blob.core.windows.net/backups
        --use-user-managed-identity --what-if
  - name: Start the backup and return at once with the job id.
    text: >
        az hsm-backup create --hsm-name myhsm --storage-container-uri https://myaccount.blob.core.windows.net/backups
        --use-user-managed-identity --no-wait
"""
