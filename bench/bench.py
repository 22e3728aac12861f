"""bench/run's driver: seed, serve, measure, print one table per run, write
bench/results/<date>.json.

Seeding goes through the product's own path: a first `affhost serve` on a configuration whose
tenants reference generated fixture files loads them into the store at start. The measured
server then runs a configuration without `fixtures:` lines, as a production host with a large
store does (fixtures are demo data, re-read on every reload; nobody keeps a million records in
them). The seeded store is kept as a pristine copy (stores.py), so every run starts from the
same records: with --repeat N, each of the N runs measures its own fresh copy.
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import generate
import report
import scenarios
import stores
from server import BenchFailure, Server, free_port

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.dirname(BENCH_DIR)


def parse_arguments():
    parser = argparse.ArgumentParser(
        prog="bench/run",
        description="Measure affhost (release build) against the targets of issues 5 and 14 on loopback.",
    )
    parser.add_argument("--tenants", type=int, default=100, help="tenants served, half per dialect (default 100)")
    parser.add_argument("--records", type=int, default=100_000,
                        help="payouts, and as many earnings, seeded in total (default 100000)")
    parser.add_argument("--hot-records", type=int, default=generate.HOT_RECORDS,
                        help="payouts, and as many rewards, of the one hot promoter measured by fp_hot_update "
                             f"(default {generate.HOT_RECORDS})")
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per scenario (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per scenario (default 3)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--reload-tenants", type=int, default=1000,
                        help="tenants in the file reloaded under load (default 1000)")
    parser.add_argument("--check-tenants", type=int, default=10_000,
                        help="tenants in the file timed with affhost check (default 10000)")
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite",
                        help="sqlite (default) or postgres: a throwaway cluster in the work directory "
                             "made with the installed initdb/pg_ctl, or --postgres-url")
    parser.add_argument("--postgres-url",
                        help="with --store postgres: an empty database to use instead (seeded by every run)")
    parser.add_argument("--binary", default=os.path.join(REPOSITORY, ".build", "release", "affhost"),
                        help="the affhost executable (default .build/release/affhost)")
    parser.add_argument("--workdir",
                        help="keep configs, logs and the seeded store here and reuse the store next time "
                             "(default: a temporary folder, removed after a successful run)")
    parser.add_argument("--results", default=os.path.join(BENCH_DIR, "results"),
                        help="where <date>.json goes (default bench/results)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure N times, each on a fresh copy of the seeded store; one table per run, "
                             "then the worst p99 and max latency of each scenario (default 1)")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed in any run")
    parser.add_argument("--overhead", action="store_true",
                        help="instead of the full run: server CPU per request of healthz and fp_update with the "
                             "access log and metrics off, then on (serve's defaults), alternating --repeat times "
                             "(at least 2), each on a fresh copy of the seeded store")
    parser.add_argument("--webhooks", action="store_true",
                        help="instead of the full run: fp_update and vantio_update without webhooks, then with every "
                             "tenant sending every event to one receiver on loopback (bench/receiver.py), alternating "
                             "--repeat times (at least 2); prints throughput with/without and delivery latency from "
                             "commit to the receiver's 2xx (sqlite only)")
    options = parser.parse_args()

    fp_tenants = (options.tenants + 1) // 2
    vantio_tenants = options.tenants // 2
    if options.tenants < 2:
        parser.error("--tenants must be at least 2 (one per dialect)")
    # Each wrk thread writes its own share of a lane and comes back to a record only after the
    # share's others (wrk.lua): a share of at least twice the thread's connections keeps two
    # requests for one record from being in flight at once, which the server may apply in either
    # order (the second would then repeat the status, a no-op).
    share = 2 * -(-options.connections // options.threads)
    minimum = scenarios.LANES * options.threads * share
    why = f"{scenarios.LANES} lanes x {options.threads} wrk threads x {share}, twice a thread's connections"
    if options.records // fp_tenants < minimum:
        parser.error(f"--records must give every tenant at least {minimum} records ({why})")
    if options.hot_records < minimum:
        parser.error(f"--hot-records must be at least {minimum} ({why})")
    if options.repeat < 1:
        parser.error("--repeat must be at least 1")
    if options.reload_tenants <= options.tenants:
        parser.error("--reload-tenants must be larger than --tenants (the reload adds tenants)")
    if options.connections < options.threads:
        parser.error("--connections must be at least --threads")
    if options.webhooks and options.store != "sqlite":
        parser.error("--webhooks reads delivery times from the SQLite file; use --store sqlite")
    if options.postgres_url and options.store != "postgres":
        parser.error("--postgres-url goes with --store postgres")
    if options.postgres_url and options.repeat > 1:
        # Such a database cannot be copied back to its seeded state: a second run would find the
        # statuses the first one left, and its PUTs would no longer all be real changes.
        parser.error("--repeat goes with a store bench/run can copy (sqlite, or postgres without --postgres-url)")
    if not os.access(options.binary, os.X_OK):
        parser.error(f"{options.binary} is not an executable; run `swift build -c release --static-swift-stdlib` first")
    options.binary = os.path.abspath(options.binary)
    options.fp_tenants = fp_tenants
    options.vantio_tenants = vantio_tenants
    # Per status-PUT scenario: how many tenants a thread spreads its requests over, and the
    # fewest records of one tenant in one thread's share of a lane (scenarios.check_reuse).
    lane_slots = scenarios.LANES * options.threads
    options.shares = {
        "fp_update": (fp_tenants, options.records // fp_tenants // lane_slots),
        "fp_hot_update": (1, options.hot_records // lane_slots),
        "vantio_update": (vantio_tenants, options.records // vantio_tenants // lane_slots),
    }
    return options


def say(text):
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def busy_fraction(seconds=1.0):
    """How busy all CPUs are, from /proc/stat over `seconds`, while nothing of the run is running."""
    def sample():
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        idle = values[3] + values[4]
        return sum(values), idle

    total_before, idle_before = sample()
    time.sleep(seconds)
    total_after, idle_after = sample()
    total = total_after - total_before
    return 1 - (idle_after - idle_before) / total if total else 0.0


def cpu_calibration_ms():
    """CPU time of a fixed piece of work (SHA-256 of 200 MB), best of three: this machine's
    speed varies with its neighbours, and two runs compare only next to this figure."""
    block = b"x" * 1_000_000
    best = None
    for _ in range(3):
        started = time.process_time()
        digest = hashlib.sha256()
        for _ in range(200):
            digest.update(block)
        elapsed = (time.process_time() - started) * 1000
        best = elapsed if best is None else min(best, elapsed)
    return best


def write(path, text):
    with open(path, "w") as out:
        out.write(text)


def generator_fingerprint(options):
    with open(os.path.join(BENCH_DIR, "generate.py"), "rb") as source:
        digest = hashlib.sha256(source.read()).hexdigest()
    return {"tenants": options.tenants, "records": options.records, "hot_records": options.hot_records,
            "generator": digest}


def seed(options, workdir, tenants, store):
    """Loads the fixtures through `affhost serve`; returns how long it took and the server's
    RSS with them loaded, or None when the work directory already held a pristine store made
    with the same parameters."""
    fingerprint = generator_fingerprint(options)
    if store.pristine(fingerprint):
        say("reusing the seeded store in " + workdir)
        return None
    say(f"generating fixtures: {options.records} payouts over {options.fp_tenants} tenants, "
        f"{options.records} earnings over {options.vantio_tenants} tenants, and one promoter in {tenants[0].id} "
        f"with {options.hot_records} payouts and {options.hot_records} rewards")
    fixtures = os.path.join(workdir, "fixtures")
    generate.write_fixtures(fixtures, tenants)
    store_url = store.begin_seeding()
    config = os.path.join(workdir, "seed.yaml")
    port = free_port()
    write(config, generate.config_yaml(tenants, port, store_url, fixtures_dir="fixtures"))

    say(f"seeding {generate.seeded_records(tenants)} records: affhost serve loads the fixtures")
    server = Server(options.binary, config, workdir, os.path.join(workdir, "seed.log"), port)
    try:
        seconds = server.start(timeout=4 * 3600)
        memory = server.memory_kib()
        server.stop()
    finally:
        server.kill()
    say(f"seeded in {seconds:.1f} s (server RSS with the fixtures loaded: {memory['VmRSS'] / 1024:.0f} MiB)")
    shutil.rmtree(fixtures)
    store.end_seeding(fingerprint)
    return {"seconds": seconds, "rss_mb_with_fixtures": memory["VmRSS"] * 1024 / 1e6}


def run(options, workdir):
    """Seeds once, then measures --repeat times, each on a fresh copy of the seeded store, and
    prints each run's table as soon as it is done; returns the runs' results."""
    tenants = generate.plan(options.tenants, options.records, options.hot_records)
    if options.store == "sqlite":
        store = stores.SQLiteFiles(workdir)
    elif options.postgres_url:
        store = stores.PostgresURL(options.postgres_url)
    else:
        store = stores.PostgresCluster(workdir)
    runs = []
    try:
        seeded = seed(options, workdir, tenants, store)
        if options.overhead:
            results = measure_overhead(options, workdir, tenants, store)
            print(report.overhead_table(results), flush=True)
            return [results]
        if options.webhooks:
            results = measure_webhooks(options, workdir, tenants, store)
            print(report.webhooks_table(results), flush=True)
            return [results]
        for number in range(1, options.repeat + 1):
            if options.repeat > 1:
                say(f"run {number} of {options.repeat}, on a fresh copy of the seeded store")
            run_url = store.fresh()
            results = measure(options, workdir, tenants, run_url, seeded)
            results["run"] = number
            heading = f"run {number} of {options.repeat}\n" if options.repeat > 1 else ""
            print(("\n" if runs else "") + heading + report.table(results), flush=True)
            runs.append(results)
        return runs
    finally:
        store.close()


def measure(options, workdir, tenants, run_url, seeded):

    port = free_port()
    targets = os.path.join(workdir, "targets.lua")
    write(targets, generate.targets_lua(tenants))
    config = os.path.join(workdir, "run.yaml")
    write(config, generate.config_yaml(tenants, port, run_url))
    # The reloads replace run.yaml; the served tenants stay here to shrink back to.
    served = os.path.join(workdir, "served.yaml")
    shutil.copyfile(config, served)

    extra = [generate.Tenant(index, 0) for index in range(options.tenants + 1, options.reload_tenants + 1)]
    grown = tenants + extra
    variants = []
    for index, changed in enumerate([None, extra[-1].id]):
        path = os.path.join(workdir, f"reload-{index}.yaml")
        write(path, generate.config_yaml(grown, port, run_url, changed=changed))
        variants.append(path)
    variants.append(variants[0])
    check_config = os.path.join(workdir, "check.yaml")
    write(check_config, generate.config_yaml(generate.plan(options.check_tenants, 0), port, run_url))

    server = Server(options.binary, config, workdir, os.path.join(workdir, "server.log"), port)
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": report.machine(),
        "revision": report.revision(REPOSITORY, options.binary),
        "parameters": {
            "tenants": options.tenants,
            "firstpromoter_tenants": options.fp_tenants,
            "vantio_tenants": options.vantio_tenants,
            "records": options.records,
            "hot_tenant": tenants[0].id,
            "hot_records": options.hot_records,
            "store": options.store,
            "connections": options.connections,
            "wrk_threads": options.threads,
            "duration_s": options.duration,
            "warmup_s": options.warmup,
            "reload_tenants": options.reload_tenants,
            "check_tenants": options.check_tenants,
            "swift_runtime": report.linkage(options.binary),
        },
        "seed": {
            "records": generate.seeded_records(tenants),
            "seconds": seeded["seconds"] if seeded else None,
            "rss_mb_with_fixtures": seeded["rss_mb_with_fixtures"] if seeded else None,
        },
        "scenarios": {},
    }
    results["machine_busy_before"] = busy_fraction()
    results["machine"]["cpu_calibration_ms"] = cpu_calibration_ms()
    if results["machine_busy_before"] > 0.1:
        say(f"warning: the CPUs were {results['machine_busy_before']:.0%} busy before the server started; other "
            "processes compete with it, so req/s and latency will be worse (CPU us/req less so)")
    try:
        say(f"starting {options.binary} serve on {server.url}")
        results["startup_s"] = server.start(timeout=600)
        results["rss_mb_at_start"] = server.memory_kib()["VmRSS"] * 1024 / 1e6
        # fp_hot_update right after fp_update: the two are compared, so they run on the closest
        # stretch of this shared machine.
        for name in ("healthz", "fp_update", "fp_hot_update", "vantio_update", "vantio_list"):
            results["scenarios"][name] = scenarios.measure(server, name, options, targets, say)
        reload = scenarios.reloads_under_load(
            server, options.binary, workdir, config, variants, options, targets, say
        )
        results["scenarios"]["fp_update_during_reloads"] = reload.pop("load")
        results["reload"] = reload
        results["reload_idle"] = scenarios.reloads_idle(options.binary, workdir, config, served, variants, say)
        memory = server.memory_kib()
        results["memory"] = {
            "rss_mb": memory["VmRSS"] * 1024 / 1e6,
            "peak_mb": memory["VmHWM"] * 1024 / 1e6,
            "anonymous_mb": memory["RssAnon"] * 1024 / 1e6,
            "file_mb": memory["RssFile"] * 1024 / 1e6,
        }
        server.stop()
    finally:
        server.kill()
    results["check"] = scenarios.time_check(options.binary, workdir, check_config, say)
    report.judge(results)
    return results


OVERHEAD_SETTINGS = {
    "off": ["--access-log", "off", "--metrics", "off"],
    "on": [],
}


def measure_overhead(options, workdir, tenants, store):
    """What the access log and the metrics cost: the same scenarios on servers started with both
    off and with serve's defaults (both on), in turns, so that drifts of this shared machine
    touch both settings alike. The access log goes to a file, as it would under systemd."""
    targets = os.path.join(workdir, "targets.lua")
    write(targets, generate.targets_lua(tenants))
    rounds = []
    for number in range(1, max(2, options.repeat) + 1):
        measured = {}
        for setting, arguments in OVERHEAD_SETTINGS.items():
            run_url = store.fresh()
            port = free_port()
            config = os.path.join(workdir, "overhead.yaml")
            write(config, generate.config_yaml(tenants, port, run_url))
            log = os.path.join(workdir, f"overhead-{setting}.log")
            server = Server(options.binary, config, workdir, log, port, arguments)
            try:
                say(f"overhead round {number}: access log and metrics {setting}")
                server.start(timeout=600)
                measured[setting] = {
                    name: scenarios.measure(server, name, options, targets, say) for name in ("healthz", "fp_update")
                }
                server.stop()
            finally:
                server.kill()
        rounds.append(measured)
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": report.machine(),
        "revision": report.revision(REPOSITORY, options.binary),
        "overhead_rounds": rounds,
    }


def measure_webhooks(options, workdir, tenants, store):
    """What delivering webhooks costs the write path, and how fast deliveries arrive: the status
    PUT scenarios on a server without webhooks and on one where every tenant sends every event to
    one receiver on loopback, in turns, each on a fresh copy of the seeded store. Every delivery
    must arrive (state delivered, first try); latency is the store's own record of each one,
    from the commit (created_at) to the receiver's answer (delivered_at)."""
    targets = os.path.join(workdir, "targets.lua")
    write(targets, generate.targets_lua(tenants))
    write(os.path.join(workdir, "bench.whsec"), "whsec_" + base64.b64encode(os.urandom(32)).decode() + "\n")
    receiver = subprocess.Popen(
        [sys.executable, "-B", os.path.join(BENCH_DIR, "receiver.py")], stdout=subprocess.PIPE, text=True
    )
    try:
        receiver_url = f"http://127.0.0.1:{receiver.stdout.readline().strip()}/hooks"
        rounds = []
        for number in range(1, max(2, options.repeat) + 1):
            measured = {}
            for setting in ("off", "on"):
                run_url = store.fresh()
                port = free_port()
                config = os.path.join(workdir, "webhooks.yaml")
                write(config, generate.config_yaml(tenants, port, run_url, webhook_url=receiver_url if setting == "on" else None))
                log = os.path.join(workdir, f"webhooks-{setting}.log")
                server = Server(options.binary, config, workdir, log, port)
                try:
                    say(f"webhooks round {number}: {setting}")
                    server.start(timeout=600)
                    measured[setting] = {
                        name: scenarios.measure(server, name, options, targets, say) for name in ("fp_update", "vantio_update")
                    }
                    if setting == "on":
                        database = os.path.join(workdir, run_url[len("sqlite:"):])
                        measured["deliveries"] = scenarios.delivery_latencies(database, say)
                    server.stop()
                finally:
                    server.kill()
            rounds.append(measured)
    finally:
        receiver.terminate()
        receiver.wait()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": report.machine(),
        "revision": report.revision(REPOSITORY, options.binary),
        "webhook_rounds": rounds,
    }


