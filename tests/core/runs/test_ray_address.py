"""Issue 30 item 6: a Ray address is validated and bounded — a bad port or host is one line before Ray is
touched; a port that answers but is not a Ray head is told apart within seconds (no hang)."""

import socket
import threading
import time

import pytest

from core import cli
from core.runs.ray_executor import check_reachable, parse_address


@pytest.mark.parametrize("address", [":abc", "127.0.0.1:-1", "127.0.0.1:0", "127.0.0.1:70000", "http://x:1",
                                     "bad host!:6379", "ray://", "[::1:6379"])
def test_an_unusable_ray_address_is_a_value_error_naming_it(address):
    with pytest.raises(ValueError):
        check_reachable(address)


def test_valid_addresses_are_parsed():
    assert parse_address("127.0.0.1:6379") == ("127.0.0.1", 6379)
    assert parse_address("ray://head.example:10001") == ("head.example", 10001)
    assert parse_address(":6379") == ("127.0.0.1", 6379)
    assert parse_address("auto") is None


def serve(handler):
    """A TCP server on 127.0.0.1 that gives each connection to `handler`; its port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def accept():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handler, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener


def silent(connection):
    time.sleep(30)


def http(connection):
    connection.recv(1024)
    connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    connection.close()


@pytest.mark.parametrize("handler", [silent, http])
def test_a_port_that_answers_but_is_not_a_ray_head_is_refused_within_seconds(handler):
    listener = serve(handler)
    started = time.perf_counter()
    with pytest.raises(ConnectionError, match="not a Ray cluster's head"):
        check_reachable(f"127.0.0.1:{listener.getsockname()[1]}", timeout=2)
    assert time.perf_counter() - started < 5
    listener.close()


@pytest.mark.parametrize("scheme", ["", "ray://"])
def test_a_grpc_server_that_is_not_ray_is_refused_within_seconds(scheme):
    """ray.init on such a server retried for over 4 minutes (Ray 2.60); the probe asks it a Ray call."""
    grpc = pytest.importorskip("grpc")
    from concurrent import futures

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ConnectionError, match="not a Ray cluster's head.*UNIMPLEMENTED"):
            check_reachable(f"{scheme}127.0.0.1:{port}", timeout=5)
    finally:
        server.stop(0)
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize("address", [":abc", "127.0.0.1:-1"])
def test_the_cli_says_a_bad_ray_address_in_one_line_without_rays_traceback(capsys, address):
    pytest.importorskip("ray")
    code = cli.main(["study", "--sizes", "100", "--seeds", "1", "--executor", "ray", "--ray-address", address])
    _, err = capsys.readouterr()
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_the_cli_does_not_hang_on_a_port_that_is_not_ray(capsys):
    pytest.importorskip("ray")
    listener = serve(silent)
    started = time.perf_counter()
    code = cli.main(["study", "--sizes", "100", "--seeds", "1", "--executor", "ray", "--ray-address",
                     f"127.0.0.1:{listener.getsockname()[1]}"])
    _, err = capsys.readouterr()
    assert code == 1 and "not a Ray cluster's head" in err and time.perf_counter() - started < 30
    listener.close()


def test_rays_own_error_is_one_line(monkeypatch):
    ray = pytest.importorskip("ray")
    from core.runs.ray_executor import init_quietly

    def fails(**options):
        raise RuntimeError("first line\n  Traceback-like detail\n  more")

    monkeypatch.setattr(ray, "init", fails)
    with pytest.raises(ConnectionError) as raised:
        init_quietly(address="127.0.0.1:6379")
    assert "\n" not in str(raised.value) and "first line" in str(raised.value)


def test_a_ray_another_thread_is_still_importing_counts_as_not_joined(monkeypatch):
    """Two sessions' studies at once: one thread imports Ray (its module is in sys.modules, half built) while the
    other asks whether this process has joined a cluster. That used to raise AttributeError (no `is_initialized`
    yet); it is "not joined", and the `import ray` that follows waits for the other thread's import."""
    import sys
    import types

    from core.runs.ray_executor import ray_joined

    monkeypatch.setitem(sys.modules, "ray", types.ModuleType("ray"))  # half built: nothing defined yet
    assert ray_joined() is False
    monkeypatch.setattr(sys.modules["ray"], "is_initialized", lambda: True, raising=False)
    assert ray_joined() is True
    monkeypatch.delitem(sys.modules, "ray")
    assert ray_joined() is False
