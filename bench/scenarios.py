"""The measurements of one run: wrk scenarios, reloads under load, `affhost check`."""

import json
import os
import re
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import time

from server import BenchFailure

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
WRK_SCRIPT = os.path.join(BENCH_DIR, "wrk.lua")

# Seeded ids are split into lanes so that no wrk run touches a record another run changed
# (see wrk.lua): 0 warm-up, 1 measurement, 2 the run during reloads.
LANES = 3
WARMUP_LANE, MEASURE_LANE, RELOAD_LANE = 0, 1, 2


def wrk_command(url, scenario, lane, seconds, options, targets):
    return [
        "wrk", f"-t{options.threads}", f"-c{options.connections}", f"-d{seconds}s", "--timeout", "10s",
        "-s", WRK_SCRIPT, url, "--", scenario, targets, str(lane), str(LANES), str(options.threads),
    ]


def read_report(scenario, completed):
    """The BENCH_JSON line of a finished wrk run; any non-2xx answer or socket error fails."""
    if completed.returncode != 0:
        raise BenchFailure(f"wrk ({scenario}) exited with status {completed.returncode}:\n{completed.stderr.strip()}")
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            report = json.loads(line[len("BENCH_JSON "):])
            break
    else:
        raise BenchFailure(f"wrk ({scenario}) printed no report:\n{completed.stdout}\n{completed.stderr}")
    # response() counts every answer outside 2xx; wrk's own count (>= 400) also covers an answer
    # it was not called for. Either one fails the run.
    not_2xx = max(report["non2xx"], report["status_errors"])
    if not_2xx > 0:
        raise BenchFailure(
            f"{scenario}: {not_2xx} of {report['requests']} responses were not 2xx; "
            f"first one: {report['first_error'] or '(not seen by the Lua response() hook)'}"
        )
    socket_errors = {name: count for name, count in report["socket_errors"].items() if count > 0}
    if socket_errors:
        raise BenchFailure(f"{scenario}: socket errors {socket_errors} in {report['requests']} requests")
    if report["requests"] == 0:
        raise BenchFailure(f"{scenario}: wrk completed no request")
    return report


def summarize(report):
    latency = report["latency_us"]
    return {
        "requests": report["requests"],
        "requests_per_s": report["requests"] / (report["duration_us"] / 1e6),
        "p50_ms": latency["p50"] / 1000,
        "p90_ms": latency["p90"] / 1000,
        "p99_ms": latency["p99"] / 1000,
        "p999_ms": latency["p999"] / 1000,
        "max_ms": latency["max"] / 1000,
        "mean_ms": latency["mean"] / 1000,
        "non2xx": report["non2xx"],
    }


def check_reuse(scenario, result, options):
    """A status PUT is a real change only while no record is in flight twice: two requests for
    one record on two connections may be applied in either order, and the later one would then
    repeat the status. A wrk thread comes back to a record only after the other records of its
    share (wrk.lua), so this holds while the slowest request lasts less than the time its thread
    takes to send a share's worth of requests to that tenant. Estimated from the run's mean rate;
    the margin goes into the results, and a run without one fails."""
    if scenario not in options.shares:
        return
    tenants, share = options.shares[scenario]
    per_tenant = result["max_ms"] / 1000 * result["requests_per_s"] / options.threads / tenants
    result["reuse_margin"] = share / per_tenant if per_tenant else None
    if per_tenant >= share:
        raise BenchFailure(
            f"{scenario}: while its slowest request ({result['max_ms']:.0f} ms) was in flight, a wrk thread sent "
            f"about {per_tenant:.0f} requests to one tenant, not fewer than the {share} records of its share: a "
            "record may have been in flight twice and one PUT a same-status no-op; seed more records "
            "(--records, --hot-records) or use fewer --connections"
        )


def run_wrk(server, scenario, lane, seconds, options, targets):
    cpu_before = server.cpu_seconds()
    completed = subprocess.run(
        wrk_command(server.url, scenario, lane, seconds, options, targets), capture_output=True, text=True
    )
    result = summarize(read_report(scenario, completed))
    result["server_cpu_us_per_request"] = (server.cpu_seconds() - cpu_before) * 1e6 / result["requests"]
    check_reuse(scenario, result, options)
    return result


