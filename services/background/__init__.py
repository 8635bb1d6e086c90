"""Periodic background services that beat drives: a lifecycle (interval, failure budget, growing
retry delay, pause, health) whose state lives in Redis, so any worker can run any service."""
