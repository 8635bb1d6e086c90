"""Which Redis `greenhouse up` uses: the configured one, or an embedded one it owns."""

from pathlib import Path

from harness.servers import free_port
from localkit.redis_server import answers
from localkit.stack import redis_for
from services.settings import Settings


def test_a_configured_redis_is_used_and_nothing_embedded_starts(
    redis_url: str, tmp_path: Path
) -> None:
    port = free_port()
    settings = Settings(redis_url=redis_url, var_dir=tmp_path, embedded_redis_port=port)
    with redis_for(settings) as url:
        assert url == redis_url
        assert not answers(f"redis://127.0.0.1:{port}/0")
    assert not list(tmp_path.iterdir())


def test_without_redis_url_an_embedded_server_lives_exactly_as_long_as_the_block(
    tmp_path: Path,
) -> None:
    settings = Settings(var_dir=tmp_path, embedded_redis_port=free_port())
    with redis_for(settings) as url:
        assert answers(url)
    assert not answers(url)
    assert (tmp_path / "appendonly.aof").exists() or (tmp_path / "appendonlydir").exists()
