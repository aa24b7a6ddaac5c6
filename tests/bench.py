"""`make bench`: the extension measured side by side with the built-in `az keyvault backup start`.

Same pinned azure-cli, same local stack, same run, alternating A B A B. Prints medians and ratios; not a test.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.stack import constants as C
from tests.stack.launcher import AZ, PYTHON, Stack

RESULTS = []


def run(argv, env):
    """(wall seconds, stdout) of one child process; raises if it fails."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL
    )
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} failed:\n{err[-2000:]}")
    return wall, out


# Linux carries a parent's peak RSS into its forked children, so a child of this (large) process would report at
# least our own size. A tiny interpreter forks the measured command instead and reports its wait4 rusage.
_MEASURE = (
    "import os, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(proc.pid, 0)\n"
    "print(time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status))\n"
)


def run_rss(argv, env):
    """Wall seconds and peak RSS (MB) of one command, measured with wait4 from a small parent."""
    result = subprocess.run(
        [sys.executable, "-S", "-c", _MEASURE, *map(str, argv)], env=env, capture_output=True, text=True
    )
    wall, maxrss_kb, code = result.stdout.split()
    if int(code) != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} failed: {result.stderr[-2000:]}")
    return float(wall), int(maxrss_kb) / 1024


def alternate(label_a, a, label_b, b, rounds):
    """Run a() and b() alternately; return their median values."""
    samples = {label_a: [], label_b: []}
    for _ in range(rounds):
        samples[label_a].append(a())
        samples[label_b].append(b())
    return {k: statistics.median(v) for k, v in samples.items()}


def report(section, name, ours, theirs, unit="s", target=None):
    ratio = ours / theirs if theirs else float("nan")
    RESULTS.append((section, name, ours, theirs, ratio, unit, target))
    print(
        f"  {name:<46} ours {ours:8.3f} {unit}  other {theirs:8.3f} {unit}  ratio {ratio:5.2f}"
        + (f"  (target {target})" if target else ""),
        flush=True,
    )


def startup(stack, env, no_ext_env):
    print("1. Start-up", flush=True)
    probe = subprocess.run(
        [str(PYTHON), "-X", "importtime", "-m", "azure.cli", "hsm-backup", "create", "-h"],
        env=env,
        capture_output=True,
        text=True,
    )
    imported = [line.split("|")[-1].strip() for line in probe.stderr.splitlines() if "|" in line]
    heavy = [
        m
        for m in imported
        if m.startswith(
            (
                "azure.keyvault",
                "azure.storage",
                "azure.mgmt",
                "azure.core.pipeline",
                "azure.identity",
            )
        )
    ]
    ours = [m for m in imported if m.startswith("azext_hsmbackup")]
    print(f"  -X importtime of `az hsm-backup create -h`: extension modules {ours}; SDK modules: {heavy or 'none'}")
    wall = lambda argv, e: run([str(AZ), *argv], e)[0]  # noqa: E731
    medians = alternate(
        "ours",
        lambda: wall(["hsm-backup", "create", "-h"], env),
        "builtin",
        lambda: wall(["keyvault", "backup", "start", "-h"], env),
        10,
    )
    report(
        "start-up",
        "`hsm-backup create -h` vs `keyvault backup start -h`",
        medians["ours"],
        medians["builtin"],
        target="<= 1.0",
    )
    medians = alternate(
        "with", lambda: wall(["account", "show"], env), "without", lambda: wall(["account", "show"], no_ext_env), 10
    )
    report(
        "start-up",
        "`account show` with vs without the extension",
        medians["with"],
        medians["without"],
        target="<= 1.02",
    )


def completion_lag(stack, env, durations):
    print("2. Completion lag (wall time minus job duration; real headers: Retry-After 10 on the 202, none on polls)")
    sas = stack.mint_sas()
    for duration, rounds in durations:
        stack.emulator(
            "PUT", "config", {"job_duration_s": duration, "retry_after_202": 10, "poll_retry_after_ms": None}
        )
        ours = [
            "hsm-backup",
            "create",
            "--hsm-name",
            "lagours",
            "--storage-container-uri",
            stack.container_uri(),
            "--sas-token",
            sas,
        ]
        builtin = [
            "keyvault",
            "backup",
            "start",
            "--hsm-name",
            "lagbuiltin",
            "--storage-account-name",
            C.STORAGE_ACCOUNT,
            "--blob-container-name",
            "backups",
            "--storage-container-SAS-token",
            sas,
        ]
        medians = alternate(
            "ours",
            lambda a=ours, d=duration: run([str(AZ), *a], env)[0] - d,
            "builtin",
            lambda b=builtin, d=duration: run([str(AZ), *b], env)[0] - d,
            rounds,
        )
        # The first status check waits for the 202's Retry-After (10 s): a shorter job is reported then.
        report(
            "lag",
            f"backup lag at job duration {duration:g} s",
            medians["ours"],
            medians["builtin"],
            target=f"ours <= {10 - duration + 1:g} s" if duration < 10 else "ours <= 1 s",
        )


