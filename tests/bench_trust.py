"""`make bench` rows of issue 18: how often a running job's status is read and how long after its end the user
hears of it (ours, ours with the old fixed half second, the built-in), and what prune's plan costs against list on
3,000 backups. Run from tests/bench.py; run alone with `python -m tests.bench polling prune`."""

import hashlib
import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from tests.stack import constants as C
from tests.stack.launcher import AZ

RETRY_AFTER_202 = 10  # what Azure sends; the first status read waits for it


def _status_reads(stack, hsm):
    return [
        r
        for r in stack.emulator("GET", "requests")["requests"]
        if r["hsm"] == hsm and r["method"] == "GET" and r["auth_present"] and r["path"].endswith("/pending")
    ]


def polling(stack, env, report, durations=(2, 30, 600)):
    """Every job at once (one HSM each): ours, ours as it paced before (a fixed 0.5 s), and the built-in."""
    print(
        f"7. Polling (status reads and lag for jobs of {', '.join(f'{d:g} s' for d in durations)}; 202 Retry-After 10)"
    )
    sas = stack.mint_sas()
    runs = {}
    for duration in durations:
        label = f"{duration:g}".replace(".", "p")
        runs[(duration, "ours")] = (f"pollours{label}", ["hsm-backup", "create", "--storage-container-uri"])
        runs[(duration, "fixed")] = (f"pollfixed{label}", ["hsm-backup", "create", "--polling-interval", "0.5",
                                                          "--storage-container-uri"])  # fmt: skip
        runs[(duration, "builtin")] = (f"pollbuiltin{label}", ["keyvault", "backup", "start", "--storage-resource-uri"])
    stack.emulator(
        "PUT",
        "config",
        {
            "job_duration_by_hsm": {hsm: d for (d, _), (hsm, _) in runs.items()},
            "retry_after_202": RETRY_AFTER_202,
            "poll_retry_after_ms": None,
        },
    )

    def one(key):
        hsm, argv = runs[key]
        token = "--sas-token" if argv[0] == "hsm-backup" else "--storage-container-SAS-token"
        command = [str(AZ), *argv, stack.container_uri(), "--hsm-name", hsm, token, sas, "-o", "none"]
        done = subprocess.run(command, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode:
            raise RuntimeError(f"{' '.join(command[:4])} failed: {done.stderr[-1500:]}")
        return time.time()

    with ThreadPoolExecutor(len(runs)) as pool:
        ended_at = dict(zip(runs, pool.map(one, runs), strict=True))
    jobs = {j["hsm"]: j for j in stack.emulator("GET", "jobs")["jobs"] if j["kind"] == "backup"}
    for duration in durations:
        lag, reads = {}, {}
        for who in ("ours", "fixed", "builtin"):
            hsm = runs[(duration, who)][0]
            job = jobs[hsm]
            lag[who] = ended_at[(duration, who)] - max(job["ended"], job["started"] + RETRY_AFTER_202)
            reads[who] = len(_status_reads(stack, hsm))
        bound = max(1.0, 0.05 * duration)
        report("polling", f"job of {duration:g} s: lag after end/Retry-After", lag["ours"], lag["builtin"],
               target=f"ours <= {bound:g} s")  # fmt: skip
        report("polling", f"job of {duration:g} s: status reads", reads["ours"], reads["builtin"], unit="",
               target=f"<= {reads['fixed'] / 5:.0f} (1/5 of a fixed 0.5 s)" if duration >= 600 else None)  # fmt: skip
        print(f"    the old fixed 0.5 s: {reads['fixed']} reads, lag {lag['fixed']:.2f} s")


def backup_blobs(hsm, when):
    """The blobs of one backup folder as the emulator writes them (two keys and the manifest that indexes them)."""
    folder = f"mhsm-{hsm}-{when:%Y%m%d%H%M%S}{when.microsecond // 10000:02d}"
    keys, entries = [], []
    for index in range(2):
        data = json.dumps({"name": f"key-{index}", "versions": [{"v": index}]}).encode()
        keys.append((f"{folder}/keys/key-{index}.json", data))
        entries.append({"name": f"key-{index}", "blob": f"keys/key-{index}.json",
                        "sha256": hashlib.sha256(data).hexdigest(), "versions": 1})  # fmt: skip
    manifest = {"format": "mhsm-emulator-backup/1", "hsm": hsm, "folder": folder, "keys": entries, "keyCount": 2}
    return [*keys, (f"{folder}/manifest.json", json.dumps(manifest).encode())]


def azurite_container(stack, container):
    """A new container of the stack's Azurite, reached straight (path-style, account key) to fill it quickly."""
    from azure.storage.blob import ContainerClient

    stack.create_container(container)
    return ContainerClient(
        f"https://127.0.0.1:{stack.state['azurite_port']}/{C.STORAGE_ACCOUNT}",
        container,
        credential={"account_name": C.STORAGE_ACCOUNT, "account_key": C.STORAGE_ACCOUNT_KEY},
        connection_verify=stack.bundle,
    )


def prune_plan(stack, env, report, rounds=3, hsms=30, per_hsm=100, keeps=(1, 3)):
    """prune --what-if (one flat listing, then each HSM's pre-restore checks until --keep are confirmed) against
    list (one delimiter listing) on the same container of hsms x per_hsm backups, written straight into Azurite."""
    print(f"8. Prune plan ({hsms * per_hsm} backups of {hsms} HSMs: `prune --keep N --what-if` against `list`)")
    container = "prunebench"
    client = azurite_container(stack, container)
    now = datetime.now(timezone.utc)
    blobs = [
        blob
        for h in range(hsms)
        for k in range(per_hsm)
        for blob in backup_blobs(f"prunehsm{h:02d}", now - timedelta(minutes=14 * k + 1, seconds=h))
    ]  # within the 24 hours a backup's blobs are written in, as the service's are
    started = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda b: client.upload_blob(b[0], b[1], overwrite=True), blobs))
    print(f"  wrote {len(blobs)} blobs in {time.perf_counter() - started:.0f} s", flush=True)
    # The HSMs answer at once (no Retry-After, 50 ms checks): the row measures the extension's own cost.
    stack.emulator("PUT", "config", {"job_duration_s": 0.05, "retry_after_202": None, "job_duration_by_hsm": {}})
    uri = stack.container_uri(container)
    sas = stack.mint_sas(container=container, permissions="rld")
    to = ["--storage-container-uri", uri, "--sas-token", sas, "-o", "none"]
    commands = {"list": [str(AZ), "hsm-backup", "list", *to]}
    for keep in keeps:
        commands[keep] = [str(AZ), "hsm-backup", "prune", "--keep", str(keep), "--what-if", *to]
    samples = {name: [] for name in commands}
    for _ in range(rounds):  # alternately
        for name, command in commands.items():
            start = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
            if done.returncode:
                raise RuntimeError(f"{name} failed: {done.stderr[-1500:]}")
            samples[name].append(time.perf_counter() - start)
    log = stack.emulator("GET", "requests")["requests"]
    checks = [r for r in log if r["path"] == "/prerestore" and r["status"] == 202]
    print(f"  {len(checks)} pre-restore checks in {rounds * len(keeps)} plans (--keep N per HSM each)")
    medians = {k: sorted(v)[len(v) // 2] for k, v in samples.items()}
    for keep in keeps:
        report("prune", f"prune --keep {keep} --what-if vs list, {hsms * per_hsm} backups", medians[keep],
               medians["list"], target="<= 3.0")  # fmt: skip
