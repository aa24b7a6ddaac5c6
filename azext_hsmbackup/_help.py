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
    (its URL or resource ID); or several HSMs by --all (every HSM of the subscription, or of -g), --ids, or the
    JSON array of `az keyvault list --resource-type hsm` in --hsm-object: each is backed up once, at most
    --max-parallel at a time, and the output is one entry per HSM. Give the container once, by
    --storage-container-uri or by --storage-account-name with --storage-container-name. The service writes a new
    folder mhsm-NAME-TIMESTAMP into the container; the output's
    folderUrl is what Backup-AzKeyVault prints (`--query folderUrl -o tsv`).

    The HSM reaches storage either with a SAS token (--sas-token) or with its own user-assigned managed identity
    (--use-user-managed-identity). A SAS token needs the permissions 'crdw' (create, read, delete, write) on the
    container and should stay valid for 24 hours. Never type it inline: `--sas-token @file` reads it from a file,
    `--sas-token -` from stdin, and a bare `--sas-token` asks for it without echo. The token never appears in
    output, errors or --debug logs.

    The signed-in identity needs the Managed HSM local role "Managed HSM Backup" or "Managed HSM Administrator".
    Exit codes: 0 done, 2 bad input, 3 not found, 4 the job failed, 5 not authorized, 6 another backup or restore
    is running, 7 the HSM cannot be reached, 9 some of several HSMs were not backed up, or all were skipped (the
    whole array is still printed), 10 "n" at the --confirm question, 11 an answer of the HSM could not be read (the
    line names the job and the show command), 130 Ctrl+C, 143 SIGTERM. A job
    that has started keeps running when you stop the command: the error line names it (or says that one may have
    started and where to look).
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
  - name: Back up the HSM object that `az keyvault show --hsm-name myhsm > hsm.json` saved; print the folder URL.
    text: >
        az hsm-backup create --hsm-object @hsm.json --storage-account-name myaccount
        --storage-container-name backups --sas-token @sas.txt --query folderUrl -o tsv
  - name: Back up an HSM by URL (private endpoint, other cloud), with a SAS token read from a file.
    text: >
        az hsm-backup create --id https://myhsm.managedhsm.azure.net
        --storage-container-uri https://myaccount.blob.core.windows.net/backups --sas-token @sas.txt
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
  - name: Back up every Managed HSM of the subscription, each with its own identity, four at a time.
    text: >
        az hsm-backup create --all --storage-container-uri https://myaccount.blob.core.windows.net/backups
        --use-user-managed-identity --max-parallel 4
  - name: Back up the HSMs of one resource group as a table (exit 9 if any was not backed up).
    text: >
        az hsm-backup create --all -g myrg --storage-account-name myaccount --storage-container-name backups
        --mi -o table
  - name: Back up the HSMs that `az keyvault list` prints, piped in; one folder URL a line.
    text: >
        az keyvault list --resource-type hsm |
        az hsm-backup create --hsm-object - --storage-account-name myaccount --storage-container-name backups
        --mi --query "[].folderUrl" -o tsv
  - name: Back up two HSMs by URL and by resource ID, with one SAS token for both.
    text: >
        az hsm-backup create --ids https://myhsm.managedhsm.azure.net
        /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/myrg/providers/Microsoft.KeyVault/managedHSMs/myotherhsm
        --storage-container-uri https://myaccount.blob.core.windows.net/backups --sas-token @sas.txt
"""

helps["hsm-backup restore"] = """
type: command
short-summary: Restore a Managed HSM, or one key, from a full backup. This overwrites what the HSM holds.
long-summary: >
    Mirrors Restore-AzKeyVault. Give the backup as --folder-url (the folderUrl that create printed, so one command
    feeds the other) or as --backup-folder with the container flags. The HSM reads the backup with a SAS token
    (permissions 'rl'), its own user-assigned managed identity, or a SAS minted from your identity (--mint-sas).
    Asks before it starts unless --yes is given or az's confirmation prompts are off (az config set
    core.disable_confirm_prompt=true, or AZURE_CORE_DISABLE_CONFIRM_PROMPT=true); with no terminal to ask on it
    refuses (exit 2), and "n" cancels (exit 10). --what-if shows what it would do.
