"""Every Celery setting, from the one settings object; each says why it is set."""

from kombu import Exchange, Queue

from beat_schedule import SCHEDULE
from services.delivery import priority
from services.delivery.transport import leased_transport_for
from services.settings import load
from tasks.backend import backend_url

_settings = load()
# REDIS_URL, else the local kit's embedded server: the worker and beat start it at start-up
# (tasks/hooks.py, tasks/scheduler.py); importing this module starts nothing.
_redis_url = _settings.redis_url_or_embedded

# --- where messages and results live ---
broker_url = _settings.broker_url or _redis_url  # amqp:// works too; priorities are normalised
# Results expire (result_expires); on Redis, stored without MULTI/EXEC (tasks/backend.py).
result_backend = backend_url(_settings.result_backend or _redis_url)
broker_connection_retry_on_startup = True  # a worker started before Redis waits instead of dying
include = [
    "tasks.diagnostic",
    "tasks.identification",
    "tasks.statistics",
    "tasks.maintenance",
    "tasks.moderation",
]  # task modules

# --- JSON only: a pickled message is remote code execution ---
task_serializer = "json"
result_serializer = "json"
event_serializer = "json"
accept_content = ["json"]  # the worker refuses anything else
result_accept_content = ["json"]  # ...and so do clients reading results

# --- at-least-once delivery; on Redis under leases (services/delivery/lease.py) ---
# Redis: kombu's transport, leased: each worker renews what it holds every few seconds, so the
# visibility timeout is a short lease, not a bound on task duration or countdown. None elsewhere.
broker_transport = leased_transport_for(broker_url)
task_acks_late = True  # acknowledge after running, so a crash redelivers instead of losing
task_reject_on_worker_lost = True  # a killed pool child requeues its message, not acks it
task_retry_on_worker_lost = True  # ...as a counted retry, so a poison message cannot loop forever
worker_prefetch_multiplier = 1  # one reserved message per process: priorities hold, no hoarding
# A redelivered message whose task already succeeded is skipped, not run twice.
worker_deduplicate_successful_tasks = True
# Under leases a task cut off from the broker runs on (its lease is renewed) and is acknowledged
# later; Celery's cancelling path marks some such tasks REVOKED and acknowledges them (lost).
# RabbitMQ redelivers a lost channel's messages itself, so there a running task is stopped.
worker_cancel_long_running_tasks_on_connection_loss = broker_transport is None
broker_connection_max_retries = None  # reconnect for as long as it takes, with backoff
greenhouse_lease_renew_interval_s = _settings.lease_renew_interval_s  # read by tasks/steps.py

# --- time limits (and, on RabbitMQ, its consumer timeout above them: checked at worker start) ---
task_soft_time_limit = _settings.task_soft_time_limit_s  # the task gets SoftTimeLimitExceeded
task_time_limit = _settings.task_time_limit_s  # then the pool child is killed
greenhouse_longest_countdown_s = _settings.retry_max_delay_s  # read by the startup check

# --- queues, routes and priorities ---
_queue_names = ("identification", "statistics", "maintenance", "default")
task_queues = [
    # x-max-priority gives RabbitMQ native priorities; Redis ignores it.
    Queue(name, Exchange(name), routing_key=name, queue_arguments={"x-max-priority": 10})
    for name in _queue_names
]
task_default_queue = "default"  # anything unrouted
task_routes = {
    "identification.*": {"queue": "identification"},
    "statistics.*": {"queue": "statistics"},
    "services.*": {"queue": "maintenance"},
    "moderation.*": {"queue": "statistics"},  # database work, like the statistics
}
task_queue_max_priority = priority.STEPS  # queues Celery creates on the fly get priorities too

_redis_socket = {
    "socket_timeout": _settings.redis_socket_timeout_s,  # above kombu's 1 s BRPOP wait
    "socket_connect_timeout": _settings.redis_connect_timeout_s,
    "socket_keepalive": True,  # notice half-open connections through NAT and load balancers
    "health_check_interval": _settings.redis_health_check_interval_s,
}
broker_transport_options: dict[str, object] = {}
if priority.is_redis_url(broker_url):
    broker_transport_options = {
        "visibility_timeout": _settings.delivery_lease_s,  # the lease
        # Every priority step is polled before the next; at equal priority, queues are
        # served in the order the worker lists them (user-facing identification first).
        "queue_order_strategy": "priority",
        "priority_steps": list(range(priority.STEPS)),  # ten steps, one per priority
        # kombu's default key separator is kept: producers with plain options interoperate.
        # Sweep for lapsed leases as often as leases are renewed (kombu's default sweeps only
        # every ~100 s, far too late for a short lease)...
        "unacked_restore_interval": _settings.lease_renew_interval_s,
        "unacked_restore_throttle": 1,
        # ...and a sweeper killed mid-sweep blocks the others for seconds, not kombu's 5 min.
        "unacked_mutex_expire": 10,
        **_redis_socket,
    }
# A result stored while Redis is away waits for it (backing off to 5 s), instead of failing a
# task that succeeded; one retry loop, not the backend's own nested inside it.
result_backend_always_retry = True
result_backend_base_sleep_between_retries_ms = 500
result_backend_max_sleep_between_retries_ms = 5000
result_backend_transport_options = {"retry_policy": {"max_retries": 0}}
redis_socket_timeout = _settings.redis_socket_timeout_s  # the result backend's Redis client
redis_socket_connect_timeout = _settings.redis_connect_timeout_s
redis_socket_keepalive = True
redis_backend_health_check_interval = _settings.redis_health_check_interval_s
redis_retry_on_timeout = True  # one retry on a timed-out result read before failing

# --- results ---
result_expires = _settings.result_expires_s  # results are for pick-up, not storage
result_extended = False  # keep task arguments out of the result backend

# --- workers ---
# Identification waits on HTTP: its worker runs threads (WORKER_POOL=threads, docker-compose);
# statistics and maintenance keep prefork, one process per CPU.
worker_pool = _settings.worker_pool
worker_concurrency = _settings.pool_concurrency
worker_max_memory_per_child = _settings.worker_max_memory_per_child_kb  # contain leaks
# Task events cost a PUBLISH each: a worker sends them while Flower asks (it does every 5 s;
# tasks/steps.py stops them 30 s after the last ask), or always with WORKER_SEND_TASK_EVENTS.
worker_send_task_events = _settings.worker_send_task_events
task_send_sent_event = _settings.task_send_sent_event  # queued tasks in Flower: a PUBLISH each
task_track_started = _settings.task_track_started  # a STARTED result write per task
task_annotations = {
    "*": {
        # Celery's own retry bookkeeping (worker-lost retries use these too).
        "max_retries": _settings.retry_max_retries,
        "default_retry_delay": _settings.retry_base_delay_s,
    }
}

# --- beat: RedBeat keeps the schedule in Redis with a lock, so only one beat runs it ---
beat_scheduler = "tasks.scheduler:GreenhouseScheduler"  # RedBeat that outlives Redis outages
redbeat_redis_url = _redis_url
redbeat_key_prefix = "greenhouse:redbeat:"  # entries greenhouse:redbeat:<name>
redbeat_lock_key = "greenhouse:redbeat:lock"
redbeat_redis_options = _redis_socket  # beat's own client: timeouts like every other
# Any number of beats may run: one holds the lock; a standby takes over this long after it dies.
redbeat_lock_timeout = _settings.beat_lock_timeout_s
beat_max_loop_interval = _settings.beat_max_loop_interval_s  # renews the lock well within it
beat_schedule = SCHEDULE
timezone = "UTC"
enable_utc = True
