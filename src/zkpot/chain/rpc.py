"""An RPC node that stops answering: one sentence naming it, and reads that ride over a blip.

web3 and requests report a lost node in many shapes: ``requests.ConnectionError`` (an
``OSError``), ``requests.Timeout``, web3's ``CannotHandleRequest`` (its ``AutoProvider``
found no node on re-discovery), ape's ``ProviderNotConnectedError``, an HTTP 502/503/504
from a gateway. :func:`guard` wraps the connected provider's transport so that every one of
them, on every request (ape's own and web3's), becomes :class:`RpcUnavailable`: a
:class:`~zkpot.errors.ChainError` whose sentence names the node's URL and says to run the
same command again. Requests that only read (everything but sending a transaction) are
first retried :data:`READ_RETRIES` times with a growing pause, so a short outage costs a
few seconds, not the command.

A transaction is never re-sent here: web3's HTTP transport may repeat the *same signed
bytes* (harmless: one nonce, one execution), and whether it reached the node is for the
caller's transaction journal to find out on the next run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from zkpot.errors import ChainError

T = TypeVar("T")

READ_RETRIES = 4
"""Further tries of a read whose node did not answer, before :class:`RpcUnavailable`."""

READ_BACKOFF_S = 0.5
"""Pause before the first retry of a read; doubled before each next one (0.5+1+2+4 s)."""

SENDS = frozenset({"eth_sendRawTransaction", "eth_sendTransaction"})
"""Methods that change the chain: never retried here."""

_GATEWAY_STATUS = frozenset({502, 503, 504})


class RpcUnavailable(ChainError):
    """The RPC node did not answer (refused, dropped or timed out the connection)."""

    exit_code = 75
    """``EX_TEMPFAIL``: a script may run the same command again later."""

    def __init__(self, url: str, method: str, error: BaseException) -> None:
        sending = method in SENDS
        super().__init__(
            f"The RPC node at {url} stopped answering"
            + (" while a transaction was being sent" if sending else f" ({method})")
            + f": {fault_summary(error)}",
            "check the node or your connection and run the same command again once it "
            "answers; what was done is kept"
            + (" and a transaction already sent is found, not sent twice" if sending else ""),
        )
        self.url = url
        self.method = method


def _causes(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def is_connection_fault(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) means the node was not reached or did not reply."""
    import requests
    from ape.exceptions import ProviderNotConnectedError
    from web3.exceptions import CannotHandleRequest, ProviderConnectionError

    for cause in _causes(error):
        if isinstance(cause, RpcUnavailable):
            return True
        if isinstance(cause, requests.HTTPError):
            response = cause.response
            if response is not None and response.status_code in _GATEWAY_STATUS:
                return True
            continue
        if isinstance(
            cause,
            requests.ConnectionError | requests.Timeout | ConnectionError | TimeoutError
            | CannotHandleRequest | ProviderConnectionError | ProviderNotConnectedError,
        ):
            return True
    return False


def lost_node(error: BaseException) -> RpcUnavailable | None:
    """The :class:`RpcUnavailable` behind ``error``, when a library wrapped one in its own.

    (ape turns whatever a call raised into a ``VirtualMachineError`` when it looks for a
    revert, so a node lost during a transaction's check arrives that way.)
    """
    for cause in _causes(error):
        if isinstance(cause, RpcUnavailable):
            return cause
    return None


def fault_summary(error: BaseException) -> str:
    """A few words for what the transport saw (refused, reset, timed out, no node)."""
    import requests

    texts = " ".join(str(c) for c in _causes(error)).lower()
    if any(isinstance(c, requests.Timeout | TimeoutError) for c in _causes(error)):
        return "the request timed out"
    if "refused" in texts:
        return "connection refused"
    if "reset" in texts or "aborted" in texts or "remote end closed" in texts:
        return "the connection was dropped"
    if "could not discover provider" in texts:
        return "no node answers there"
    for cause in _causes(error):
        if isinstance(cause, requests.HTTPError) and cause.response is not None:
            return f"HTTP {cause.response.status_code} from the node"
    return "the connection failed"


def retry_read(
    read: Callable[[], T],
    retries: int = READ_RETRIES,
    backoff_s: float = READ_BACKOFF_S,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``read()``, tried again after a connection fault up to ``retries`` times.

    Anything that is not a connection fault (a revert, a bad argument) is raised at once.
    """
    pause = backoff_s
    for attempt in range(retries + 1):
        try:
            return read()
        except Exception as error:
            if attempt == retries or not is_connection_fault(error):
                raise
        sleep(pause)
        pause *= 2
    raise AssertionError("unreachable")  # pragma: no cover


def provider_url(provider: Any) -> str:
    """The URL requests go to (or the provider's name when it has none)."""
    for attribute in ("http_uri", "uri", "ws_uri", "ipc_path"):
        try:
            value = getattr(provider, attribute, None)
        except Exception:  # noqa: BLE001 - a plugin's property; absent is fine
            value = None
        if value:
            return str(value)
    return str(getattr(provider, "name", "the chain's node"))


def guard(provider: Any) -> None:
    """Route the connected ape ``provider``'s requests through the fault mapping (once).

    The web3 transport object is wrapped in place: ape calls its ``make_request`` directly
    and web3's request manager through a cached function, which is rebuilt here.
    """
    try:
        transport = provider.web3.provider
    except Exception:  # noqa: BLE001 - not a web3-backed provider: nothing to wrap
        return
    if getattr(transport, "_zkpot_guarded", False):
        return
    url = provider_url(provider)
    request = transport.make_request

    def make_request(method: Any, params: Any) -> Any:
        def once() -> Any:
            try:
                return request(method, params)
            except RpcUnavailable:
                raise
            except Exception as error:
                if is_connection_fault(error):
                    raise RpcUnavailable(url, str(method), error) from error
                raise

        return once() if str(method) in SENDS else retry_read(once)

    transport.make_request = make_request
    if hasattr(transport, "make_batch_request"):
        batch = transport.make_batch_request

        def make_batch_request(requests_: Any) -> Any:
            def once() -> Any:
                try:
                    return batch(requests_)
                except Exception as error:
                    if is_connection_fault(error):
                        raise RpcUnavailable(url, "batch", error) from error
                    raise

            return retry_read(once)

        transport.make_batch_request = make_batch_request
    # web3's request manager caches a function bound to the old make_request.
    for cache in ("_request_func_cache", "_batch_request_func_cache"):
        if hasattr(transport, cache):
            setattr(transport, cache, (None, None))
    transport._zkpot_guarded = True
