"""Log lines as operators read them: JSON when LOG_FORMAT=json (each line of a task carrying its
task id, task name and request id), and never a secret, whatever the format."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

# A long run of base64 is a photo (or a key) that should never have reached a log line.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{200,}={0,2}")
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@/\s]+@")


class Redact(logging.Filter):
    """Rewrites every record: the configured secrets, passwords in URLs and base64 runs go."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:  # tracebacks quote values too
            record.exc_text = self.clean(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = self.clean(record.exc_text)
        return True

    def clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        text = _URL_PASSWORD.sub(r"\g<scheme>\g<user>:[redacted]@", text)
        return _BASE64_RUN.sub(lambda m: f"[{len(m.group())} base64 chars]", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; inside a task, its id, name and the caller's request id."""

    def __init__(self, task_context: Callable[[], dict[str, Any]] = lambda: {}) -> None:
        super().__init__()
        self._task_context = task_context

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "process": record.processName,
            "message": record.getMessage(),
        }
        line |= self._task_context()
        if record.exc_text:
            line["exception"] = record.exc_text
        elif record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def install(
    handlers: Iterable[logging.Handler],
    *,
    secrets: Iterable[str],
    formatter: logging.Formatter | None = None,
) -> None:
    """Give each handler the redaction (once) and, for JSON lines, the formatter."""
    redact = Redact(secrets)
    for handler in handlers:
        if formatter is not None:
            handler.setFormatter(formatter)
        if not any(isinstance(f, Redact) for f in handler.filters):
            handler.addFilter(redact)
