"""The statistics warmer under the steady mixed read load: the hit ratio without and with it,
side by side, and what it costs the database.

Steady means after a warm-up of one longest TTL, so first reads of a cold cache (which no warmer
can avoid) are not what is measured. Time runs SPEED times faster than in production: every TTL,
the warmer's interval, lead and read window divided by SPEED, the read rate multiplied by it.
Hits depend on reads per TTL and on the interval against the TTLs, which all keep their
proportions; query rates are given back in production minutes (measured ÷ SPEED).
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from bench import statistics_load
from bench.common import Row
from bench.statistics_support import seeded, sqlite_database
from harness.sql import counting
from services import db
from services.background import registry
from services.background.base import run_once
from services.background.config import apply
from services.background.state import ServiceStore
from services.bootstrap import Container, bootstrap
from services.settings import Settings
from services.statistics.service import Statistic, StatisticsService

SPEED = 5
WARM_UP_S = 300 / SPEED  # one longest TTL (overview, users) in production time
MEASURE_S = 600 / SPEED
READS_PER_S = statistics_load.REQUESTS / statistics_load.DURATION_S * SPEED
GOAL = 0.95
TTLS = ("overview", "forum", "user", "online", "identification")


@dataclass
class Tally:
    """Reads and hits per kind, and the database statements, counted after the warm-up."""

    reads: Counter[str] = field(default_factory=Counter)
    hits: Counter[str] = field(default_factory=Counter)
    statements: int = 0


def run(redis_url: str) -> list[Row]:
    """The same plan read twice at once, over one database: alone, and beside the warmer."""
    total = round(READS_PER_S * (WARM_UP_S + MEASURE_S))
    production = Settings.from_env()
    with seeded(sqlite_database, **statistics_load.SIZES) as (engine, _):
        plan = statistics_load.plan(engine, requests=total)
        url = engine.url.render_as_string(hide_password=False)
        with ExitStack() as stack:
            cold_settings = _compressed(production, redis_url)
            warm_settings = _compressed(production, redis_url)
            cold = stack.enter_context(_container(cold_settings, url))
            warm = stack.enter_context(_container(warm_settings, url))
            warmer = stack.enter_context(_container(warm_settings, url))  # warm's cache
            tallies, cost = _side_by_side(plan, cold, warm, warmer)
    return _rows(production, *tallies, *cost)


def _compressed(settings: Settings, redis_url: str) -> Settings:
    """TTLs ÷ SPEED, and a cache version never used before (nothing from an earlier run)."""
    ttls = {f"stats_{name}_ttl_s": getattr(settings, f"stats_{name}_ttl_s") for name in TTLS}
    return dataclasses.replace(
        settings,
        redis_url=redis_url,
        cache_version=random.randrange(10**6, 2**31),
        **{name: max(1, round(ttl / SPEED)) for name, ttl in ttls.items()},
    )


@contextmanager
def _container(settings: Settings, url: str) -> Iterator[Container]:
    """The real wiring over an engine of its own, so its statements are counted apart."""
    engine = db.make_engine(url)
    container = bootstrap(settings, engine=engine)
    try:
        yield container
    finally:
        container.close()
        engine.dispose()


def _side_by_side(
    plan: list[statistics_load.Request], cold: Container, warm: Container, warmer: Container
) -> tuple[tuple[Tally, Tally], tuple[int, int, int]]:
    """Both loads and the warmer's runs, in threads, on one schedule."""
    started = time.perf_counter() + 0.5
    tallies = Tally(), Tally()
    stop = threading.Event()
    runs: dict[str, int] = {}
    loads = [
        threading.Thread(target=_load, args=(c, plan, started, tally))
        for c, tally in zip((cold, warm), tallies, strict=True)
    ]
    warming = threading.Thread(target=_warm, args=(warmer, started, stop, runs))
    for thread in (*loads, warming):
        thread.start()
    for thread in loads:
        thread.join()
    stop.set()
    warming.join()
    return tallies, (runs["statements"], runs["runs"], runs["refreshed"])


