"""The extension's own tests in the azure-cli-extensions layout (`tests/latest/`), as `azdev test` finds them."""
