"""`make bench` row of issue 20: `az hsm-backup check freshness` of 50 HSMs with 400 backups each (20,000 folders,
written straight into Azurite) against one bare delimiter listing of the same container, side by side, 3 rounds.
Run alone with `python -m tests.bench freshness`."""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from tests.bench_trust import azurite_container, backup_blobs
from tests.stack.launcher import AZ, PYTHON

# The bare listing: the SDK's own walk of the top level, through the same proxy, CA bundle and SAS as az.
RAW_LISTING = (
    "import sys\n"
    "from azure.storage.blob import ContainerClient\n"
    "client = ContainerClient.from_container_url(sys.argv[1] + '?' + sys.argv[2])\n"
    "print(sum(1 for _ in client.walk_blobs(delimiter='/')))\n"
)


def populate(stack, container, hsms, per_hsm):
    """Each HSM's newest backup as the emulator writes it (its check reads it); the older ones one small blob each
    (their names are all the listing sees, and nothing reads them)."""
    client = azurite_container(stack, container)
    now = datetime.now(timezone.utc)
    blobs = []
    for h in range(hsms):
        hsm = f"freshhsm{h:02d}"
        blobs += backup_blobs(hsm, now - timedelta(minutes=5, seconds=h))
        for day in range(1, per_hsm):
            when = now - timedelta(days=day, seconds=h)
            blobs.append((f"mhsm-{hsm}-{when:%Y%m%d%H%M%S}00/manifest.json", b"{}"))
    started = time.perf_counter()
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda b: client.upload_blob(b[0], b[1], overwrite=True), blobs))
    print(f"  wrote {len(blobs)} blobs in {time.perf_counter() - started:.0f} s", flush=True)
    return [stack.hsm_url(f"freshhsm{h:02d}") for h in range(hsms)]


def freshness(stack, env, report, run_rss, alternate, rounds=3, hsms=50, per_hsm=400):
    print(f"9. Freshness ({hsms} HSMs x {per_hsm} backups: `check freshness --ids ...` vs one bare delimiter listing)")
    container = "freshbench"
    ids = populate(stack, container, hsms, per_hsm)
    # The HSMs answer at once (no Retry-After, 50 ms checks): the row measures the extension's own cost.
    stack.emulator("PUT", "config", {"job_duration_s": 0.05, "retry_after_202": None, "job_duration_by_hsm": {}})
    uri = stack.container_uri(container)
    sas = stack.mint_sas(container=container, permissions="rl")
    ours = [str(AZ), "hsm-backup", "check", "freshness", "--ids", *ids, "--storage-container-uri", uri,
            "--sas-token", sas, "-o", "none"]  # fmt: skip
    raw = [str(PYTHON), "-c", RAW_LISTING, uri, sas]
    walls = alternate("ours", lambda: run_rss(ours, env), "raw", lambda: run_rss(raw, env), rounds)
    log = stack.emulator("GET", "requests")["requests"]
    checks = [r for r in log if r["path"] == "/prerestore" and r["hsm"].startswith("freshhsm")]
    print(f"  {len(checks)} pre-restore requests in {rounds} runs (each HSM's newest folder: its challenge, its check)")
    report("freshness", f"check freshness of {hsms} HSMs, {hsms * per_hsm} backups vs a bare listing (wall)",
           walls["ours"][0], walls["raw"][0], target="<= 1.3")  # fmt: skip
    print(f"    peak RSS: check freshness {walls['ours'][1]:.0f} MB, bare listing {walls['raw'][1]:.0f} MB")
