"""The nouns of az hsm-backup and their rules: pure Python, the standard library only (no knack, no azure-cli-core,
no Azure SDK), so each rule is tested without a CLI and reads the same on every az."""
