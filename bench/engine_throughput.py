"""The dialing engine flat out, at a steady trickle, and idle over a million pending destinations;
on SQLite and on PostgreSQL, one engine process.

1. throughput: N destinations (one attempt each), zero-duration simulated calls, ``--speed max``
   (a VirtualTimer), ``Engine.run_until_done()``: attempts recorded per second of wall time, the
   engine process's CPU time, and its RSS before the run and at peak;
2. latency: real time, the engine running in the background while AddCall adds destinations at
   a steady rate below capacity, from a thread of the engine's process (`dialer serve` hosts
   both) and then from another process (an API server beside `dialer worker`): due-to-originate
   p50/p99 (AttemptStarted events' ``wait``: originate instant - max(due time, time added));
3. pending: a campaign of 1,000,000 pending destinations; the engine's RSS while it idles
   (window not yet open, real time), then while it dials them flat out for a few seconds.

Every engine run and every fill is its own process, so RSS peaks (VmHWM) never mix. Filling a
store is timed apart and not counted: the campaign is made through CampaignService (REST) with
its first number, the rest go in through the store's own ``add_numbers`` (the path the REST and
Dialer APIs write through), pre-normalised, so a million rows need no number parsing.

    .venv/bin/python bench/engine_throughput.py [--numbers 100000] [--backend both]
        [--pending 1000000] [--rate 200] [--seconds 10] [--quick]
"""

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dialer.bootstrap import build, build_engine, make_timer
from dialer.clocks import ManualClock, RealTimer
from dialer.domain.campaign import PhoneNumber
from dialer.domain.events import AttemptStarted, Event
from dialer.services.dialer_input import Params
from dialer.settings import EngineSettings, NetworkSettings, Settings
from dialer.testing.postgres import PostgresServer

TIMEZONE = "Europe/London"
FLOW = "message: 'Hello {Name}, about {Parameter1}.'\nsms: 'Hi {Name}'\n"
CHUNK = 100_000  # destinations per fill transaction
TARGET_ATTEMPTS_PER_S = 2_000
TARGET_P99_MS = 100
TARGET_PENDING_RSS_MB = 300


# helpers shared by the phases


class _WaitsOf:
    """Due-to-originate waits of started calls, in seconds of the engine's clock."""

    def __init__(self, waits: list[float]) -> None:
        self._waits = waits

    def publish(self, event: Event) -> None:
        if isinstance(event, AttemptStarted):
            self._waits.append(event.wait)


def status_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def noon(day: date) -> datetime:
    return datetime.combine(day, clock_time(12), ZoneInfo(TIMEZONE)).astimezone(UTC)


def engine_settings(args: dict[str, Any]) -> EngineSettings:
    """High limits, so the machine, not the pacing, is what holds the engine back."""
    return replace(
        EngineSettings(),
        max_in_flight=args["max_in_flight"],
        max_calls_per_second=1e6,
        campaign_max_in_flight=args["max_in_flight"],
        campaign_calls_per_second=1e6,
        claim_batch=args["claim_batch"],
        poll_seconds=args.get("poll_seconds", EngineSettings().poll_seconds),
    )


def zero_profile(folder: str) -> Path:
    path = Path(folder, "zero.yaml")
    path.write_text("zero_durations: true\n")
    return path


def campaign_body(first_day: date, flow_id: int, cli_id: int, numbers: list[str]) -> dict[str, Any]:
    """00:00-23:59 on ``first_day`` and the day after, one attempt per destination."""
    return {
        "name": "Engine bench",
        "startDate": first_day.isoformat(),
        "startTime": "00:00",
        "finishTime": "23:59",
        "runoverDays": [
            {
                "date": (first_day + timedelta(days=1)).isoformat(),
                "startTime": "00:00",
                "finishTime": "23:59",
            }
        ],
        "callflow_Id": flow_id,
        "cli_Id": cli_id,
        "phoneNumbers": [
            {"number": n, "name": "Customer", "parameters": [{"parameter": 1, "value": "x"}]}
            for n in numbers
        ],
    }


def national(i: int) -> str:
    """UK mobile-looking numbers, clear of Ofcom's drama range the network scripts."""
    return f"075{i:08d}"