def measure(server, scenario, options, targets, say):
    say(f"{scenario}: {options.warmup} s warm-up, {options.duration} s measured")
    if options.warmup > 0:
        run_wrk(server, scenario, WARMUP_LANE, options.warmup, options, targets)
    result = run_wrk(server, scenario, MEASURE_LANE, options.duration, options, targets)
    result["rss_mb_after"] = server.memory_kib()["VmRSS"] * 1024 / 1e6
    return result


APPLIED = re.compile(r"configuration applied in ([0-9.]+) ms")


def reload_once(binary, workdir, config):
    """`affhost reload`, timed from outside: (command wall ms, the server's own ms, output)."""
    started = time.monotonic()
    completed = subprocess.run(
        [binary, "reload", "--config", config], cwd=workdir, capture_output=True, text=True
    )
    wall_ms = (time.monotonic() - started) * 1000
    match = APPLIED.search(completed.stdout)
    if completed.returncode != 0 or match is None:
        raise BenchFailure(
            f"affhost reload failed (status {completed.returncode}):\n{completed.stdout}{completed.stderr}"
        )
    return wall_ms, float(match.group(1)), completed.stdout.strip()


def swap_in_and_reload(binary, workdir, config_path, source):
    """Replaces the served file with `source` in one rename, as an operator's deploy would, and
    runs `affhost reload`: {"command_ms", "server_ms", "output"}."""
    staged = config_path + ".next"
    shutil.copyfile(source, staged)
    os.replace(staged, config_path)
    wall_ms, server_ms, output = reload_once(binary, workdir, config_path)
    return {"command_ms": wall_ms, "server_ms": server_ms, "output": output}


def reload_summary(reloads):
    return {
        "count": len(reloads),
        "command_ms_median": statistics.median(r["command_ms"] for r in reloads),
        "command_ms_max": max(r["command_ms"] for r in reloads),
        "server_ms_median": statistics.median(r["server_ms"] for r in reloads),
        "server_ms_max": max(r["server_ms"] for r in reloads),
    }


