"""`aap serve --workers N` shares one listening socket between its processes: the connections it
accepts send their answers at once (TCP_NODELAY), as a single process's do. Without it, a response
written in two parts waited for the client's delayed acknowledgement, about 40 ms per request."""

import socket

import uvicorn

from aap.serving import SocketConfig


def _accepted_nodelay(config: uvicorn.Config) -> int:
    listening = config.bind_socket()
    listening.listen()  # as each worker's event loop does with it
    try:
        client = socket.create_connection(listening.getsockname()[:2])
        accepted, _ = listening.accept()
        with client, accepted:
            return int(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0)
    finally:
        listening.close()


def test_the_shared_socket_of_several_workers_accepts_connections_that_send_without_delay() -> None:
    config = SocketConfig("aap.main:app", host="127.0.0.1", port=0, workers=2)
    assert _accepted_nodelay(config) == 1


def test_uvicorn_alone_would_leave_the_delay_on() -> None:
    """What `SocketConfig` mends: uvicorn's own socket for several workers (if uvicorn sets the option
    itself one day, this fails and `SocketConfig` can go)."""
    plain = uvicorn.Config("aap.main:app", host="127.0.0.1", port=0, workers=2)
    assert _accepted_nodelay(plain) == 0
