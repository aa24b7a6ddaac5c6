"""The recipes of examples/ (docs/unattended.md): each runs examples/nightly.sh with the settings it needs, on a
schedule, signed in the way the docs say. `make lint` checks their syntax (yamllint, actionlint, shellcheck); this
checks what they must contain, which no linter knows."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SCRIPT = EXAMPLES / "nightly.sh"
WORKFLOW = EXAMPLES / "github-actions" / "hsm-backup-nightly.yml"
PIPELINE = EXAMPLES / "azure-pipelines" / "hsm-backup-nightly.yml"
DOCKERFILE = EXAMPLES / "container-apps-job" / "Dockerfile"
JOB = EXAMPLES / "container-apps-job" / "job.yaml"
CRON = EXAMPLES / "cron" / "hsm-backup-nightly"
CRON_FIELD = r"(\*|[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*)(/[0-9]+)?"
CRON_RE = re.compile(rf"^{CRON_FIELD}( {CRON_FIELD}){{4}}$")


def load(path):
    return yaml.safe_load(path.read_text())


def script_settings():
    """The HSMBACKUP_* variables the script reads."""
    return set(re.findall(r"\$\{(HSMBACKUP_[A-Z_]+)", SCRIPT.read_text()))


def test_the_script_is_executable_and_documents_every_setting():
    assert SCRIPT.stat().st_mode & 0o111
    text = SCRIPT.read_text()
    header = text.split("set -uo pipefail", 1)[0]
    assert text.startswith("#!/usr/bin/env bash\n")
    assert script_settings() == {
        "HSMBACKUP_CONTAINER_URI",
        "HSMBACKUP_RESOURCE_GROUP",
        "HSMBACKUP_SUBSCRIPTION",
        "HSMBACKUP_KEEP",
        "HSMBACKUP_MAX_AGE",
        "HSMBACKUP_LOGIN_IDENTITY",
        "HSMBACKUP_IDENTITY_CLIENT_ID",
        "HSMBACKUP_OUTPUT_DIR",
        "HSMBACKUP_AZ",
    }
    for name in script_settings():
        assert f"#   {name} " in header, name
    assert "jq" not in re.sub(r"#.*", "", text)  # not on every host


def test_every_setting_is_in_the_docs():
    docs = (ROOT / "docs" / "unattended.md").read_text()
    for name in script_settings():
        assert f"`{name}`" in docs, name


# ---- GitHub Actions -------------------------------------------------------------------------------------------


def workflow_steps():
    workflow = load(WORKFLOW)
    (job,) = workflow["jobs"].values()
    return workflow, job, job["steps"]


def test_workflow_is_scheduled_and_signs_in_with_oidc():
    workflow, job, steps = workflow_steps()
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(on) == {"schedule", "workflow_dispatch"}
    assert [CRON_RE.match(s["cron"]) is not None for s in on["schedule"]] == [True]
    assert workflow["permissions"] == {"id-token": "write", "contents": "read"}
    (login,) = [s for s in steps if s.get("uses", "").startswith("azure/login@")]
    assert set(login["with"]) == {"client-id", "tenant-id", "subscription-id"}  # OIDC: no client secret
    assert all(re.fullmatch(r"\$\{\{ (secrets|vars)\.AZURE_[A-Z_]+ \}\}", v) for v in login["with"].values())
    assert "creds" not in login["with"]
    assert job["runs-on"] == "ubuntu-latest" and job["timeout-minutes"] > 0


def test_workflow_installs_the_extension_then_runs_the_script_and_keeps_its_outputs():
    _, _, steps = workflow_steps()
    names = [s.get("uses", "run") for s in steps]
    login = next(i for i, s in enumerate(steps) if s.get("uses", "").startswith("azure/login@"))
    install = next(i for i, s in enumerate(steps) if "az extension add" in s.get("run", ""))
    run = next(i for i, s in enumerate(steps) if "examples/nightly.sh" in s.get("run", ""))
    upload = next(i for i, s in enumerate(steps) if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert names[0].startswith("actions/checkout@")
    assert login < install < run < upload, names
    assert "--name hsmbackup" in steps[install]["run"] and "HSMBACKUP_WHEEL_URL" in steps[install]["run"]
    env = steps[run]["env"]
    assert {"HSMBACKUP_CONTAINER_URI", "HSMBACKUP_KEEP", "HSMBACKUP_MAX_AGE", "HSMBACKUP_OUTPUT_DIR"} <= set(env)
    assert set(env) <= script_settings()
    assert "HSMBACKUP_LOGIN_IDENTITY" not in env  # azure/login signed in already
    assert steps[upload]["if"] == "always()"  # the outputs matter most when the run failed
    assert steps[upload]["with"]["path"] == env["HSMBACKUP_OUTPUT_DIR"]


# ---- Azure Pipelines ------------------------------------------------------------------------------------------


def pipeline_tasks():
    pipeline = load(PIPELINE)
    (job,) = pipeline["jobs"]
    return pipeline, job["steps"]


def test_pipeline_is_scheduled_every_night_on_main_and_only_then():
    pipeline, _ = pipeline_tasks()
    assert pipeline["trigger"] == "none" and pipeline["pr"] == "none"
    (schedule,) = pipeline["schedules"]
    assert CRON_RE.match(schedule["cron"])
    assert schedule["always"] is True  # also on nights without a commit
    assert schedule["branches"]["include"] == ["main"]
    assert pipeline["pool"]["vmImage"] == "ubuntu-latest"


def test_pipeline_runs_the_script_with_azurecli2_and_keeps_its_outputs():
    pipeline, steps = pipeline_tasks()
    tasks = [s for s in steps if "task" in s]
    assert [t["task"] for t in tasks] == ["AzureCLI@2", "AzureCLI@2"]
    install, nightly = tasks
    for task in tasks:
        assert task["inputs"]["azureSubscription"] == "${{ variables.serviceConnection }}"
        assert task["inputs"]["scriptType"] == "bash"
        # AzureCLI@2 gives each task its own AZURE_CONFIG_DIR: the extension lives where both look.
        assert task["env"]["AZURE_EXTENSION_DIR"] == "$(AZURE_EXTENSION_DIR)"
    assert pipeline["variables"]["serviceConnection"]
    assert install["inputs"]["scriptLocation"] == "inlineScript"
    assert "az extension add --name hsmbackup" in install["inputs"]["inlineScript"]
    assert nightly["inputs"]["scriptLocation"] == "scriptPath"
    assert nightly["inputs"]["scriptPath"] == "examples/nightly.sh"
    assert (ROOT / nightly["inputs"]["scriptPath"]).is_file()
    env = nightly["env"]
    assert {"HSMBACKUP_CONTAINER_URI", "HSMBACKUP_KEEP", "HSMBACKUP_MAX_AGE", "HSMBACKUP_OUTPUT_DIR"} <= set(env)
    assert set(env) - {"AZURE_EXTENSION_DIR"} <= script_settings()
    for name, value in env.items():
        if name != "HSMBACKUP_OUTPUT_DIR":
            assert value == f"$({name})" and name in pipeline["variables"], name
    (publish,) = [s for s in steps if "publish" in s]
    assert publish["publish"] == env["HSMBACKUP_OUTPUT_DIR"] and publish["condition"] == "always()"
    assert steps.index(publish) > steps.index(nightly)


# ---- Container Apps job and cron ----------------------------------------------------------------------------


def test_dockerfile_builds_on_azure_cli_with_the_extension_and_the_script():
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines() if line.strip()]
    instructions = [line for line in lines if not line.startswith("#")]
    assert instructions[0].startswith("FROM mcr.microsoft.com/azure-cli:")
    text = "\n".join(instructions)
    assert "az extension add --name hsmbackup" in text and "AZURE_EXTENSION_DIR=" in text
    assert "COPY examples/nightly.sh /opt/hsm-backup/nightly.sh" in instructions
    assert 'ENTRYPOINT ["bash", "/opt/hsm-backup/nightly.sh"]' in instructions
    assert "HSMBACKUP_LOGIN_IDENTITY=true" in text


def test_container_apps_job_is_scheduled_with_a_user_assigned_identity():
    job = load(JOB)
    assert job["identity"]["type"] == "UserAssigned"
    (identity,) = job["identity"]["userAssignedIdentities"]
    config = job["properties"]["configuration"]
    assert config["triggerType"] == "Schedule"
    assert CRON_RE.match(config["scheduleTriggerConfig"]["cronExpression"])
    assert config["replicaRetryLimit"] == 0  # a retry would start a second backup of every HSM
    assert config["registries"][0]["identity"] == identity
    (container,) = job["properties"]["template"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["HSMBACKUP_LOGIN_IDENTITY"] == "true"
    assert {"HSMBACKUP_CONTAINER_URI", "HSMBACKUP_IDENTITY_CLIENT_ID"} <= set(env)
    assert set(env) <= script_settings()
    assert container["image"].endswith("/hsm-backup-nightly:1")


def test_cron_file_runs_the_script_as_its_own_user_without_stdin_and_reports_failure():
    lines = [line for line in CRON.read_text().splitlines() if line and not line.startswith("#")]
    settings = dict(line.split("=", 1) for line in lines if re.match(r"^[A-Z_]+=", line))
    (entry,) = [line for line in lines if not re.match(r"^[A-Z_]+=", line)]
    fields = entry.split(None, 6)
    assert CRON_RE.match(" ".join(fields[:5]))
    assert fields[5] == "hsmbackup"  # /etc/cron.d lines name the user
    assert fields[6].startswith("/opt/hsm-backup/nightly.sh </dev/null ")
    assert "|| logger" in fields[6] and "%" not in entry  # cron would turn % into a newline
    assert settings["HSMBACKUP_LOGIN_IDENTITY"] == "true" and settings["SHELL"] == "/bin/bash"
    assert {k for k in settings if k.startswith("HSMBACKUP_")} <= script_settings()


@pytest.mark.parametrize("path", [WORKFLOW, PIPELINE, DOCKERFILE, JOB, CRON])
def test_every_recipe_points_at_the_docs_and_the_script(path):
    text = path.read_text()
    assert "docs/unattended.md" in text
    assert "nightly.sh" in text
    assert "/work/" not in text and "/home/" not in text  # no machine's own paths