# phases, each run in a process of its own


def phase_fill(args: dict[str, Any]) -> dict[str, Any]:
    """A tenant (calling hours 00:00-23:59), a call flow, a CLI and a campaign of N."""
    first_day = date.fromisoformat(args["first_day"])
    clock = ManualClock(datetime.fromisoformat(args["clock"]))
    container = build(Settings(database_url=args["url"]), clock=clock)
    try:
        tenant, _ = container.tenants.create("Bench", "GB", TIMEZONE, "00:00-23:59")
        flow = container.catalog.add_callflow(tenant, "bench", FLOW)
        cli = container.catalog.add_cli(tenant, "+441632960000")
        started = time.perf_counter()
        body = campaign_body(first_day, flow.id, cli.id, [national(0)])
        detail = container.campaigns.create(tenant, body)
        campaign = detail.campaign
        assert detail.numbers[0].number.e164 == "+44" + national(0)[1:], detail.numbers[0]
        count = args["numbers"]
        for low in range(1, count, CHUNK):
            rows = (
                PhoneNumber(national(i), "+44" + national(i)[1:], "Customer", ((1, "x"),))
                for i in range(low, min(low + CHUNK, count))
            )
            with container.store.write() as session:
                session.destinations.add_numbers(campaign.id, rows, clock.now())
        if args["url"].startswith("postgres"):
            with container.store.write() as session:
                session._conn.execute("ANALYZE")
        return {"fill_s": time.perf_counter() - started, "campaign": campaign.id}
    finally:
        container.close()


def phase_throughput(args: dict[str, Any]) -> dict[str, Any]:
    """``dialer simulate --speed max`` over the filled store, timed."""
    with tempfile.TemporaryDirectory(prefix="dialer-bench-") as scratch:
        network = NetworkSettings(speed=None, profile=zero_profile(scratch))
        timer = make_timer(network, datetime.fromisoformat(args["start"]))
        container = build(Settings(database_url=args["url"]), clock=timer)
        try:
            runtime = build_engine(container, network, engine_settings(args), timer)
            engine = runtime.engine
            rss_before = status_mb("VmRSS")
            cpu_before = cpu_seconds()
            started = time.perf_counter()
            asyncio.run(engine.run_until_done())
            wall = time.perf_counter() - started
            cpu = cpu_seconds() - cpu_before
            stats = engine.stats
            return {
                "wall_s": wall,
                "cpu_s": cpu,
                "recorded": stats.recorded,
                "originated": stats.originated,
                "done": stats.done,
                "postponed": stats.postponed,
                "rss_before_mb": rss_before,
                "peak_rss_mb": status_mb("VmHWM"),
            }
        finally:
            container.close()


def feed(container: Any, code: str, rate: float, seconds: float) -> dict[str, Any]:
    """AddCall (through the service, as the Dialer API does) ``rate`` times a second."""
    total = int(rate * seconds)
    begun = time.perf_counter()
    for k in range(total):
        delay = begun + k / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        container.dialer.add_call(Params({"Campaign": code, "Target": national(9_000_001 + k)}))
    return {"added": total, "feed_s": time.perf_counter() - begun}


def phase_feed(args: dict[str, Any]) -> dict[str, Any]:
    """The feeder as a process of its own: an API server beside a `dialer worker`."""
    container = build(Settings(database_url=args["url"]), clock=RealTimer(1.0))
    try:
        return feed(container, args["code"], args["rate"], args["seconds"])
    finally:
        container.close()


