"""A local HTTP server imitating Plant.id v3 and PlantNet v2, so nothing needs API keys.

Answers are derived from the image bytes, so they repeat; per-provider knobs (set over HTTP at
`/__sandbox/config`) add latency, hangs, 429s, injected 500s or "not a plant" answers, a daily
quota and a rate limit. `/__sandbox/calls`, `/failures`, `/concurrency` (calls in flight and
the most at once) and `/timeline` (arrival times) say what came in.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import threading
from collections.abc import Callable
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from localkit.sandbox import formats
from localkit.sandbox.state import Knobs, SandboxState

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 32 * 1024 * 1024
PLANT_ID_PATH = "/plant-id/v3/identification"
PLANT_ID_USAGE_PATH = "/plant-id/v3/usage_info"
PLANTNET_PREFIX = "/plantnet/v2/identify/"


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a hung answer must never keep the process alive
    # socketserver listens with a backlog of 5: a burst of a worker's 64 threads (times two
    # providers, times replicas) overflowed it, and dropped connects waited a second to retry.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], state: SandboxState) -> None:
        super().__init__(address, _Handler)
        self.state = state
        self.stopping = threading.Event()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client gave up (e.g. its read timeout fired); nothing to report
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GreenhouseSandbox/1.0"

    @property
    def _sandbox(self) -> _Server:
        return cast(_Server, self.server)

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Never the query string: PlantNet carries its API key there.
        log.debug("%s %s -> %s", self.command, urlsplit(self.path).path, code)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the default writes the raw request line, query string and all, to stderr

    def _route(self, method: str) -> None:
        url = urlsplit(self.path)
        body = self._read_body()
        if body is None:
            return
        query = parse_qs(url.query, keep_blank_values=True)
        path = url.path.rstrip("/")
        project = path.removeprefix(PLANTNET_PREFIX)
        if (method, path) == ("POST", PLANT_ID_PATH):
            api_key = self.headers.get("Api-Key", "")
            reply = partial(formats.plant_id_reply, api_key=api_key, query=query, body=body)
            self._identify("plant_id", reply)
        elif (method, path) == ("GET", PLANT_ID_USAGE_PATH):
            self._usage_info("plant_id")
        elif method == "POST" and path.startswith(PLANTNET_PREFIX) and "/" not in project:
            reply = partial(
                formats.plantnet_reply,
                project=project,
                query=query,
                content_type=self.headers.get("Content-Type", ""),
                body=body,
                spend=self._sandbox.state.spend_plantnet_request,
            )
            self._identify("plantnet", reply)
        elif path.startswith("/__sandbox/"):
            self._control(method, path, body)
        else:
            self._send(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: {method} {path or '/'}"})

    def _read_body(self) -> bytes | None:
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            self.close_connection = True
            self._send(
                HTTPStatus.BAD_REQUEST, {"error": "a Content-Length up to 32 MiB is required"}
            )
            return None
        return self.rfile.read(int(length))

    def _identify(self, provider: str, answer: Callable[..., formats.Reply]) -> None:
        state = self._sandbox.state
        call, knobs = state.begin(provider)
        try:
            refusal = state.refusal(provider, knobs)
            if refusal is not None:  # a gateway's 429: at once, before any work
                state.count_failure(provider)
                headers = refusal.headers | state.quota_headers(provider)
                self._send(HTTPStatus.TOO_MANY_REQUESTS, refusal.body, headers=headers)
            else:
                self._answer(provider, call, knobs, answer)
        finally:
            state.end(provider)

    def _answer(
        self, provider: str, call: int, knobs: Knobs, answer: Callable[..., formats.Reply]
    ) -> None:
        state = self._sandbox.state
        pause_s = knobs.hang_s + knobs.latency_ms / 1000
        if pause_s > 0:
            self._sandbox.stopping.wait(pause_s)  # stop() cuts the pause short
        if knobs.rate_limit_retry_after_s is not None:
            retry_after = str(math.ceil(knobs.rate_limit_retry_after_s))
            state.count_failure(provider)
            self._send(
                HTTPStatus.TOO_MANY_REQUESTS,
                formats.rate_limited(provider),
                headers={"Retry-After": retry_after} | state.quota_headers(provider),
            )
        elif knobs.fails(call):
            state.count_failure(provider)
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "sandbox injected failure"})
        elif knobs.broken_body:
            state.count_failure(provider)
            self._send_broken(knobs.broken_body)
        else:
            status, body = answer(not_a_plant=knobs.not_a_plant)
            if provider == "plant_id" and status == HTTPStatus.CREATED:
                state.spend(provider)  # PlantNet's reply spends its own (its body has the count)
            headers = state.quota_headers(provider)
            self._send(status, body, headers=headers, trickle_s=knobs.trickle_s)

    def _usage_info(self, provider: str) -> None:
        """Plant.id's usage_info: credits per window, spending none."""
        if not self.headers.get("Api-Key", "").strip():
            self._send(HTTPStatus.UNAUTHORIZED, {"error": "Api-Key header is missing"})
        else:
            self._send(HTTPStatus.OK, self._sandbox.state.usage_info(provider))

    def _control(self, method: str, path: str, body: bytes) -> None:
        state = self._sandbox.state
        reads: dict[str, Callable[[], dict[str, Any]]] = {
            "calls": state.calls,
            "failures": state.failures,
            "concurrency": state.concurrency,
            "timeline": state.timeline,
            "config": state.knobs,
        }
        read = reads.get(path.removeprefix("/__sandbox/"))
        if method == "GET" and read is not None:
            self._send(HTTPStatus.OK, read())
        elif (method, path) == ("POST", "/__sandbox/config"):
            try:
                knobs = state.configure(json.loads(body or b"null"))
            except ValueError as error:  # bad JSON, or a ConfigError naming the bad knob
                self._send(HTTPStatus.BAD_REQUEST, {"error": str(error)})
            else:
                self._send(HTTPStatus.OK, knobs)
        elif (method, path) == ("POST", "/__sandbox/reset"):
            state.reset()
            self._send(HTTPStatus.OK, {"calls": state.calls(), "knobs": state.knobs()})
        else:
            self._send(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: {method} {path}"})

    def _send(
        self,
        status: int,
        body: dict[str, Any],
        *,
        headers: dict[str, str] | None = None,
        trickle_s: float = 0.0,
    ) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if trickle_s:  # a slow link: every read succeeds, the whole answer takes long
                for index in range(len(data)):
                    self.wfile.write(data[index : index + 1])
                    self.wfile.flush()
                    if self._sandbox.stopping.wait(trickle_s / len(data)):
                        break
            else:
                self.wfile.write(data)
        except ConnectionError:
            self.close_connection = True

    def _send_broken(self, kind: str) -> None:
        """A 200 that is not a usable answer: a maintenance page, or a body that will not decode."""
        if kind == "html":
            data, headers = b"<html><body>Down for maintenance</body></html>", {}
            content_type = "text/html"
        else:
            data, headers = b"this is not gzip", {"Content-Encoding": "gzip"}
            content_type = "application/json"
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class SandboxServer:
    """Both imitations on one port; `start()` serves them from a daemon thread."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = SandboxState()
        self._httpd = _Server((host, port), self.state)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def plant_id_url(self) -> str:
        return f"{self.url}/plant-id/v3"

    @property
    def plantnet_url(self) -> str:
        return f"{self.url}/plantnet/v2"

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="greenhouse-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted, then close the socket."""
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            self._httpd.server_close()

    def stop(self) -> None:
        self._httpd.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()


def serve(*, host: str, port: int) -> None:
    """Run the sandbox in the foreground (`greenhouse sandbox`) until Ctrl-C."""
    server = SandboxServer(host=host, port=port)
    log.info(
        "identification sandbox (fake Plant.id at %s, fake PlantNet at %s; any API key works)",
        server.plant_id_url,
        server.plantnet_url,
    )
    server.serve_forever()
