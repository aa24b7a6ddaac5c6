"""The `az hsm-backup` command group. The loader imports nothing heavy: SDKs load inside the commands."""

from azure.cli.core import AzCommandsLoader

from azext_hsmbackup._help import helps  # noqa: F401  pylint: disable=unused-import
from azext_hsmbackup._params import load_arguments
from azext_hsmbackup.commands import load_command_table


class HsmBackupCommandsLoader(AzCommandsLoader):
    def __init__(self, cli_ctx=None):
        from azure.cli.core.commands import CliCommandType

        custom_type = CliCommandType(operations_tmpl="azext_hsmbackup.custom#{}")
        super().__init__(cli_ctx=cli_ctx, custom_command_type=custom_type)

    def load_command_table(self, args):
        load_command_table(self, args)
        return self.command_table

    def load_arguments(self, command):
        load_arguments(self, command)


COMMAND_LOADER_CLS = HsmBackupCommandsLoader