def phase_latency(args: dict[str, Any]) -> dict[str, Any]:
    """Real time; AddCall at ``rate`` per second while the engine runs in the background, from
    a thread of the engine's process (``feeder`` thread) or from another process."""
    timer = RealTimer(1.0)
    with tempfile.TemporaryDirectory(prefix="dialer-bench-") as scratch:
        network = NetworkSettings(speed=1.0, profile=zero_profile(scratch))
        container = build(Settings(database_url=args["url"]), clock=timer)
        try:
            tenant, _ = container.tenants.create("Latency", "GB", TIMEZONE, "00:00-23:59")
            flow = container.catalog.add_callflow(tenant, "bench", FLOW)
            cli = container.catalog.add_cli(tenant, "+441632960000")
            today = timer.now().astimezone(ZoneInfo(TIMEZONE)).date()
            body = campaign_body(today, flow.id, cli.id, [national(9_000_000)])
            code = container.campaigns.create(tenant, body).campaign.code
            runtime = build_engine(container, network, engine_settings(args), timer)
            engine = runtime.engine
            # The waits come from the engine's events; the benchmark subscribes, production
            # objects keep no lists.
            waits: list[float] = []
            engine.events.subscribe(_WaitsOf(waits))
            fed: dict[str, Any] = {}
            feed_args = {"url": args["url"], "code": code, "rate": args["rate"]}
            feed_args["seconds"] = args["seconds"]

            async def main() -> None:
                async with runtime.running():
                    await asyncio.sleep(1.0)  # the campaign's first number, and warm-up
                    if args["feeder"] == "thread":
                        waits.clear()
                        fed.update(
                            await asyncio.to_thread(
                                feed, container, code, args["rate"], args["seconds"]
                            )
                        )
                    else:
                        process = await asyncio.create_subprocess_exec(
                            sys.executable,
                            __file__,
                            "--phase",
                            "feed",
                            json.dumps(feed_args),
                            stdout=asyncio.subprocess.PIPE,
                        )
                        waits.clear()  # the first number was dialled long ago
                        out, _ = await process.communicate()
                        assert process.returncode == 0, "the feeder failed"
                        fed.update(json.loads(out.decode().strip().splitlines()[-1]))
                    deadline = time.monotonic() + 10
                    while len(waits) < fed["added"] and time.monotonic() < deadline:
                        await asyncio.sleep(0.05)
                    await asyncio.sleep(0.5)  # let the last results be recorded

            asyncio.run(main())
            waits_ms = sorted(w * 1000 for w in waits)
            return {
                **fed,
                "dialled": len(waits_ms),
                "p50_ms": statistics.median(waits_ms) if waits_ms else float("nan"),
                "p99_ms": quantile(waits_ms, 0.99),
                "max_ms": waits_ms[-1] if waits_ms else float("nan"),
                "peak_rss_mb": status_mb("VmHWM"),
            }
        finally:
            container.close()


def quantile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def phase_pending(args: dict[str, Any]) -> dict[str, Any]:
    """The engine over a store of ``pending`` destinations for ``seconds`` of wall time.

    ``mode`` idle: real time before the campaign's window opens (the engine reads its contexts
    and sleeps, every poll); busy: virtual time inside the window, dialling flat out.
    """
    with tempfile.TemporaryDirectory(prefix="dialer-bench-") as scratch:
        idle = args["mode"] == "idle"
        network = NetworkSettings(speed=1.0 if idle else None, profile=zero_profile(scratch))
        timer = (
            RealTimer(1.0) if idle else make_timer(network, datetime.fromisoformat(args["start"]))
        )
        container = build(Settings(database_url=args["url"]), clock=timer)
        try:
            settings = EngineSettings() if idle else engine_settings(args)
            runtime = build_engine(container, network, settings, timer)
            engine = runtime.engine
            rss_before = status_mb("VmRSS")
            wall = 0.0

            async def main() -> None:
                nonlocal wall
                stop = asyncio.Event()
                started = time.perf_counter()
                task = asyncio.create_task(engine.run(stop))
                await asyncio.sleep(args["seconds"])
                stop.set()
                await task
                wall = time.perf_counter() - started

            asyncio.run(main())
            return {
                "rss_before_mb": rss_before,
                "rss_after_mb": status_mb("VmRSS"),
                "peak_rss_mb": status_mb("VmHWM"),
                "claimed": engine.stats.claimed,
                "recorded": engine.stats.recorded,
                "wall_s": wall,
            }
        finally:
            container.close()


PHASES = {
    "fill": phase_fill,
    "throughput": phase_throughput,
    "latency": phase_latency,
    "feed": phase_feed,
    "pending": phase_pending,
}


