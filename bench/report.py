"""A run's table and its JSON, judged against the targets of issues 5 and 14, and the worst
latencies over several runs."""

import os
import platform
import subprocess

# Targets (issue 5). Latencies in ms, ratios to the /healthz baseline of the same run.
WRITE_RATIO = 0.6
WRITE_P99_MS = 5.0
LIST_P99_MS = 20.0
RELOAD_MS = 50.0
CHECK_S = 1.0
RSS_MB = 150.0
# Issue 14: the hot promoter's update may cost at most this much server CPU per request,
# relative to fp_update's ordinary promoters in the same run.
HOT_CPU_RATIO = 1.2

HTTP_ROWS = [
    ("healthz", "GET /healthz (baseline)"),
    ("fp_update", "FP PUT payouts/update"),
    ("fp_hot_update", "FP PUT payouts/update, hot"),
    ("vantio_update", "Vantio PUT earnings/{id}"),
    ("vantio_list", "Vantio GET earnings?limit=50"),
    ("fp_update_during_reloads", "FP PUT during reloads"),
]


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as meminfo:
        total_kib = int(meminfo.readline().split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(total_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
    }


def linkage(binary):
    """"static" when the Swift runtime is linked into the executable (`--static-swift-stdlib`),
    which is how it is deployed; "dynamic" otherwise. Admin verbs start a process each, and the
    dynamic loader's work is a visible part of `affhost reload`'s time."""
    completed = subprocess.run(["ldd", binary], capture_output=True, text=True)
    return "dynamic" if "libswiftCore" in completed.stdout else "static"


def revision(repository, binary):
    """The checkout's commit, when `binary` is that checkout's release build; a binary from
    elsewhere (`--binary`, to compare builds) is named by its path, since nothing says which
    commit it was built from."""
    def git(*arguments):
        completed = subprocess.run(["git", "-C", repository, *arguments], capture_output=True, text=True)
        return completed.stdout.strip() if completed.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "Sources", "Package.swift")
    checkout = commit + ("+local changes" if dirty else "")
    build = os.path.realpath(os.path.join(repository, ".build", "release"))
    if os.path.dirname(os.path.realpath(binary)) != build:
        return f"{binary} (checkout {checkout})"
    return checkout


def judge(results):
    """Adds each target with its verdict to `results["targets"]`."""
    scenarios = results["scenarios"]
    base = scenarios["healthz"]
    for name in scenarios:
        scenario = scenarios[name]
        scenario["ratio_requests_per_s"] = scenario["requests_per_s"] / base["requests_per_s"]
        scenario["ratio_p50"] = scenario["p50_ms"] / base["p50_ms"] if base["p50_ms"] else None
        scenario["ratio_p99"] = scenario["p99_ms"] / base["p99_ms"] if base["p99_ms"] else None
    hot = scenarios["fp_hot_update"]
    hot["cpu_ratio_to_fp_update"] = (hot["server_cpu_us_per_request"]
                                     / scenarios["fp_update"]["server_cpu_us_per_request"])

    targets = []

    def target(subject, text, met, measured):
        targets.append({"subject": subject, "target": text, "met": bool(met), "measured": measured})

    for name in ("fp_update", "vantio_update"):
        s = scenarios[name]
        target(name, f">= {WRITE_RATIO}x baseline req/s", s["ratio_requests_per_s"] >= WRITE_RATIO,
               f"{s['ratio_requests_per_s']:.2f}x")
        target(name, f"p99 <= {WRITE_P99_MS:g} ms", s["p99_ms"] <= WRITE_P99_MS, f"{s['p99_ms']:.2f} ms")
    target("fp_hot_update", f"CPU us/req <= {HOT_CPU_RATIO:g}x fp_update",
           hot["cpu_ratio_to_fp_update"] <= HOT_CPU_RATIO, f"{hot['cpu_ratio_to_fp_update']:.2f}x")
    s = scenarios["vantio_list"]
    target("vantio_list", f"p99 <= {LIST_P99_MS:g} ms", s["p99_ms"] <= LIST_P99_MS, f"{s['p99_ms']:.2f} ms")
    reload = results["reload"]
    for key, label in (("first", "reload_first"), ("steady", "reload_steady")):
        measured = reload[key]["command_ms"] if key == "first" else reload[key]["command_ms_median"]
        target(label, f"affhost reload <= {RELOAD_MS:g} ms", measured <= RELOAD_MS, f"{measured:.1f} ms")
    check = results["check"]
    target("check", f"<= {CHECK_S:g} s", check["mean_s"] <= CHECK_S, f"{check['mean_s']:.3f} s")
    rss = results["memory"]["rss_mb"]
    target("rss", f"<= {RSS_MB:g} MB", rss <= RSS_MB, f"{rss:.1f} MB")
    results["targets"] = targets