def memory(stack, env):
    print("4. Memory (peak RSS of the az process for the same backup)")
    stack.emulator("PUT", "config", {"job_duration_s": 1, "poll_retry_after_ms": None})
    sas = stack.mint_sas()
    ours = [
        str(AZ),
        "hsm-backup",
        "create",
        "--hsm-name",
        "memours",
        "--storage-container-uri",
        stack.container_uri(),
        "--sas-token",
        sas,
    ]
    builtin = [
        str(AZ),
        "keyvault",
        "backup",
        "start",
        "--hsm-name",
        "membuiltin",
        "--storage-account-name",
        C.STORAGE_ACCOUNT,
        "--blob-container-name",
        "backups",
        "--storage-container-SAS-token",
        sas,
    ]
    medians = alternate("ours", lambda: run_rss(ours, env)[1], "builtin", lambda: run_rss(builtin, env)[1], 3)
    report("memory", "peak RSS of one backup (MB)", medians["ours"], medians["builtin"], unit="MB", target="<= 1.10")


def concurrency(stack, env):
    print("5. Concurrency (five HSMs backed up at once from five processes)")
    stack.emulator("PUT", "config", {"job_duration_s": 3})
    sas = stack.mint_sas()

    def one(name):
        return run(
            [
                str(AZ),
                "hsm-backup",
                "create",
                "--hsm-name",
                name,
                "--storage-container-uri",
                stack.container_uri(),
                "--sas-token",
                sas,
            ],
            env,
        )[0]

    single = one("solo")
    start = time.perf_counter()
    with ThreadPoolExecutor(5) as pool:
        walls = list(pool.map(one, [f"conc{i}" for i in range(5)]))
    total = time.perf_counter() - start
    print(f"  five at once: all succeeded, slowest {max(walls):.2f} s")
    report("concurrency", "5 parallel backups vs 1 backup (wall)", total, single, target="close to 1")


def fleet(stack, env, rounds):
    """Twenty HSMs in one command (--ids, --max-parallel 20) against one HSM alone: same 5 s jobs, same headers."""
    print("6. Fleet (20 HSMs with 5 s jobs in one `create --ids ... --max-parallel 20`, against one backup alone)")
    stack.emulator("PUT", "config", {"job_duration_s": 5, "poll_retry_after_ms": None})
    to = ["--storage-container-uri", stack.container_uri(), "--sas-token", stack.mint_sas()]
    one = [str(AZ), "hsm-backup", "create", "--hsm-name", "fleetsolo", *to]
    ids = [stack.hsm_url(f"fleet{i:02d}") for i in range(20)]
    many = [str(AZ), "hsm-backup", "create", "--ids", *ids, "--max-parallel", "20", *to, "--only-show-errors"]
    samples = {"one": [], "many": []}
    for _ in range(rounds):  # alternately; a fleet run exits 0 only when all 20 succeeded (run_rss checks it)
        samples["one"].append(run_rss(one, env))
        samples["many"].append(run_rss(many, env))
    jobs = [j for j in stack.emulator("GET", "jobs")["jobs"] if j["hsm"].startswith("fleet") and j["kind"] == "backup"]
    print(f"  {len(jobs)} backup jobs, all {', '.join(sorted({j['status'] for j in jobs}))}")
    walls = {k: statistics.median(w for w, _ in v) for k, v in samples.items()}
    rss = {k: statistics.median(m for _, m in v) for k, v in samples.items()}
    report("fleet", "20 HSMs at once vs 1 HSM (wall)", walls["many"], walls["one"], target="<= 1.3")
    report("fleet", "20 HSMs at once vs 1 HSM (peak RSS, MB)", rss["many"], rss["one"], unit="MB", target="<= 1.5")


def populate(stack, container, folders, blobs_per_folder, body):
    """Folders of 5 HSMs, uploaded straight to Azurite (path-style on 127.0.0.1) with many threads."""
    from azure.storage.blob import ContainerClient

    url = f"https://127.0.0.1:{stack.state['azurite_port']}/{C.STORAGE_ACCOUNT}/{container}"
    client = ContainerClient(
        url.rsplit("/", 1)[0],
        container,
        credential={"account_name": C.STORAGE_ACCOUNT, "account_key": C.STORAGE_ACCOUNT_KEY},
        connection_verify=stack.bundle,
    )
    client.create_container()
    names = [
        f"mhsm-benchhsm{f % 5}-2026{(f // 86400) % 12 + 1:02d}{(f // 3600) % 28 + 1:02d}"
        f"{(f // 60) % 24:02d}{f % 60:02d}{f % 100:02d}00/blob{b:02d}"
        for f in range(folders)
        for b in range(blobs_per_folder)
    ]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda n: client.upload_blob(n, body, overwrite=True), names))
    return url


