"""Getting every accepted task to a result or a dead letter: retries, priorities, leases, checks."""