examples:
  - name: Restore from the folder URL that create printed, with the HSM's managed identity.
    text: >
        az hsm-backup restore --hsm-name myhsm --folder-url
        https://myaccount.blob.core.windows.net/backups/mhsm-myhsm-2026112812000000 --use-user-managed-identity --yes
  - name: Back up, then restore that very backup (a script can chain the two).
    text: >
        folder=$(az hsm-backup create --hsm-name myhsm --storage-account-name myaccount
        --storage-container-name backups --mi --query folderUrl -o tsv) &&
        az hsm-backup restore --hsm-name myhsm --folder-url "$folder" --mi --yes
  - name: Restore one key from a backup folder, with a SAS token read from a file.
    text: >
        az hsm-backup restore --hsm-name myhsm --storage-account-name myaccount --storage-container-name backups
        --backup-folder mhsm-myhsm-2026112812000000 --key-name mykey --sas-token @sas.txt --yes
  - name: Show what a restore would do.
    text: >
        az hsm-backup restore --hsm-name myhsm --folder-url
        https://myaccount.blob.core.windows.net/backups/mhsm-myhsm-2026112812000000 --mint-sas --what-if
"""

helps["hsm-backup show"] = """
type: command
short-summary: Show the status of a backup or restore job.
long-summary: A job that failed carries the service's reason in `error` (code and message), and in `-o table`.
examples:
  - name: Check on a backup started with --no-wait.
    text: az hsm-backup show --hsm-name myhsm --job-id 0123456789abcdef0123456789abcdef
  - name: The line that a stopped command printed, as a table (with the reason if the job failed).
    text: az hsm-backup show --id https://myhsm.managedhsm.azure.net --job-id 0123456789abcdef0123456789abcdef -o table
"""

helps["hsm-backup wait"] = """
type: command
short-summary: Wait until a backup or restore job ends; exits non-zero if it failed.
long-summary: >
    One job (--hsm-name, --hsm-object or --id with --job-id), or several: --jobs takes the array that
    `create --no-wait` printed for several HSMs, --ids takes several HSMs with one --job-id each.
    An entry of --jobs without a jobId is carried as Skipped, Busy, Failed or NotStarted (nothing claims more than
    that no job was started), and an array without any job is refused.
    Exit codes 4 (the job failed), 8 (still running when --timeout ran out), 9 (several jobs: some failed or had
    no job; every entry is printed), 11 (an answer of the HSM could not be read), 130 / 143 (Ctrl+C / SIGTERM: the
    job keeps running).
examples:
  - name: Wait for a job by the HSM's URL, as the line of a stopped command names it.
    text: az hsm-backup wait --id https://myhsm.managedhsm.azure.net --job-id 0123456789abcdef0123456789abcdef
  - name: Start a backup, do other work, then wait for it for at most ten minutes.
    text: >
        job=$(az hsm-backup create --hsm-name myhsm --storage-account-name myaccount --storage-container-name backups
        --mi --no-wait --query jobId -o tsv) &&
        az hsm-backup wait --hsm-name myhsm --job-id "$job" --timeout 600
  - name: >
        Wait for every job of the array that `az hsm-backup create --all ... --no-wait` printed, saved in
        started.json. Run it whatever create's exit code was: create exits 9 when one HSM was busy, and the jobs it
        did start still need waiting for.
    text: az hsm-backup wait --jobs @started.json -o table
"""

helps["hsm-backup list"] = """
type: command
short-summary: List the backups in a blob container, newest first.
long-summary: >
    Reads the folder names (mhsm-NAME-TIMESTAMP) with one delimiter listing, so its cost grows with the number of
    backups, not blobs. --details also counts each backup's blobs and bytes with one flat listing, and says whether
    storage shows a backup's files (state Unverified) or not (NotABackup, with the problem); only the HSM can tell a
    finished backup from one still being written (az hsm-backup check restore, or prune and delete, which ask it).
    Runs as you: with --sas-token (permission 'l') or, without it, a SAS minted from your signed-in identity.
examples:
  - name: List the backups of one HSM as a table.
    text: az hsm-backup list --storage-account-name myaccount --storage-container-name backups --hsm-name myhsm -o table
  - name: The newest backup's folder URL.
    text: >
        az hsm-backup list --storage-container-uri https://myaccount.blob.core.windows.net/backups
        --query "[0].folderUrl" -o tsv
"""

helps["hsm-backup delete"] = """
type: command
short-summary: Delete one backup folder from a blob container.
long-summary: >
    The folder goes only if storage shows a backup's files and the HSM that wrote it confirms, with its pre-restore
    check, that it holds a finished backup: the folder of a backup still being written, or of one that failed half
    way, stays. The check runs as you (the local role Managed HSM Administrator) and the HSM reads the folder with
    the SAS you give (permissions 'rld': the HSM reads, you list and delete), with a SAS minted for it from your
    identity, or with its own identity (--use-user-managed-identity). If another run deleted the folder meanwhile,
    it is reported as already gone.
