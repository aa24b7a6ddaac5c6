"""The command table of `az hsm-backup`."""

from azext_hsmbackup._validators import validate_create


def load_command_table(loader, _):
    with loader.command_group("hsm-backup", is_preview=True) as g:
        g.custom_command("create", "create_backup", validator=validate_create)
