"""A loopback TCP proxy a test controls: the RPC node "stops answering" when the test says.

The proxy listens on ``127.0.0.1`` and forwards every connection to one upstream port (an
anvil). It reads the HTTP requests passing through, so a test can cut the link at an exact
point of a command: on the first ``eth_sendRawTransaction``, on the third ``eth_getLogs``.

- :meth:`NetProxy.cut` closes every live connection and stops listening (a client gets
  "connection refused", as from a node that went down); :meth:`NetProxy.restore` listens
  again on the same port.
- :meth:`NetProxy.cut_on` arms a cut for the ``count``-th request whose JSON-RPC method
  (or whole call, given a predicate) matches: before the request reaches the node
  (nothing was sent), or after the node answered but before the reply reaches the client
  (the node acted, the client never heard: the case that tempts a client to send again).
- :meth:`NetProxy.cut_after` cuts once ``n`` requests have been answered.
- :meth:`NetProxy.drop` drops the connection of the next ``times`` matching requests
  without cutting anything else: a short outage a retry should ride over.

Stdlib only (threads); :meth:`NetProxy.stop` closes everything and joins its threads.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

LOOPBACK = "127.0.0.1"

Call = dict[str, Any]
"""One JSON-RPC call as sent: ``{"method": ..., "params": [...], ...}``."""

Match = Callable[[Call], bool]
"""A predicate on one JSON-RPC call (a method name given as a string matches that name)."""


def calls_of(body: bytes) -> list[Call]:
    """The JSON-RPC calls in an HTTP body (a single call or a batch); [] if not JSON."""
    try:
        payload = json.loads(body)
    except ValueError:
        return []
    calls = payload if isinstance(payload, list) else [payload]
    return [c for c in calls if isinstance(c, dict) and "method" in c]


def _matcher(method: str | Match) -> Match:
    return (lambda call: call.get("method") == method) if isinstance(method, str) else method


def _split_request(buffer: bytes) -> tuple[bytes, bytes] | None:
    """The first complete HTTP request in ``buffer`` and the rest, or None if incomplete.

    Requests with a ``Content-Length`` (what JSON-RPC clients send) are parsed; anything
    else is passed on as it comes (``(buffer, b"")``) and never matched.
    """
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    length = None
    for line in buffer[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                return buffer, b""
        elif name.strip().lower() == b"transfer-encoding":
            return buffer, b""
    total = end + 4 + (length or 0)
    if len(buffer) < total:
        return None
    return buffer[:total], buffer[total:]


@dataclass
class _Rule:
    match: Match
    count: int
    after_reply: bool
    drop_only: bool = False
    restore_after: float | None = None
    seen: int = 0


@dataclass
class _Link:
    """One client connection and its upstream connection."""

    client: socket.socket
    upstream: socket.socket
    cut_on_reply: bool = False
    drop_on_reply: bool = False
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class NetProxy:
    """Forward ``127.0.0.1:port`` to ``127.0.0.1:upstream_port`` until the test cuts it."""

    def __init__(self, upstream_port: int, port: int = 0) -> None:
        self.upstream_port = upstream_port
        self.port = port
        self.requests: list[str] = []
        """Every JSON-RPC method forwarded, in order (a batch adds each of its calls)."""
        self.cuts = 0
        """How many times the link was cut (by the test or by an armed rule)."""
        self._lock = threading.Lock()
        self._links: list[_Link] = []
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._rules: list[_Rule] = []
        self._cut_after: int | None = None
        self._restore_after: float | None = None
        self._timers: list[threading.Timer] = []
        self._stopped = False

    # -- control -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The proxy's RPC URL."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def listening(self) -> bool:
        """Whether new connections are accepted (not cut)."""
        return self._listener is not None

    def start(self) -> NetProxy:
        """Listen (on a free port unless one was given) and forward."""
        self._listen()
        return self

    def stop(self) -> None:
        """Close the listener and every connection; join every thread."""
        self._stopped = True
        for timer in self._timers:
            timer.cancel()
        self._close_all()
        for thread in list(self._threads):
            thread.join(timeout=5)
        self._threads.clear()

    def cut(self) -> None:
        """Drop every live connection and refuse new ones until :meth:`restore`."""
        with self._lock:
            self.cuts += 1
            self._rules.clear()
            self._cut_after = None
            restore_after, self._restore_after = self._restore_after, None
        self._close_all()
        if restore_after is not None:
            timer = threading.Timer(restore_after, self.restore)
            timer.daemon = True
            self._timers.append(timer)
            timer.start()

    def restore(self) -> None:
        """Accept connections again, on the same port."""
        if self._listener is None and not self._stopped:
            self._listen()

    def cut_on(
        self,
        method: str | Match,
        *,
        count: int = 1,
        after_reply: bool = False,
        restore_after: float | None = None,
    ) -> None:
        """Cut at the ``count``-th request calling ``method`` (a name or a predicate).

        ``after_reply``: the request reaches the node and the node answers, but the answer is
        dropped (the node acted; the client only sees the link fail). ``restore_after``:
        listen again that many seconds after the cut (a short outage); else the link stays
        cut until :meth:`restore`.
        """
        with self._lock:
            self._rules.append(
                _Rule(_matcher(method), count, after_reply, restore_after=restore_after)
            )

    def cut_after(self, n_requests: int) -> None:
        """Cut once ``n_requests`` more requests have been forwarded (their replies dropped)."""
        with self._lock:
            self._cut_after = len(self.requests) + n_requests

    def drop(self, method: str | Match, *, times: int = 1) -> None:
        """Drop the connection of the next ``times`` requests calling ``method``, unsent.

        Only those connections fail; the proxy keeps accepting (a short outage).
        """
        with self._lock:
            self._rules.append(_Rule(_matcher(method), times, after_reply=False, drop_only=True))

    def calls(self, method: str) -> int:
        """How many requests calling ``method`` were forwarded."""
        with self._lock:
            return sum(1 for name in self.requests if name == method)

    # -- machinery ---------------------------------------------------------------------

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((LOOPBACK, self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._spawn(self._accept, listener)

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _close_all(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            links, self._links = self._links, []
        for link in links:
            link.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed: cut or stopped
            try:
                upstream = socket.create_connection((LOOPBACK, self.upstream_port), timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            link = _Link(client, upstream)
            with self._lock:
                if self._listener is not listener:
                    link.close()
                    return
                self._links.append(link)
            self._spawn(self._client_to_upstream, link)
            self._spawn(self._upstream_to_client, link)

    def _decide(self, calls: list[Call]) -> str:
        """What to do with a request: ``forward``, ``cut``, ``cut-on-reply`` or ``drop``."""
        methods = [str(call["method"]) for call in calls]
        with self._lock:
            action = "forward"
            for rule in list(self._rules):
                hits = sum(1 for call in calls if rule.match(call))
                if not hits:
                    continue
                rule.seen += hits
                if rule.drop_only:
                    action = "drop"
                    if rule.seen >= rule.count:
                        self._rules.remove(rule)
                    break
                if rule.seen >= rule.count:
                    self._rules.remove(rule)
                    self._restore_after = rule.restore_after
                    action = "cut-on-reply" if rule.after_reply else "cut"
                    break
            if action in ("forward", "cut-on-reply"):
                self.requests.extend(methods)
                if self._cut_after is not None and len(self.requests) >= self._cut_after:
                    self._cut_after = None
                    action = "cut-on-reply"
            return action

    def _client_to_upstream(self, link: _Link) -> None:
        buffer = b""
        try:
            while True:
                data = link.client.recv(65536)
                if not data:
                    break
                buffer += data
                while (split := _split_request(buffer)) is not None:
                    request, buffer = split
                    body = request[request.find(b"\r\n\r\n") + 4:]
                    action = self._decide(calls_of(body))
                    if action == "cut":
                        self.cut()
                        return
                    if action == "drop":
                        link.close()
                        return
                    if action == "cut-on-reply":
                        link.cut_on_reply = True
                    link.upstream.sendall(request)
                    if not buffer:
                        break
        except OSError:
            pass
        link.close()

    def _upstream_to_client(self, link: _Link) -> None:
        try:
            while True:
                data = link.upstream.recv(65536)
                if not data:
                    break
                if link.cut_on_reply:
                    self.cut()
                    return
                link.client.sendall(data)
        except OSError:
            pass
        link.close()