def reloads_under_load(server, binary, workdir, config_path, variants, options, targets, say):
    """Runs the FirstPromoter scenario for the run's duration and, meanwhile, swaps in the
    reload files one after another (the first grows the tenant count, the next ones alternate
    between two files that differ in one tenant), one `affhost reload` per second."""
    say(f"fp_update during reloads: {options.duration} s, one reload per second")
    cpu_before = server.cpu_seconds()
    wrk = subprocess.Popen(
        wrk_command(server.url, "fp_update", RELOAD_LANE, options.duration, options, targets),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    reloads = []
    try:
        started = time.monotonic()
        time.sleep(1)
        index = 0
        while len(reloads) < 2 or time.monotonic() - started < options.duration - 1.5:
            source = variants[0] if index == 0 else variants[1 + (index - 1) % (len(variants) - 1)]
            reloads.append(swap_in_and_reload(binary, workdir, config_path, source))
            index += 1
            time.sleep(max(0.0, 1 - reloads[-1]["command_ms"] / 1000))
        stdout, stderr = wrk.communicate(timeout=options.duration + 60)
    finally:
        if wrk.poll() is None:
            wrk.kill()
            wrk.wait()
    load = summarize(read_report("fp_update during reloads", subprocess.CompletedProcess(
        wrk.args, wrk.returncode, stdout, stderr)))
    load["server_cpu_us_per_request"] = (server.cpu_seconds() - cpu_before) * 1e6 / load["requests"]
    check_reuse("fp_update", load, options)
    load["rss_mb_after"] = server.memory_kib()["VmRSS"] * 1024 / 1e6
    return {"load": load, "first": reloads[0], "steady": reload_summary(reloads[1:])}


def reloads_idle(binary, workdir, config_path, served, variants, say, rounds=5):
    """The same reloads with nothing else running, after the run under load: what a reload
    itself costs, apart from waiting for CPU on a machine that wrk and the server keep busy.
    Each round shrinks back to the `served` file (not timed), grows again and changes one
    tenant twice."""
    say(f"reloads without load: {rounds} rounds")
    grown, steady = [], []

    def apply(source):
        result = swap_in_and_reload(binary, workdir, config_path, source)
        time.sleep(0.2)
        return result

    for _ in range(rounds):
        apply(served)
        grown.append(apply(variants[0]))
        steady.append(apply(variants[1]))
        steady.append(apply(variants[0]))
    return {"first": reload_summary(grown), "steady": reload_summary(steady)}


def time_check(binary, workdir, config, say, runs=10):
    """`affhost check` of a large file: hyperfine when installed, else a timed loop."""
    command = [binary, "check", config]
    probe = subprocess.run(command, cwd=workdir, capture_output=True, text=True)
    if probe.returncode != 0:
        raise BenchFailure(f"affhost check refused the generated file:\n{probe.stdout}{probe.stderr[-2000:]}")
    if shutil.which("hyperfine"):
        say(f"check: hyperfine, {runs} runs")
        export = os.path.join(workdir, "check-hyperfine.json")
        completed = subprocess.run(
            ["hyperfine", "-N", "--warmup", "1", "--runs", str(runs), "--export-json", export,
             shlex.join(command)],
            cwd=workdir, capture_output=True, text=True,
        )
        if completed.returncode != 0:
            raise BenchFailure(f"hyperfine failed:\n{completed.stdout}{completed.stderr}")
        with open(export) as exported:
            times = json.load(exported)["results"][0]["times"]
        tool = "hyperfine"
    else:
        say(f"check: timed loop, {runs} runs (hyperfine not installed)")
        times = []
        for _ in range(runs + 1):
            started = time.monotonic()
            subprocess.run(command, cwd=workdir, capture_output=True, check=True)
            times.append(time.monotonic() - started)
        times = times[1:]
        tool = "timed loop"
    return {
        "tool": tool,
        "runs": len(times),
        "mean_s": statistics.mean(times),
        "min_s": min(times),
        "max_s": max(times),
        "summary": probe.stdout.strip(),
    }


def delivery_latencies(database, say, patience=120):
    """Waits until the server's webhook queue is empty, then reads every delivery's latency from
    commit to the receiver's 2xx, per resource: {resource: {count, p50_ms, p99_ms, max_ms,
    retried}}. A delivery that is not delivered fails the run: the receiver answers 204 to all."""
    deadline = time.monotonic() + patience
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:
        while True:
            queued = db.execute("SELECT count(*) FROM webhook_delivery WHERE state IN ('pending', 'retrying')").fetchone()[0]
            if queued == 0:
                break
            if time.monotonic() > deadline:
                raise BenchFailure(f"webhooks: {queued} deliveries still queued {patience} s after the load")
            time.sleep(0.2)
        other = db.execute("SELECT count(*) FROM webhook_delivery WHERE state != 'delivered'").fetchone()[0]
        if other:
            raise BenchFailure(f"webhooks: {other} deliveries ended other than delivered")
        rows = db.execute(
            "SELECT e.resource, d.delivered_at - d.created_at, d.attempts FROM webhook_delivery d "
            "JOIN webhook_event e ON e.seq = d.event_seq"
        ).fetchall()
    by_resource = {}
    for resource, latency, attempts in rows:
        entry = by_resource.setdefault(resource, {"latencies": [], "retried": 0})
        entry["latencies"].append(latency / 1000)
        entry["retried"] += attempts > 1
    summary = {}
    for resource, entry in by_resource.items():
        latencies = sorted(entry["latencies"])
        def percentile(p):
            return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]
        summary[resource] = {
            "count": len(latencies), "p50_ms": percentile(50), "p99_ms": percentile(99), "max_ms": latencies[-1],
            "retried": entry["retried"],
        }
    say(f"webhooks: {sum(s['count'] for s in summary.values())} deliveries, all delivered")
    return summary