def _load(
    container: Container, plan: list[statistics_load.Request], started: float, tally: Tally
) -> None:
    """The plan on a fixed schedule; hits and statements counted once the warm-up is over."""
    read = _reader(container.statistics)
    interval_s = 1 / READS_PER_S
    with counting(container.parts.engine) as statements:
        at_warm_up = 0
        for index, (kind, arg) in enumerate(plan):
            time.sleep(max(0.0, started + index * interval_s - time.perf_counter()))
            measuring = index * interval_s >= WARM_UP_S
            if measuring and not at_warm_up:
                at_warm_up = len(statements)
            cached = read(kind, arg).cached
            if measuring:
                tally.reads[kind] += 1
                tally.hits[kind] += cached
        tally.statements = len(statements) - at_warm_up


def _warm(container: Container, started: float, stop: threading.Event, out: dict[str, int]) -> None:
    """The warmer as beat drives it, at the compressed interval; its statements once measuring."""
    config = registry.default_config("stats-warmer")
    options = {key: float(config.options[key]) / SPEED for key in ("lead_s", "read_within_s")}
    config = apply(config, {"interval_s": config.policy.interval_s / SPEED, **options})
    service = registry.build(container, config)
    store = ServiceStore(container.redis)
    next_run, runs, refreshed = started, 0, 0
    with counting(container.parts.engine) as statements:
        at_warm_up: int | None = None
        while not stop.wait(max(0.0, next_run - time.perf_counter())):
            if at_warm_up is None and next_run >= started + WARM_UP_S:
                at_warm_up = len(statements)
            report = run_once(service, store)
            if at_warm_up is not None:
                runs, refreshed = runs + 1, refreshed + report.items
            next_run += config.policy.interval_s
        out.update(statements=len(statements) - (at_warm_up or 0), runs=runs, refreshed=refreshed)


def _reader(service: StatisticsService) -> Callable[[str, int], Statistic]:
    calls: dict[str, Callable[[int], Statistic]] = {
        "forum_detail": service.forum_detail,
        "forum_overview": lambda _: service.forum_overview(),
        "user_summary": service.user_summary,
        "identification_summary": lambda _: service.identification_summary(),
    }
    return lambda kind, arg: calls[kind](arg)


def _rows(
    settings: Settings, cold: Tally, warm: Tally, statements: int, runs: int, refreshed: int
) -> list[Row]:
    """Hit ratios side by side (overall and per kind), then the database's side of it."""
    per_minute = 60 / (MEASURE_S * SPEED)  # counts over the measurement, per production minute
    ttls = ", ".join(f"{name} {getattr(settings, f'stats_{name}_ttl_s')} s" for name in TTLS)
    rate = statistics_load.REQUESTS / statistics_load.DURATION_S
    load = (
        f"steady mixed read load ({rate:.1f} reads/s in the proportions above, "
        f"{cold.reads.total():,} reads counted after a {WARM_UP_S * SPEED:.0f} s warm-up; "
        f"TTLs {ttls}; warmer every {_warmer_option('interval_s'):g} s, lead "
        f"{_warmer_option('lead_s'):g} s, read within {_warmer_option('read_within_s'):g} s; "
        f"run {SPEED} times faster, every time divided by {SPEED})"
    )
    ratio = warm.hits.total() / warm.reads.total()
    rows = [
        Row(f"hit ratio without the warmer, {load}", _ratio(cold)),
        Row(
            "hit ratio with the warmer, same load side by side",
            _ratio(warm),
            "≥ 95%",
            ratio >= GOAL,
        ),
    ]
    for kind in statistics_load.MIX:
        rows.append(
            Row(
                f"hit ratio of {kind}, without / with the warmer",
                f"{_ratio(cold, kind)} / {_ratio(warm, kind)}",
            )
        )
    rows += [
        Row("warmer's own cost: database queries per minute", f"{statements * per_minute:.0f}"),
        Row(
            "warmer: statistics refreshed per minute (runs per minute)",
            f"{refreshed * per_minute:.0f} ({runs * per_minute:.1f})",
        ),
        Row(
            "readers' database queries per minute, without / with the warmer",
            f"{cold.statements * per_minute:.0f} / {warm.statements * per_minute:.0f}",
        ),
    ]
    return rows


def _warmer_option(name: str) -> float:
    """The warmer's default `name` (a policy field or an option), from beat_schedule.py."""
    config = registry.default_config("stats-warmer")
    return float(getattr(config.policy, name, None) or config.options[name])


def _ratio(tally: Tally, kind: str | None = None) -> str:
    hits = tally.hits[kind] if kind else tally.hits.total()
    reads = tally.reads[kind] if kind else tally.reads.total()
    return f"{hits / reads:.1%} ({hits}/{reads})" if reads else "no reads"
