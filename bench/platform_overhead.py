"""Issue 11: platform cost per no-op task, side by side in one run.

Bare default Celery, Celery with only the safety settings, Greenhouse and Dramatiq each run on a
Redis server of their own (so INFO commandstats counts theirs alone) with a real worker process
and a caller process. Rounds are interleaved; each figure is a median. Commands are counted as
the server counts them (a Lua script's own calls included), the measuring client's left out, the
idle worker's background per second subtracted; CPU is the worker's whole process tree.
"""

from __future__ import annotations

import contextlib
import statistics
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bench.common import Row
from bench.overhead_runner import Round, Running
from bench.overhead_systems import SYSTEMS, System
from bench.worker_cost import Background

TASKS_PER_ROUND = 1000
ROUNDS = 5
SETTLE_S = 2.0
IDLE_S = 10.0  # long enough for the slowest periodic write (heartbeats every 10 s)


@dataclass
class Summary:
    """One system's rounds: medians, spread, and commands per task by name."""

    system: System
    background: Background
    rounds: list[Round]

    def median(self, figure: Callable[[Round], float]) -> float:
        return statistics.median(figure(r) for r in self.rounds)

    @property
    def rate(self) -> float:
        return self.median(lambda r: r.rate)

    @property
    def commands(self) -> float:
        return self.median(lambda r: r.per_task())

    @property
    def cpu_ms(self) -> float:
        return self.median(lambda r: r.cpu_ms)

    def figures(self) -> str:
        publish = self.median(lambda r: sum(r.publish.values()) / r.tasks)
        run = self.median(lambda r: sum(r.run.values()) / r.tasks)
        return (
            f"{self.rate:,.0f} tasks/s · {self.commands:.1f} commands "
            f"({publish:.1f} + {run:.1f}) · {self.cpu_ms:.2f} ms CPU"
        )

    def spread(self) -> str:
        rates = [r.rate for r in self.rounds]
        cpu = [r.cpu_ms for r in self.rounds]
        return (
            f"rounds: {min(rates):,.0f} to {max(rates):,.0f} tasks/s, "
            f"CPU {min(cpu):.2f} to {max(cpu):.2f} ms/task"
        )

    def breakdown(self, phase: str) -> str:
        """`EVALSHA 3.00, ZADD 1.00, …`: calls per task over all rounds, largest first."""
        calls: dict[str, float] = defaultdict(float)
        for r in self.rounds:
            for name, n in (r.publish if phase == "publish" else r.run).items():
                calls[name] += n
        tasks = sum(r.tasks for r in self.rounds)
        ordered = sorted(calls.items(), key=lambda item: -item[1])
        return ", ".join(
            f"{name.upper()} {n / tasks:.2f}" for name, n in ordered if n / tasks >= 0.005
        )


def measure(*, tasks: int = TASKS_PER_ROUND, rounds: int = ROUNDS) -> dict[str, Summary]:
    """Start every system, warm each, take its idle background, then interleave the rounds."""
    with contextlib.ExitStack() as stack:
        running = {key: stack.enter_context(Running(factory)) for key, factory in SYSTEMS.items()}
        for system in running.values():
            system.round(tasks)  # warm-up: imports, connections, scripts, pool processes
            system.measure_background(settle_s=SETTLE_S, idle_s=IDLE_S)
        results: dict[str, list[Round]] = {key: [] for key in running}
        for _ in range(rounds):  # interleaved: every system sees the same machine noise
            for key, system in running.items():
                results[key].append(system.round(tasks))
        return {
            key: Summary(system.system, system.background, results[key])
            for key, system in running.items()
        }


def run(redis_url: str) -> list[Row]:
    """The report's rows. `redis_url` goes unused: each system runs on a Redis of its own."""
    summaries = measure()
    print(breakdowns(summaries))
    return rows(summaries)


def rows(summaries: Mapping[str, Summary]) -> list[Row]:
    heading = (
        f"per no-op task, median of {ROUNDS} interleaved rounds of {TASKS_PER_ROUND}: tasks/s · "
        "Redis commands (caller publishing + worker running and results picked up) · "
        "worker CPU (ms, whole process tree)"
    )
    table = [Row(heading, "")]
    table += [Row(summary.system.label, summary.figures()) for summary in summaries.values()]
    table += goal_rows(ours=summaries["greenhouse"], bare=summaries["bare"])
    for key, name in (("greenhouse", "Greenhouse"), ("bare", "bare Celery")):
        summary = summaries[key]
        table.append(Row(f"{name}: commands per task, publishing", summary.breakdown("publish")))
        table.append(Row(f"{name}: commands per task, running", summary.breakdown("run")))
    idle = "; ".join(
        f"{key} {s.background.total_per_s:.1f}/s, {s.background.cpu_s_per_s * 1000:.1f} ms/s"
        for key, s in summaries.items()
    )
    table.append(Row("idle worker's background, subtracted (commands/s, CPU ms/s)", idle))
    return table


def goal_rows(*, ours: Summary, bare: Summary) -> list[Row]:
    """Issue 11's goal (commands, CPU) and issue 2's (throughput), against bare Celery."""
    ratio = ours.rate / bare.rate
    return [
        Row(
            "Greenhouse Redis commands per task ≤ bare default Celery's (same run)",
            f"{ours.commands:.1f} vs {bare.commands:.1f}",
            f"≤ {bare.commands:.1f}",
            ours.commands <= bare.commands,
        ),
        Row(
            "Greenhouse worker CPU per task ≤ bare default Celery's (ms, same run)",
            f"{ours.cpu_ms:.2f} vs {bare.cpu_ms:.2f}",
            f"≤ {bare.cpu_ms:.2f}",
            ours.cpu_ms <= bare.cpu_ms,
        ),
        Row("throughput Greenhouse / bare default Celery", f"{ratio:.2f}", "≥ 0.9", ratio >= 0.9),
    ]


def breakdowns(summaries: Mapping[str, Summary]) -> str:
    """Every system's commands per task by name, for finding what to cut."""
    lines = ["", "Platform cost per no-op task: Redis commands by name (calls per task)"]
    for summary in summaries.values():
        idle = ", ".join(
            f"{name.upper()} {rate:.2f}/s"
            for name, rate in sorted(summary.background.commands_per_s.items())
        )
        lines += [
            f"- {summary.system.label}: {summary.figures()}",
            f"    worker: {' '.join(summary.system.worker_argv[2:])}",
            f"    {summary.spread()}",
            f"    publishing: {summary.breakdown('publish')}",
            f"    running:    {summary.breakdown('run')}",
            f"    idle background subtracted: {idle or 'none'}; "
            f"CPU {summary.background.cpu_s_per_s * 1000:.1f} ms/s",
        ]
    return "\n".join(lines)
