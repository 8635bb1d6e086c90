"""`greenhouse breakers` and `greenhouse cache`: see and steer the guards every worker shares."""

from __future__ import annotations

import json
import re

import click
import redis
from rich.console import Console
from rich.table import Table

from services.bootstrap import redis_client
from services.resilience import breaker_ops
from services.resilience.cache import JsonCache
from services.settings import Settings, load

console = Console()
STATS_SCOPE = re.compile(r"all|overview|identification|forum:[1-9][0-9]*|user:[1-9][0-9]*")


@click.group()
def breakers() -> None:
    """The providers' circuit breakers, shared by every worker through Redis."""


@breakers.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def breakers_list(as_json: bool) -> None:
    """Each breaker's state, failures in a row, and how long it has been open."""
    views = breaker_ops.read(_redis(load()), breaker_ops.PROVIDERS)
    if as_json:
        click.echo(json.dumps([view.to_dict() for view in views], indent=2))
        return
    table = Table(title="Breakers")
    for column in ("name", "state", "failures in a row", "open for", "generation"):
        table.add_column(column)
    for v in views:
        open_for = "-" if v.open_for_s is None else f"{v.open_for_s:.0f} s"
        table.add_row(v.name, v.state, str(v.failures), open_for, str(v.generation))
    console.print(table)


@breakers.command("reset")
@click.argument("name", type=click.Choice(breaker_ops.PROVIDERS))
def breakers_reset(name: str) -> None:
    """Close breaker NAME now: the next call goes to the provider (a failing one reopens it)."""
    settings = load()
    permits = settings.breaker_half_open_max_calls
    generation = breaker_ops.reset(_redis(settings), name, trial_permits=permits)
    console.print(f"breaker {name} closed (generation {generation})")


@click.group()
def cache() -> None:
    """The Redis caches: identification answers and statistics."""


@cache.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def cache_stats(as_json: bool) -> None:
    """Keys per cache, the cache Redis's memory and eviction policy, hits and misses."""
    settings = load()
    client = _redis(settings, cache=True)
    memory, stats = client.info("memory"), client.info("stats")
    counts = {
        "identification answers": _count(client, settings, "identification", exclude="upload:"),
        "uploads seen": _count(client, settings, "identification:upload"),
        "statistics": _count(client, settings, "stats"),
    }
    found = {
        "enabled": settings.cache_enabled,
        "version": settings.cache_version,
        "keys": counts,
        "used_memory": memory.get("used_memory_human"),
        "maxmemory_policy": memory.get("maxmemory_policy"),
        "keyspace_hits": stats.get("keyspace_hits"),
        "keyspace_misses": stats.get("keyspace_misses"),
    }
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    table = Table(title=f"Caches (version {settings.cache_version})")
    table.add_column("what")
    table.add_column("value")
    for name, value in {**counts, **{k: v for k, v in found.items() if k != "keys"}}.items():
        table.add_row(name, str(value))
    console.print(table)


@cache.command("invalidate")
@click.argument("scope")
def cache_invalidate(scope: str) -> None:
    """Drop cached values: SCOPE is `answers` (identification answers: the next photo asks the
    providers again) or a statistics scope (all, overview, identification, forum:N, user:N)."""
    settings = load()
    if scope == "answers":
        answers = _answers(_redis(settings, cache=True), settings)
        keys = list(answers.scan("*"))
        answers.drop(keys)
        console.print(f"dropped {len(keys)} cached identification answers and uploads")
        return
    if not STATS_SCOPE.fullmatch(scope):
        raise click.BadParameter(
            "use answers, all, overview, identification, forum:<id> or user:<id>", param_hint=scope
        )
    from tasks import runtime

    dropped = runtime.container().statistics.invalidate(scope).values
    console.print(f"dropped {dropped['count']} cached statistics for {scope}")


def _redis(settings: Settings, *, cache: bool = False) -> redis.Redis:
    url = (settings.cache_redis_url if cache else None) or settings.redis_url_or_embedded
    return redis_client(url, settings, timeout_s=5.0)


def _answers(client: redis.Redis, settings: Settings) -> JsonCache:
    ttl_s = settings.identification_cache_ttl_s
    return JsonCache(
        client, namespace="identification", version=settings.cache_version, ttl_s=ttl_s
    )


def _count(client: redis.Redis, settings: Settings, namespace: str, *, exclude: str = "") -> int:
    prefix = f"greenhouse:v{settings.cache_version}:{namespace}:"
    keys = (key.decode() for key in client.scan_iter(match=prefix + "*", count=1000))
    return sum(1 for key in keys if not (exclude and key[len(prefix) :].startswith(exclude)))
