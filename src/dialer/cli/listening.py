"""The listening sockets of ``dialer serve``, and the check that nobody else has the address.

``--workers N`` spreads connections over N sockets bound with SO_REUSEPORT. That option lets any
later process of the same user join the group, and the kernel would then split requests between
two unrelated servers, even ones on different stores. So before binding, the serving process

1. takes a lock named after the address: an abstract Unix socket (Linux), which the kernel frees
   whenever the process dies, however it dies, and which leaves no file behind;
2. tries a plain bind without SO_REUSEPORT, which fails if anything at all listens there (another
   program, or a dialer started before this check existed).

It then binds all N sockets itself and hands N-1 of them to its copies by file descriptor, so a
copy never binds on its own and cannot join someone else's server.
"""

import errno
import socket
from dataclasses import dataclass, field


class AddressInUse(Exception):
    pass


@dataclass
class Listeners:
    sockets: list[socket.socket]
    _lock: socket.socket | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        port: int = self.sockets[0].getsockname()[1]
        return port

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()
        if self._lock is not None:
            self._lock.close()


def _lock_address(family: int, address: tuple[object, ...]) -> socket.socket:
    lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        lock.bind(f"\0dialer-serve {family} {address[0]} {address[1]}")
    except OSError as exc:
        lock.close()
        if exc.errno == errno.EADDRINUSE:
            raise AddressInUse from exc
        raise
    return lock


def _probe(family: int, address: tuple[object, ...]) -> None:
    """Fail if any socket listens on ``address``. SO_REUSEADDR, so that connections of a server
    that has just stopped (TIME_WAIT) do not count as in use."""
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise AddressInUse from exc
            raise


def _bind(family: int, address: tuple[object, ...]) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)  # as socket.create_server
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def open_listeners(host: str, port: int, count: int) -> Listeners:
    """``count`` sockets listening on ``host:port``; AddressInUse if another server has it.

    OSError for anything else (no such host, a port below 1024 without the right).
    """
    family, _, _, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    lock = None
    if port != 0:  # the kernel's choice of a free port is nobody else's
        lock = _lock_address(family, address)
    sockets: list[socket.socket] = []
    try:
        if port != 0:
            _probe(family, address)
        sockets.append(_bind(family, address))
        # --port 0: the other sockets join the port the kernel chose for the first.
        bound = (address[0], sockets[0].getsockname()[1], *address[2:])
        sockets += [_bind(family, bound) for _ in range(count - 1)]
    except BaseException:
        for sock in sockets:
            sock.close()
        if lock is not None:
            lock.close()
        raise
    return Listeners(sockets, lock)
