"""A private Redis speaking only TLS, with an ACL user and the default user off: certificates
made with openssl for the test (a CA, and a server certificate for 127.0.0.1 and localhost)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis

from harness.servers import free_port

USER, PASSWORD = "greenhouse", "acl-s3cret-tls"


@dataclass(frozen=True)
class TlsRedis:
    url: str  # rediss:// with the user, the CA file and required certificate checks
    ca_file: Path


def tls_redis_binary() -> str | None:
    """A redis-server built with TLS (Debian's is; the embedded one is not), or None."""
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    linked = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    return binary if "libssl" in linked else None


@contextlib.contextmanager
def tls_redis(directory: Path) -> Iterator[TlsRedis]:
    binary = tls_redis_binary()
    assert binary, "no redis-server with TLS"
    ca = _certificates(directory)
    port = free_port()
    config = directory / "redis.conf"
    config.write_text(
        "\n".join(
            [
                "port 0",
                f"tls-port {port}",
                f"tls-cert-file {directory / 'server.pem'}",
                f"tls-key-file {directory / 'server.key'}",
                f"tls-ca-cert-file {ca}",
                "tls-auth-clients no",
                'save ""',
                "appendonly no",
                f"dir {directory}",
                "user default off",
                f"user {USER} on >{PASSWORD} ~* &* +@all",
            ]
        )
        + "\n"
    )
    process = subprocess.Popen([binary, str(config)], stdout=subprocess.DEVNULL)
    query = f"ssl_ca_certs={ca}&ssl_cert_reqs=required"
    server = TlsRedis(url=f"rediss://{USER}:{PASSWORD}@127.0.0.1:{port}/0?{query}", ca_file=ca)
    try:
        _wait_for(server.url)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)


def _certificates(directory: Path) -> Path:
    """A CA, and a server certificate it signed for localhost and 127.0.0.1; the CA's file."""
    steps = [
        "req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=greenhouse-test-ca"
        " -keyout ca.key -out ca.pem",
        "req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr",
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2"
        " -extfile san.cnf -out server.pem",
    ]
    (directory / "san.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for step in steps:
        subprocess.run(["openssl", *step.split()], cwd=directory, check=True, capture_output=True)
    return directory / "ca.pem"


def _wait_for(url: str, *, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            redis.Redis.from_url(url).ping()
            return
        except redis.RedisError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
