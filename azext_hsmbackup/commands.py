"""The command table of `az hsm-backup`."""

from azext_hsmbackup._format import job_table
from azext_hsmbackup._validators import validate_create, validate_show


def load_command_table(loader, _):
    with loader.command_group("hsm-backup") as g:
        g.custom_command("create", "create_backup", validator=validate_create, table_transformer=job_table)
        g.custom_show_command("show", "show_job", validator=validate_show, table_transformer=job_table)
