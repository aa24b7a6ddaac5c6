"""Scenario tests of `az hsm-backup` (azure-cli-testsdk ScenarioTests), replayed from recordings/*.yaml."""
