"""The command table of `az hsm-backup`."""

from azext_hsmbackup import _validators as v
from azext_hsmbackup._format import backup_table, deletion_table, freshness_table, job_table


def load_command_table(loader, _):
    # In preview, as azext.isPreview in azext_metadata.json says: help shows it, and az prints its preview line on
    # stderr before each command runs (not under --only-show-errors).
    with loader.command_group("hsm-backup", is_preview=True) as g:
        g.custom_command("create", "create_backup", validator=v.validate_create, table_transformer=job_table)
        g.custom_command("restore", "restore_backup", validator=v.validate_restore, table_transformer=job_table)
        g.custom_show_command("show", "show_job", validator=v.validate_show, table_transformer=job_table)
        g.custom_command("wait", "wait_job", validator=v.validate_wait, table_transformer=job_table)
        g.custom_command("list", "list_backups", validator=v.validate_list, table_transformer=backup_table)
        g.custom_command("delete", "delete_backup", validator=v.validate_delete, table_transformer=deletion_table)
        g.custom_command("prune", "prune_backups", validator=v.validate_prune, table_transformer=deletion_table)
    with loader.command_group("hsm-backup check", is_preview=True) as g:
        g.custom_command("backup", "check_backup", validator=v.validate_check_backup, table_transformer=job_table)
        g.custom_command("restore", "check_restore", validator=v.validate_restore, table_transformer=job_table)
        g.custom_command(
            "freshness", "check_freshness", validator=v.validate_freshness, table_transformer=freshness_table
        )