def verdict(results, subject):
    mine = [t for t in results["targets"] if t["subject"] == subject]
    if not mine:
        return "", ""
    text = "; ".join(t["target"] for t in mine)
    return text, ("ok" if all(t["met"] for t in mine) else "MISS")


def table(results):
    p = results["parameters"]
    lines = [
        f"affhost bench: {p['tenants']} tenants ({p['firstpromoter_tenants']} firstpromoter-v1, "
        f"{p['vantio_tenants']} vantio-v1), {p['records']} payouts + {p['records']} earnings, {p['store']}, "
        f"{p['connections']} connections, {p['duration_s']} s after {p['warmup_s']} s warm-up",
        f"hot promoter (fp_hot_update): one in {p['hot_tenant']} with {p['hot_records']} payouts + "
        f"{p['hot_records']} rewards; its CPU us/req is also shown as a multiple of fp_update's",
        f"machine: {results['machine']['nproc']} x {results['machine']['cpu']}, "
        f"{results['machine']['memory_gib']} GiB, SHA-256 of 200 MB in {results['machine']['cpu_calibration_ms']:.0f} ms "
        f"CPU (lower is faster; compare runs only next to it); affhost {results['revision']}, "
        f"Swift runtime linked {results['parameters'].get('swift_runtime', 'dynamic')}",
        "",
    ]
    header = (f"{'scenario':<31}{'req/s (x base)':>17}{'p50 ms (x base)':>17}{'p99 ms (x base)':>17}"
              f"{'p99.9 ms':>10}{'max ms':>9}{'non-2xx':>9}{'CPU us/req (x FP)':>19}  {'target':<34}")
    lines += [header, "-" * len(header)]

    def cell(value, ratio, digits):
        ratio_text = f"x{ratio:.2f}" if ratio is not None else ""
        return f"{value:.{digits}f} {ratio_text:>6}"

    for name, label in HTTP_ROWS:
        s = results["scenarios"][name]
        text, ok = verdict(results, name)
        lines.append(
            f"{label:<31}{cell(s['requests_per_s'], s['ratio_requests_per_s'], 0):>17}"
            f"{cell(s['p50_ms'], s['ratio_p50'], 2):>17}{cell(s['p99_ms'], s['ratio_p99'], 2):>17}"
            f"{s['p999_ms']:>10.2f}{s['max_ms']:>9.1f}{s['non2xx']:>9}"
            f"{cell(s['server_cpu_us_per_request'], s.get('cpu_ratio_to_fp_update'), 0):>19}"
            f"  {text:<34} {ok}".rstrip()
        )
    lines.append("-" * len(header))
    reload = results["reload"]
    first, steady = reload["first"], reload["steady"]
    idle = results["reload_idle"]

    def medians(summary):
        return (f"command {summary['command_ms_median']:.1f} ms (max {summary['command_ms_max']:.1f}), "
                f"server {summary['server_ms_median']:.1f} ms; median of {summary['count']}")

    others = [
        (f"reload {p['tenants']} -> {p['reload_tenants']} tenants",
         f"command {first['command_ms']:.1f} ms, server {first['server_ms']:.1f} ms", "reload_first"),
        ("  same, no load", medians(idle["first"]), ""),
        (f"reload {p['reload_tenants']} tenants, 1 changed", medians(steady), "reload_steady"),
        ("  same, no load", medians(idle["steady"]), ""),
        (f"check {p['check_tenants']} tenants",
         f"{results['check']['mean_s']:.3f} s mean ({results['check']['tool']}, {results['check']['runs']} runs)",
         "check"),
        ("server RSS at the end",
         f"{results['memory']['rss_mb']:.1f} MB (heap {results['memory']['anonymous_mb']:.1f}, "
         f"mapped files {results['memory']['file_mb']:.1f}; peak {results['memory']['peak_mb']:.1f})", "rss"),
    ]
    for label, text, subject in others:
        target_text, ok = verdict(results, subject)
        lines.append(f"{label:<31}{text:<72}  {target_text:<34} {ok}".rstrip())
    seed = results["seed"]
    lines.append("")
    lines.append(
        f"seed: {seed['records']} records through fixtures"
        + (f" in {seed['seconds']:.1f} s" if seed["seconds"] is not None else " (reused from the work directory)")
    )
    missed = [t for t in results["targets"] if not t["met"]]
    lines.append(
        "targets: all met" if not missed
        else "targets missed: " + "; ".join(f"{t['subject']} {t['target']} (measured {t['measured']})" for t in missed)
    )
    return "\n".join(lines)


def worst(runs):
    """Per scenario, the worst p99 and the worst max latency over the runs, and which run (1-based)
    each came from: one slow stall in N runs is what --repeat is there to show."""
    summary = {}
    for name, _ in HTTP_ROWS:
        rows = [(r["scenarios"][name], r.get("run", index + 1)) for index, r in enumerate(runs)]
        p99 = max(rows, key=lambda row: row[0]["p99_ms"])
        peak = max(rows, key=lambda row: row[0]["max_ms"])
        summary[name] = {"p99_ms": p99[0]["p99_ms"], "p99_run": p99[1],
                         "max_ms": peak[0]["max_ms"], "max_run": peak[1]}
    return summary


