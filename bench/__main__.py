"""`make bench`: run every benchmark against real Redis and workers, write docs/BENCHMARKS.md."""

from __future__ import annotations

import os

from bench.common import ROOT, bench_redis, write_report


def main() -> None:
    with bench_redis() as redis_url:
        os.environ["REDIS_URL"] = redis_url  # before tasks.app is imported below
        from bench import identification, moderation, platform_overhead, statistics
        from bench.statistics_support import postgres_database
        from harness.postgres import reachable

        sections = {"Platform: cost per no-op task": platform_overhead.run(redis_url)}
        sections["Identification"] = identification.run(redis_url)
        sections["Statistics"] = statistics.run(redis_url)
        postgres = postgres_database if reachable() else None
        sections["Moderation"] = moderation.run("PostgreSQL", postgres)
    print(write_report(sections, ROOT / "docs" / "BENCHMARKS.md"))


if __name__ == "__main__":
    main()
