"""Guards around calls that may fail: circuit breakers, locks, caches."""