def worst_table(summary, count):
    lines = [f"{f'worst of {count} runs':<31}{'p99 ms (run)':>16}{'max ms (run)':>16}"]
    for name, label in HTTP_ROWS:
        w = summary[name]
        p99 = f"{w['p99_ms']:.2f} ({w['p99_run']})"
        peak = f"{w['max_ms']:.1f} ({w['max_run']})"
        lines.append(f"{label:<31}{p99:>16}{peak:>16}")
    return "\n".join(lines)


def overhead_table(results):
    """Per scenario and round: server CPU per request and req/s with the access log and metrics
    off and on, and on/off; then the median ratio over the rounds (the target is fp_update's)."""
    rounds = results["overhead_rounds"]
    lines = [f"{'access log + metrics':<22}{'round':>6}{'off CPU us':>12}{'on CPU us':>11}{'on/off':>8}"
             f"{'off req/s':>11}{'on req/s':>10}"]
    medians = {}
    for name in ("healthz", "fp_update"):
        ratios = []
        for number, measured in enumerate(rounds, 1):
            off, on = measured["off"][name], measured["on"][name]
            ratio = on["server_cpu_us_per_request"] / off["server_cpu_us_per_request"]
            ratios.append(ratio)
            lines.append(f"{name:<22}{number:>6}{off['server_cpu_us_per_request']:>12.1f}"
                         f"{on['server_cpu_us_per_request']:>11.1f}{ratio:>8.3f}"
                         f"{off['requests_per_s']:>11.0f}{on['requests_per_s']:>10.0f}")
        ratios.sort()
        middle = len(ratios) // 2
        medians[name] = ratios[middle] if len(ratios) % 2 else (ratios[middle - 1] + ratios[middle]) / 2
    results["overhead_median"] = medians
    lines.append("")
    for name, ratio in medians.items():
        target = "  (target <= 1.05: " + ("met" if ratio <= 1.05 else "missed") + ")" if name == "fp_update" else ""
        lines.append(f"median CPU on/off, {name}: {ratio:.3f}{target}")
    return "\n".join(lines)


def webhooks_table(results):
    """Per round: req/s of each status PUT scenario without and with webhooks and their ratio,
    server CPU per request, and the delivery latency from commit to the receiver's 2xx; then the
    median ratio (target >= 0.85) and the worst p50 and p99 (targets <= 20 ms and <= 200 ms)."""
    rounds = results["webhook_rounds"]
    resources = {"fp_update": "payouts", "vantio_update": "earnings"}
    lines = [f"{'webhooks':<16}{'round':>6}{'off req/s':>11}{'on req/s':>10}{'on/off':>8}{'off CPU us':>12}"
             f"{'on CPU us':>11}{'deliveries':>12}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"]
    summary = {}
    for name, resource in resources.items():
        ratios, p50s, p99s = [], [], []
        for number, measured in enumerate(rounds, 1):
            off, on = measured["off"][name], measured["on"][name]
            latency = measured["deliveries"].get(resource, {"count": 0, "p50_ms": 0, "p99_ms": 0, "max_ms": 0})
            ratio = on["requests_per_s"] / off["requests_per_s"]
            ratios.append(ratio)
            p50s.append(latency["p50_ms"])
            p99s.append(latency["p99_ms"])
            lines.append(f"{name:<16}{number:>6}{off['requests_per_s']:>11.0f}{on['requests_per_s']:>10.0f}{ratio:>8.3f}"
                         f"{off['server_cpu_us_per_request']:>12.1f}{on['server_cpu_us_per_request']:>11.1f}"
                         f"{latency['count']:>12}{latency['p50_ms']:>9.1f}{latency['p99_ms']:>9.1f}{latency['max_ms']:>9.1f}")
        ratios.sort()
        middle = len(ratios) // 2
        median = ratios[middle] if len(ratios) % 2 else (ratios[middle - 1] + ratios[middle]) / 2
        summary[name] = {"median_ratio": median, "worst_p50_ms": max(p50s), "worst_p99_ms": max(p99s)}
    results["webhooks_summary"] = summary
    lines.append("")
    for name, figures in summary.items():
        lines.append(
            f"{name}: median on/off {figures['median_ratio']:.3f} (target >= 0.85: "
            f"{'met' if figures['median_ratio'] >= 0.85 else 'missed'}); delivery p50 {figures['worst_p50_ms']:.1f} ms "
            f"(<= 20: {'met' if figures['worst_p50_ms'] <= 20 else 'missed'}), p99 {figures['worst_p99_ms']:.1f} ms "
            f"(<= 200: {'met' if figures['worst_p99_ms'] <= 200 else 'missed'})"
        )
    return "\n".join(lines)