examples:
  - name: Delete a backup without being asked.
    text: >
        az hsm-backup delete --storage-account-name myaccount --storage-container-name backups
        --backup-folder mhsm-myhsm-2026112812000000 --yes
  - name: Show what would be deleted, with a SAS token (permissions 'rld') read from a file.
    text: >
        az hsm-backup delete --storage-container-uri https://myaccount.blob.core.windows.net/backups
        --backup-folder mhsm-myhsm-2026112812000000 --sas-token @sas.txt --what-if
"""

helps["hsm-backup prune"] = """
type: command
short-summary: Delete old backups, keeping the newest of each HSM.
long-summary: >
    With --keep N, keeps the N newest backups of each HSM; with --older-than DAYS, deletes backups older than that;
    with both, deletes only what is beyond the N newest and older than DAYS. Asks first unless --yes is given.
    Only backups that their HSM confirms are finished count (its pre-restore check, asked newest first until N are
    confirmed): a folder still being written, or left half-written by a failed job, is neither counted nor deleted,
    and the newest confirmed backup of each HSM always stays. Each folder is confirmed again right before it is
    deleted. The checks run as you (Managed HSM Administrator); the HSMs read the folders with the SAS you give
    ('rld'), a SAS minted for them, or their own identities (--use-user-managed-identity). An HSM that cannot be
    asked keeps all its backups and the command exits 12 after printing what it did.
examples:
  - name: Show which backups would go if the two newest of each HSM are kept.
    text: az hsm-backup prune --storage-account-name myaccount --storage-container-name backups --keep 2 --what-if
  - name: Delete backups older than 30 days, but always keep the newest 7.
    text: >
        az hsm-backup prune --storage-account-name myaccount --storage-container-name backups
        --keep 7 --older-than 30 --yes
"""

helps["hsm-backup check"] = """
type: group
short-summary: Run the service's pre-backup and pre-restore checks without starting a job (api-version 7.6+).
"""

helps["hsm-backup check backup"] = """
type: command
short-summary: Check that a full backup would succeed (permissions, storage access) without taking one.
examples:
  - name: Check that the HSM's managed identity can write to the container.
    text: >
        az hsm-backup check backup --hsm-name myhsm --storage-account-name myaccount
        --storage-container-name backups --use-user-managed-identity
  - name: Check that a SAS token read from a file lets the HSM write a backup.
    text: >
        az hsm-backup check backup --id https://myhsm.managedhsm.azure.net
        --storage-container-uri https://myaccount.blob.core.windows.net/backups --sas-token @sas.txt
"""

helps["hsm-backup check restore"] = """
type: command
short-summary: Check that a restore from a backup folder would succeed, without restoring.
examples:
  - name: Check a restore from the folder URL that create printed.
    text: >
        az hsm-backup check restore --hsm-name myhsm --folder-url
        https://myaccount.blob.core.windows.net/backups/mhsm-myhsm-2026112812000000 --sas-token @sas.txt
  - name: Check a restore from a backup folder by name, with the HSM's managed identity.
    text: >
        az hsm-backup check restore --hsm-name myhsm --storage-account-name myaccount
        --storage-container-name backups --backup-folder mhsm-myhsm-2026112812000000 --mi
"""

helps["hsm-backup check freshness"] = """
type: command
short-summary: Check that every HSM has a finished backup younger than --max-age.
long-summary: >
    For each HSM (one, --ids, a JSON array in --hsm-object, or --all with or without -g): its newest finished
    backup in the container, its age and a state. Fresh: no older than --max-age. Stale: older. Missing: no finished
    backup (the reason says when only unfinished folders exist). Skipped: ARM says it cannot be backed up, as
    create --all skips it. Unknown: the HSM could not confirm its newest backup. The container is read with one
    delimiter listing, and each HSM confirms its newest folder with its pre-restore check (as prune asks it: you need
    Managed HSM Administrator); older folders are not looked at. Exits 13 when an HSM is Stale or Missing, else 12
    when one is Unknown, after printing every HSM: a scheduler can alert on the exit code.
examples:
  - name: Check that every HSM of a resource group was backed up within the last 26 hours, as a table.
    text: >
        az hsm-backup check freshness --all -g myrg --storage-account-name myaccount
        --storage-container-name backups -o table
  - name: Check two HSMs for a backup of the last 7 days, with a SAS token (permissions 'rl') read from a file.
    text: >
        az hsm-backup check freshness --ids https://myhsm.managedhsm.azure.net https://myotherhsm.managedhsm.azure.net
        --storage-container-uri https://myaccount.blob.core.windows.net/backups --sas-token @sas.txt --max-age 7d
  - name: The names of the HSMs that are not fresh, one per line.
    text: >
        az hsm-backup check freshness --hsm-name myhsm --storage-account-name myaccount
        --storage-container-name backups --max-age P1D --query "[?state!='Fresh'].hsmName" -o tsv
"""