def listing(stack, env, sizes):
    print("3. Listing at scale (`az hsm-backup list` vs one bare delimiter listing through the SDK)")
    sdk_list = (
        "import sys, time\n"
        "from azure.storage.blob import ContainerClient\n"
        "from tests.stack import constants as C\n"
        "url, container, bundle = sys.argv[1:4]\n"
        "c = ContainerClient(url.rsplit('/', 1)[0], container, credential={'account_name': C.STORAGE_ACCOUNT,"
        " 'account_key': C.STORAGE_ACCOUNT_KEY}, connection_verify=bundle)\n"
        "print(sum(1 for _ in c.walk_blobs(delimiter='/')))\n"
    )
    for index, (folders, blobs, body) in enumerate(sizes):
        container = f"listbench{index}"
        started = time.perf_counter()
        url = populate(stack, container, folders, blobs, body)
        print(f"  populated {folders} folders x {blobs} blobs in {time.perf_counter() - started:.0f} s", flush=True)
        sas = stack.mint_sas(container=container, permissions="l")
        ours = [str(AZ), "hsm-backup", "list", "--storage-container-uri", url, "--sas-token", sas, "-o", "none"]
        sdk = [str(PYTHON), "-c", sdk_list, url, container, stack.bundle]
        walls = alternate("ours", lambda o=ours: run_rss(o, env), "sdk", lambda s=sdk: run_rss(s, env), 3)
        report(
            "listing", f"{folders} folders x {blobs} blobs: wall", walls["ours"][0], walls["sdk"][0], target="<= 2.0"
        )
        print(f"    peak RSS: az hsm-backup list {walls['ours'][1]:.0f} MB, bare SDK listing {walls['sdk'][1]:.0f} MB")


SECTIONS = ("startup", "lag", "listing", "memory", "concurrency", "fleet", "polling", "prune", "freshness")


def main():
    """All sections, or those named on the command line (`python -m tests.bench polling prune`); --quick: fewer
    rounds and no 10-minute polling job."""
    from tests import bench_freshness, bench_trust

    quick = "--quick" in sys.argv
    chosen = [a for a in sys.argv[1:] if not a.startswith("--")] or list(SECTIONS)
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown sections {sorted(unknown)}; known: {', '.join(SECTIONS)}")
    with tempfile.TemporaryDirectory(prefix="hsmbackup-bench-") as state_dir:
        stack = Stack(state_dir)
        try:
            stack.up()
            env = stack.env()
            no_ext_cfg = Path(state_dir) / "azconfig-noext"
            shutil.copytree(stack.config_dir, no_ext_cfg)
            empty = Path(state_dir) / "no-extensions"
            empty.mkdir()
            no_ext_env = stack.env(config_dir=no_ext_cfg, AZURE_EXTENSION_SYS_DIR=empty)
            for warm in (env, no_ext_env):  # build each command index once
                run([str(AZ), "account", "show"], warm)
            run([str(AZ), "keyvault", "backup", "start", "-h"], env)
            if "startup" in chosen:
                startup(stack, env, no_ext_env)
            # Whole seconds (2, 30) are multiples of both poll intervals, so they flatter both; 2.5 and 31.5 do not.
            # 2-9 s are shorter than the 202's Retry-After (10 s); Azure's backups of small HSMs take 8-11 s (9 s).
            long_rounds = 1 if quick else 2
            if "lag" in chosen:
                completion_lag(stack, env, [(2, 3), (2.5, 3), (9, 3), (30, long_rounds), (31.5, long_rounds)])
            sizes = [(200, 20, b"x" * 64), (2000, 20, b"x" * 64), (10000, 1, b"")]
            if "listing" in chosen:
                listing(stack, env, sizes[:2] if quick else sizes)
            if "memory" in chosen:
                memory(stack, env)
            if "concurrency" in chosen:
                concurrency(stack, env)
            if "fleet" in chosen:
                fleet(stack, env, 2 if quick else 3)
            if "polling" in chosen:
                bench_trust.polling(stack, env, report, (2, 30) if quick else (2, 30, 600))
            if "prune" in chosen:
                bench_trust.prune_plan(stack, env, report, 2 if quick else 3)
            if "freshness" in chosen:
                bench_freshness.freshness(stack, env, report, run_rss, alternate, 2 if quick else 3)
        finally:
            stack.down()
    print("\n| section | measurement | ours | other | ratio | target |\n|---|---|---|---|---|---|")
    for section, name, ours, theirs, ratio, unit, target in RESULTS:
        print(f"| {section} | {name} | {ours:.3f} {unit} | {theirs:.3f} {unit} | {ratio:.2f} | {target or ''} |")
    print(f"\nMachine: {os.cpu_count()} cores, {os.uname().machine}, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