def make_workdir(options):
    if options.workdir:
        workdir = os.path.abspath(options.workdir)
        os.makedirs(workdir, exist_ok=True)
        return workdir
    workdir = tempfile.mkdtemp(prefix="affhost-bench-")
    if options.store == "postgres" and not options.postgres_url and os.geteuid() == 0:
        # mkdtemp makes the folder 0700, and as root the throwaway cluster runs as user postgres
        # (PostgreSQL refuses root), which must pass through it to the cluster's folder inside.
        # Search permission only: postgres reaches its own folder but cannot list the rest.
        os.chmod(workdir, 0o711)
    return workdir


def main():
    options = parse_arguments()
    workdir = make_workdir(options)
    try:
        runs = run(options, workdir)
    except BenchFailure as failure:
        print("\n" + "!" * 78, file=sys.stderr)
        print(f"BENCH FAILED: {failure}", file=sys.stderr)
        print(f"work directory kept for inspection: {workdir}", file=sys.stderr)
        print("!" * 78, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\ninterrupted; work directory: {workdir}", file=sys.stderr)
        return 130
    if options.overhead or options.webhooks:
        os.makedirs(options.results, exist_ok=True)
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
        kind = "overhead" if options.overhead else "webhooks"
        path = os.path.join(options.results, f"{stamp}-{kind}.json")
        write(path, json.dumps(runs[0], indent=2) + "\n")
        print(f"\nwritten: {os.path.relpath(path)}")
        if not options.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        return 0
    worst = report.worst(runs)
    if len(runs) > 1:
        print("\n" + report.worst_table(worst, len(runs)))
    os.makedirs(options.results, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    path = os.path.join(options.results, f"{stamp}.json")
    write(path, json.dumps({"repeat": len(runs), "runs": runs, "worst": worst}, indent=2) + "\n")
    print(f"\nwritten: {os.path.relpath(path)}")
    if not options.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    if options.strict and any(not t["met"] for results in runs for t in results["targets"]):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