def run_phase(name: str, **args: Any) -> dict[str, Any]:
    """Run one phase in a fresh interpreter; it answers with one JSON line on stdout."""
    out = subprocess.run(
        [sys.executable, __file__, "--phase", name, json.dumps(args)],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


# the driver


def bench_backend(backend: str, url_for: Any, opts: argparse.Namespace) -> dict[str, Any]:
    limits = {"max_in_flight": opts.max_in_flight, "claim_batch": opts.claim_batch}
    today = datetime.now(UTC).date()
    summary: dict[str, Any] = {}

    # 1. throughput: the campaign's window is open at the virtual start (noon, tomorrow)
    url = url_for("throughput")
    day = today + timedelta(days=1)
    fill = run_phase(
        "fill",
        url=url,
        numbers=opts.numbers,
        first_day=day.isoformat(),
        clock=noon(day).isoformat(),
    )
    print(
        f"{backend:9s} fill       {opts.numbers} destinations in {fill['fill_s']:.1f} s"
        " (not counted)",
        flush=True,
    )
    tput = run_phase("throughput", url=url, start=noon(day).isoformat(), **limits)
    rate = tput["recorded"] / tput["wall_s"]
    summary["attempts_per_s"] = rate
    print(
        f"{backend:9s} throughput {tput['recorded']} attempts in {tput['wall_s']:.1f} s"
        f" = {rate:6.0f} attempts/s | engine CPU {tput['cpu_s']:.1f} s"
        f" ({100 * tput['cpu_s'] / tput['wall_s']:.0f}% of a core)"
        f" | RSS {tput['rss_before_mb']:.0f} MB before the run, peak {tput['peak_rss_mb']:.0f} MB"
        f" | max_in_flight {opts.max_in_flight}, claim_batch {opts.claim_batch}",
        flush=True,
    )
    if tput["recorded"] != opts.numbers or tput["originated"] != opts.numbers or tput["postponed"]:
        print(f"{backend:9s} WARNING: unexpected counts {tput}", flush=True)

    # 2. latency below capacity, real time, on the store phase 1 left
    feeders = {
        "thread": "AddCall in the engine's process",
        "process": "AddCall from another process",
    }
    for feeder, where in feeders.items():
        for poll in opts.polls if opts.seconds > 0 else []:
            lat = run_phase(
                "latency",
                url=url,
                rate=opts.rate,
                seconds=opts.seconds,
                poll_seconds=poll,
                feeder=feeder,
                **limits,
            )
            summary.setdefault(f"p99_{feeder}_ms", lat["p99_ms"])
            fed = lat["added"] / lat["feed_s"]
            print(
                f"{backend:9s} latency    {where}, {lat['added']} at {fed:.0f}/s"
                f" for {lat['feed_s']:.1f} s, poll_seconds {poll:g}: {lat['dialled']} dialled,"
                f" due-to-originate p50 {lat['p50_ms']:.0f} ms, p99 {lat['p99_ms']:.0f} ms,"
                f" max {lat['max_ms']:.0f} ms | peak RSS {lat['peak_rss_mb']:.0f} MB",
                flush=True,
            )

    # 3. RSS with a million pending: window a month away in real time
    if opts.pending:
        url = url_for("pending")
        day = today + timedelta(days=30)
        fill = run_phase(
            "fill",
            url=url,
            numbers=opts.pending,
            first_day=day.isoformat(),
            clock=datetime.now(UTC).isoformat(),
        )
        print(
            f"{backend:9s} fill       {opts.pending} destinations in {fill['fill_s']:.1f} s"
            " (not counted)",
            flush=True,
        )
        idle = run_phase("pending", url=url, mode="idle", seconds=opts.idle_seconds)
        summary["pending_rss_mb"] = idle["peak_rss_mb"]
        print(
            f"{backend:9s} pending    {opts.pending} pending, window closed, real time,"
            f" {idle['wall_s']:.0f} s (default EngineSettings): RSS {idle['rss_before_mb']:.0f} MB"
            f" before the engine, {idle['rss_after_mb']:.0f} MB after,"
            f" peak {idle['peak_rss_mb']:.0f} MB | {idle['claimed']} claimed",
            flush=True,
        )
        busy = run_phase(
            "pending",
            url=url,
            mode="busy",
            seconds=opts.idle_seconds,
            start=noon(day).isoformat(),
            **limits,
        )
        summary["busy_rss_mb"] = busy["peak_rss_mb"]
        print(
            f"{backend:9s} pending    {opts.pending} pending, window open, --speed max,"
            f" {busy['wall_s']:.0f} s: RSS {busy['rss_before_mb']:.0f} MB before the engine,"
            f" {busy['rss_after_mb']:.0f} MB after, peak {busy['peak_rss_mb']:.0f} MB"
            f" | {busy['recorded']} attempts = {busy['recorded'] / busy['wall_s']:.0f} attempts/s",
            flush=True,
        )
    return summary


def verdict(value: float, ok: bool) -> str:
    return f"{value:8.0f}  {'ok' if ok else 'MISSED'}"


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--phase":
        print(json.dumps(PHASES[sys.argv[2]](json.loads(sys.argv[3]))), flush=True)
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--numbers", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pending", type=int, default=1_000_000, help="0 skips phase 3")
    parser.add_argument("--rate", type=float, default=200.0, help="AddCall per second")
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="how long to feed (0 skips phase 2)"
    )
    parser.add_argument(
        "--polls",
        type=lambda s: [float(x) for x in s.split(",")],
        default=[EngineSettings().poll_seconds],
        help="poll_seconds values to measure latency with (comma-separated)",
    )
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    parser.add_argument("--max-in-flight", type=int, default=1000)
    parser.add_argument("--claim-batch", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    opts = parser.parse_args()
    if opts.quick:
        opts.numbers, opts.pending = min(opts.numbers, 5_000), min(opts.pending, 20_000)
        opts.seconds, opts.idle_seconds = min(opts.seconds, 2.0), min(opts.idle_seconds, 2.0)
    backends = ["sqlite", "postgres"] if opts.backend == "both" else [opts.backend]
    load = os.getloadavg()[0]
    print(
        f"engine_throughput: {opts.numbers} destinations, zero-duration calls,"
        f" {opts.pending} pending, {os.cpu_count()} cores, load {load:.2f}",
        flush=True,
    )
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="dialer-bench-") as tmp:
        for backend in backends:
            if backend == "sqlite":
                results[backend] = bench_backend(
                    backend, lambda name: f"sqlite:///{tmp}/{name}.db", opts
                )
                continue
            server = PostgresServer().start()
            try:
                results[backend] = bench_backend(backend, server.create_database, opts)
            finally:
                server.stop()
    print(f"\n{'target':52s}" + "".join(f"{b:>18s}" for b in results))
    pending = f"{opts.pending:,}".replace(",000,000", "M").replace(",000", "k")
    rows = [
        (f"attempts/s (>= {TARGET_ATTEMPTS_PER_S})", "attempts_per_s", 1),
        (f"p99 due-to-originate, in-process, ms (< {TARGET_P99_MS})", "p99_thread_ms", -1),
        (f"p99 due-to-originate, other process, ms (< {TARGET_P99_MS})", "p99_process_ms", -1),
        (f"RSS, {pending} pending idle, MB (< {TARGET_PENDING_RSS_MB})", "pending_rss_mb", -1),
        (f"RSS, {pending} pending dialling, MB (< {TARGET_PENDING_RSS_MB})", "busy_rss_mb", -1),
    ]
    limits = {
        "attempts_per_s": TARGET_ATTEMPTS_PER_S,
        "p99_thread_ms": TARGET_P99_MS,
        "p99_process_ms": TARGET_P99_MS,
        "pending_rss_mb": TARGET_PENDING_RSS_MB,
        "busy_rss_mb": TARGET_PENDING_RSS_MB,
    }
    if not opts.pending:
        rows = rows[:3]
    for label, key, sign in rows:
        cells = ""
        for summary in results.values():
            if key not in summary:
                cells += f"{'-':>18s}"
                continue
            value = summary[key]
            ok = value >= limits[key] if sign > 0 else value < limits[key]
            cells += f"{verdict(value, ok):>18s}"
        print(f"{label:52s}{cells}")


if __name__ == "__main__":
    main()
