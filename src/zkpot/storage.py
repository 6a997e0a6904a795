"""Content-addressed storage: a small interface and an IPFS backend (Kubo RPC API).

Every read is checked against its CID before it is returned, so a node (or a
pinning service) that serves the wrong bytes is caught here, never downstream.
Every read also carries a size cap (from :mod:`zkpot.limits`, derived from what the
caller expects the object to be): an object over it is refused before it is read
whole, by its reported size when the node reports one and, whatever the node says,
by stopping the download once the cap is passed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, cast

import httpx

from zkpot import limits
from zkpot.errors import StorageError

OnBytes = Callable[[int], None]
"""Told how many more bytes of a file transfer went through (a progress bar's advance)."""

_Restart = Callable[[], Callable[[bytes], None]]
"""Starts (or restarts) a download's destination; returns the writer of its next bytes."""

RAW_BLOCK_LIMIT: Final = 256 * 1024
"""Largest file an IPFS node stores as one raw block (the default chunk size)."""

_CID_V1: Final = 0x01
_RAW_CODEC: Final = 0x55
_SHA2_256: Final = 0x12


def raw_cid(data: bytes) -> str:
    """The CIDv1 (raw codec, sha2-256, base32) of ``data`` stored as a single block.

    This equals what an IPFS node answers for ``add --cid-version=1`` of a file
    no larger than :data:`RAW_BLOCK_LIMIT`.
    """
    digest = hashlib.sha256(data).digest()
    binary = bytes([_CID_V1, _RAW_CODEC, _SHA2_256, len(digest)]) + digest
    return "b" + base64.b32encode(binary).decode("ascii").rstrip("=").lower()


def _is_raw_v1(cid: str) -> bool:
    # Multibase 'b' = base32 lower; a raw CIDv1 starts with bytes 01 55 12 20,
    # which base32-encode to "afkrei".
    return cid.startswith("bafkrei")


@dataclass(frozen=True)
class RetryConfig:
    """Bounded exponential backoff for transient failures."""

    attempts: int = 4
    """Total tries per request, the first included (at least 1)."""
    base_delay: float = 0.2
    """Seconds before the first retry; doubles after each failure."""
    max_delay: float = 2.0
    """Upper bound of one wait between tries, in seconds."""

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryConfig.attempts must be at least 1")

    def delays(self) -> list[float]:
        """The waits between consecutive tries (``attempts - 1`` of them)."""
        return [min(self.base_delay * 2**i, self.max_delay) for i in range(self.attempts - 1)]


def _default_api_url() -> str:
    from zkpot.services import ServicesConfig

    return ServicesConfig().ipfs_api_url


@dataclass(frozen=True)
class IpfsConfig:
    """How to reach an IPFS node that speaks the Kubo RPC API."""

    api_url: str = field(default_factory=_default_api_url)
    """Base URL of the RPC API, without ``/api/v0`` (default: the local node)."""
    timeout: float = 60.0
    """Seconds one HTTP request may take."""
    fetch_timeout: float = 30.0
    """Seconds the node may search for content it does not have before giving up."""
    retry: RetryConfig = field(default_factory=RetryConfig)
    """Backoff for connection failures and 429/502/503/504 answers."""
    pin: bool = True
    """Pin everything added, so the node's garbage collector keeps it."""


class Storage(ABC):
    """A content-addressed store: bytes in, CID out, and back, verified."""

    @abstractmethod
    def add(self, data: bytes, *, name: str = "blob") -> str:
        """Store ``data`` and return its CID (CIDv1, base32)."""

    @abstractmethod
    def cat(
        self, cid: str, *, max_bytes: int = limits.DEFAULT_READ_CAP, what: str = "single read"
    ) -> bytes:
        """Return the bytes behind ``cid``, at most ``max_bytes`` of them.

        Raise :class:`StorageError` if they do not match the CID, or if the object is
        larger than ``max_bytes`` (refused before it is read whole); ``what`` names
        the expected object in that sentence (e.g. ``test set``).
        """

    @abstractmethod
    def pin(self, cid: str) -> None:
        """Ask the store to keep ``cid`` (idempotent)."""

    def add_json(self, value: Any, *, name: str = "data.json") -> str:
        """Store ``value`` as canonical JSON (sorted keys, compact) and return its CID.

        Canonical encoding means equal values always get equal CIDs.
        """
        return self.add(canonical_json(value), name=name)

    def cat_json(
        self,
        cid: str,
        *,
        max_bytes: int = limits.TASK_DOCUMENT_CAP,
        what: str = "JSON document",
        max_depth: int = limits.MAX_JSON_DEPTH,
    ) -> Any:
        """Fetch ``cid`` (verified, at most ``max_bytes``) and parse it as strict JSON.

        Anything that is not JSON nested at most ``max_depth`` deep is a
        :class:`StorageError`.
        """
        return parse_json(
            self.cat(cid, max_bytes=max_bytes, what=what), cid, what=what, max_depth=max_depth
        )


def parse_json(
    data: bytes, cid: str, *, what: str = "JSON document", max_depth: int = limits.MAX_JSON_DEPTH
) -> Any:
    """Parse the bytes of IPFS object ``cid`` as strict JSON; only :class:`StorageError` escapes."""
    return limits.loads_bounded(
        data,
        StorageError,
        f"{what} at IPFS object {cid}",
        max_depth=max_depth,
        hint="check that the CID names a JSON document",
    )


_CID_TEXT: Final = re.compile(r"[A-Za-z0-9]{1,256}")


def check_cid(cid: object) -> str:
    """Return ``cid`` if it can be a CID (1-256 base-encoding characters), else refuse it.

    CIDs come from the chain, where anyone may write any string; one that is not even
    shaped like a CID is refused here, before it reaches a URL.
    """
    if not isinstance(cid, str) or not _CID_TEXT.fullmatch(cid):
        shown = repr(cid) if len(repr(cid)) <= 60 else repr(cid)[:57] + "..."
        raise StorageError(f"{shown} is not an IPFS CID", "check the CID recorded on chain")
    return cid


def canonical_json(value: Any) -> bytes:
    """JSON with sorted keys and no whitespace, UTF-8: one encoding per value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


_TRANSIENT_STATUS: Final = frozenset({429, 502, 503, 504})


class IpfsStorage(Storage):
    """:class:`Storage` over the Kubo-compatible HTTP RPC API (Kubo, js-ipfs, pinning services).

    Adds use CIDv1 with raw leaves; every ``cat`` verifies content against the CID
    (locally for a single raw block, by re-hashing on the node with ``only-hash``
    for larger DAGs).
    """

    def __init__(
        self, config: IpfsConfig | None = None, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        """Connect to the node in ``config``; ``transport`` replaces httpx's (e.g. to meter it)."""
        self.config = config or IpfsConfig()
        self._client = httpx.Client(
            base_url=self.config.api_url.rstrip("/") + "/api/v0",
            timeout=self.config.timeout,
            transport=transport,
        )

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._client.close()

    def __enter__(self) -> IpfsStorage:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------

    def _unreachable(self) -> StorageError:
        return StorageError(
            f"IPFS node at {self.config.api_url} is not reachable",
            "start it with `zkpot node up` or set --ipfs-url",
        )

    def _transport_error(self, command: str, exc: httpx.TransportError) -> StorageError:
        if isinstance(exc, httpx.TimeoutException):
            return StorageError(
                f"IPFS node at {self.config.api_url} did not answer `{command}` "
                f"within {self.config.timeout:.0f} s",
                "check the node's health with `zkpot node status`",
            )
        if isinstance(exc, httpx.ConnectError):
            return self._unreachable()
        return StorageError(
            f"IPFS node at {self.config.api_url} dropped the connection during "
            f"`{command}` ({type(exc).__name__})",
            "check the node's health with `zkpot node status` and retry",
        )

    def _post(
        self,
        command: str,
        params: dict[str, str],
        *,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """POST one RPC command, retrying transient failures; return a 200 answer."""
        delays = self.config.retry.delays()
        for attempt in range(len(delays) + 1):
            try:
                response = self._client.post(
                    f"/{command}",
                    params=params,
                    files=files,
                    timeout=timeout if timeout is not None else self.config.timeout,
                )
            except httpx.TransportError as exc:
                if attempt < len(delays):
                    time.sleep(delays[attempt])
                    continue
                raise self._transport_error(command, exc) from exc
            if response.status_code in _TRANSIENT_STATUS and attempt < len(delays):
                time.sleep(delays[attempt])
                continue
            if response.status_code != 200:
                raise StorageError(
                    f"IPFS node at {self.config.api_url} refused `{command}` "
                    f"(HTTP {response.status_code}: {_error_message(response)})",
                    "check the CID and the node's log",
                )
            return response
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _add_params(self, *, only_hash: bool, cid_version: int = 1) -> dict[str, str]:
        params = {
            "cid-version": str(cid_version),
            "cid-base": "base32" if cid_version == 1 else "base58btc",
            "hash": "sha2-256",
            "pin": "true" if self.config.pin and not only_hash else "false",
            "only-hash": "true" if only_hash else "false",
            "quieter": "true",
        }
        if cid_version == 1:
            params["raw-leaves"] = "true"
        return params

    def _add(self, data: bytes, *, name: str, only_hash: bool, cid_version: int = 1) -> str:
        # js-ipfs answers HTTP 500 to a multipart part without a Content-Type.
        files = {"file": (name, data, "application/octet-stream")}
        response = self._post(
            "add", self._add_params(only_hash=only_hash, cid_version=cid_version), files=files
        )
        return self._added_cid(response)

    def _added_cid(self, response: httpx.Response) -> str:
        """The CID in an ``add`` answer (some nodes stream one JSON object per line)."""
        lines = [line for line in response.text.splitlines() if line.strip()]
        try:
            return str(json.loads(lines[-1])["Hash"])
        except (IndexError, KeyError, json.JSONDecodeError) as exc:
            raise StorageError(
                f"IPFS node at {self.config.api_url} gave an unreadable answer to `add`",
                "check that the URL points at a Kubo-compatible RPC API",
            ) from exc

    # -- Storage -----------------------------------------------------------------

    def add(self, data: bytes, *, name: str = "blob") -> str:
        """Store ``data`` (pinned unless configured otherwise); return its CIDv1."""
        cid = self._add(data, name=name, only_hash=False)
        if len(data) <= RAW_BLOCK_LIMIT and cid != raw_cid(data):
            raise StorageError(
                f"IPFS node at {self.config.api_url} returned CID {cid} for content whose "
                f"CID is {raw_cid(data)}",
                "use a node that supports CIDv1 with raw leaves",
            )
        return cid

    def cid_of(self, data: bytes) -> str:
        """The CID ``add`` would return for ``data``, without storing it (``only-hash``)."""
        if len(data) <= RAW_BLOCK_LIMIT:
            return raw_cid(data)
        return self._add(data, name="blob", only_hash=True)

    def cat(
        self, cid: str, *, max_bytes: int = limits.DEFAULT_READ_CAP, what: str = "single read"
    ) -> bytes:
        """Fetch ``cid`` (at most ``max_bytes``) and check the bytes against it.

        The node's reported size is checked first (``files/stat``: only the root block
        is read); the download itself asks the node for at most ``max_bytes + 1`` bytes
        and stops as soon as more than ``max_bytes`` have arrived, so a node that
        misreports the size still cannot make this read more than the cap.
        """
        parts: list[bytes] = []

        def restart() -> Callable[[bytes], None]:
            parts.clear()
            return parts.append

        self._cat_into(cid, max_bytes=max_bytes, what=what, restart=restart)
        data = b"".join(parts)
        self.verify(cid, data)
        return data

    def _cat_into(
        self, cid: str, *, max_bytes: int, what: str, restart: _Restart,
        on_size: Callable[[int | None], None] | None = None,
    ) -> int:
        """Stream ``cid`` (capped, as :meth:`cat` says) into the writer ``restart`` gives.

        ``restart`` is called before each try and returns where the bytes go (emptied);
        ``on_size`` is told the node's reported size before the download. Returns the
        number of bytes received; the content is not checked against the CID here.
        """
        if max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        check_cid(cid)
        size = self._reported_size(cid)
        if size is not None and size > max_bytes:
            raise self._too_large(cid, what, max_bytes, f"reports {size:,} bytes")
        if on_size is not None:
            on_size(size)
        try:
            received = self._download(
                "cat",
                {
                    "arg": cid,
                    "length": str(max_bytes + 1),
                    "timeout": f"{self.config.fetch_timeout:g}s",
                },
                max_bytes=max_bytes,
                timeout=self.config.fetch_timeout + self.config.timeout,
                restart=restart,
            )
        except StorageError as exc:
            if "timed out" in exc.message or "not found" in exc.message:
                raise self._not_found(cid) from exc
            raise
        if received is None:
            raise self._too_large(cid, what, max_bytes, "sent more")
        return received

    def size(self, cid: str) -> int | None:
        """The object's size in bytes as the node reports it, or ``None`` if it cannot say."""
        return self._reported_size(cid)

    def _reported_size(self, cid: str) -> int | None:
        try:
            response = self._post(
                "files/stat",
                {"arg": f"/ipfs/{cid}", "timeout": f"{self.config.fetch_timeout:g}s"},
                timeout=self.config.fetch_timeout + self.config.timeout,
            )
        except StorageError as exc:
            if "timed out" in exc.message or "not found" in exc.message:
                raise self._not_found(cid) from exc
            # A node without files/stat, or a CID it cannot parse: the capped
            # download below still holds the limit (and reports a bad CID).
            return None
        try:
            size = json.loads(response.content[: 64 * 1024])["Size"]
        except (ValueError, KeyError, TypeError):
            return None
        return size if isinstance(size, int) and size >= 0 else None

    def _not_found(self, cid: str) -> StorageError:
        return StorageError(
            f"IPFS node at {self.config.api_url} could not find {cid} "
            f"within {self.config.fetch_timeout:g} s",
            "check the CID, or connect the node to one that holds it",
        )

    @staticmethod
    def _too_large(cid: str, what: str, max_bytes: int, detail: str) -> StorageError:
        return StorageError(
            f"IPFS object {cid} is larger than the {max_bytes:,} bytes a {what} may take "
            f"(the node {detail}); refused without reading it",
            "check the CID: it does not name what the task expects here",
        )

    def _download(
        self, command: str, params: dict[str, str], *, max_bytes: int, timeout: float,
        restart: _Restart,
    ) -> int | None:
        """Stream one RPC answer's body; its size, or ``None`` once it passes ``max_bytes``.

        The body goes to the writer ``restart()`` returns, asked anew before each try.
        Retries like :meth:`_post`; the connection is closed as soon as the cap is passed.
        """
        delays = self.config.retry.delays()
        for attempt in range(len(delays) + 1):
            try:
                with self._client.stream(
                    "POST", f"/{command}", params=params, timeout=timeout
                ) as response:
                    if response.status_code in _TRANSIENT_STATUS and attempt < len(delays):
                        time.sleep(delays[attempt])
                        continue
                    if response.status_code != 200:
                        body = _read_some(response, 64 * 1024)
                        raise StorageError(
                            f"IPFS node at {self.config.api_url} refused `{command}` "
                            f"(HTTP {response.status_code}: {_error_text(body)})",
                            "check the CID and the node's log",
                        )
                    write = restart()
                    received = 0
                    for part in response.iter_bytes():
                        received += len(part)
                        if received > max_bytes:
                            return None
                        write(part)
                    return received
            except httpx.TransportError as exc:
                if attempt < len(delays):
                    time.sleep(delays[attempt])
                    continue
                raise self._transport_error(command, exc) from exc
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def verify(self, cid: str, data: bytes) -> None:
        """Raise :class:`StorageError` unless ``data`` is the content named by ``cid``.

        A raw single-block CID is recomputed locally. Any other CID (a dag-pb file
        root, CIDv0) is recomputed by the node with ``only-hash``, which matches only
        when the object was added with the same chunking and leaf settings used here.
        """
        if _is_raw_v1(cid):
            actual = raw_cid(data)
        elif cid.startswith("Qm"):
            actual = self._add(data, name="verify", only_hash=True, cid_version=0)
        else:
            actual = self._add(data, name="verify", only_hash=True)
        if actual != cid:
            raise StorageError(
                f"IPFS returned content for {cid} that hashes to {actual}",
                "the node or the object is corrupt; fetch it from another node",
            )

    # -- files: streamed, never held whole in memory ---------------------------------

    def add_file(self, path: Path, *, on_bytes: OnBytes | None = None) -> str:
        """Store the file at ``path`` (streamed, pinned as configured); return its CIDv1."""
        with path.open("rb") as handle:
            return self._add_stream(handle, name=path.name, only_hash=False, on_bytes=on_bytes)

    def file_cid(self, path: Path, *, on_bytes: OnBytes | None = None) -> str:
        """The CID ``add_file`` would return for ``path``, without storing it."""
        if path.stat().st_size <= RAW_BLOCK_LIMIT:
            return raw_cid(path.read_bytes())
        with path.open("rb") as handle:
            return self._add_stream(handle, name="verify", only_hash=True, on_bytes=on_bytes)

    def _add_stream(self, handle: IO[bytes], *, name: str, only_hash: bool,
                    on_bytes: OnBytes | None) -> str:
        reader = _MeteredReader(handle, on_bytes)
        # One try only: a half-read stream cannot be sent again.
        try:
            response = self._client.post(
                "/add", params=self._add_params(only_hash=only_hash),
                files={"file": (name, cast(IO[bytes], reader), "application/octet-stream")},
                timeout=None,
            )
        except httpx.TransportError as exc:
            raise self._transport_error("add", exc) from exc
        if response.status_code != 200:
            raise StorageError(
                f"IPFS node at {self.config.api_url} refused `add` "
                f"(HTTP {response.status_code}: {_error_message(response)})",
                "check the node's log and free disk space",
            )
        return self._added_cid(response)

    def cat_to_file(
        self, cid: str, destination: Path, *, max_bytes: int, what: str,
        on_size: Callable[[int | None], OnBytes | None] | None = None,
    ) -> int:
        """Stream ``cid`` into ``destination`` (capped as :meth:`cat`), checked against the CID.

        The bytes land in ``<destination>.part`` first and replace ``destination`` only
        once they match the CID, so a failed or forged download leaves nothing behind.
        ``on_size`` is told the node's reported size first and may return a progress
        callback for the bytes as they arrive. Returns the size.
        """
        partial = destination.with_name(destination.name + ".part")
        destination.parent.mkdir(parents=True, exist_ok=True)
        advance: list[OnBytes | None] = [None]

        def sized(size: int | None) -> None:
            if on_size is not None:
                advance[0] = on_size(size)

        try:
            with partial.open("wb") as out:

                def write(part: bytes) -> None:
                    out.write(part)
                    if advance[0] is not None:
                        advance[0](len(part))

                def restart() -> Callable[[bytes], None]:
                    out.seek(0)
                    out.truncate()
                    return write

                received = self._cat_into(cid, max_bytes=max_bytes, what=what,
                                          restart=restart, on_size=sized)
            actual = self.file_cid(partial)
            if actual != cid:
                raise StorageError(
                    f"IPFS returned content for {cid} that hashes to {actual}",
                    "the node or the object is corrupt; fetch it from another node",
                )
            partial.replace(destination)
            return received
        finally:
            partial.unlink(missing_ok=True)

    def pin(self, cid: str) -> None:
        """Pin ``cid`` on the node (a no-op if it already is)."""
        self._post(
            "pin/add",
            {"arg": cid, "cid-base": "base32", "timeout": f"{self.config.fetch_timeout:g}s"},
            timeout=self.config.fetch_timeout + self.config.timeout,
        )

    # -- swarm ---------------------------------------------------------------------

    def swarm_addresses(self) -> list[str]:
        """The node's swarm multiaddrs, each ending in ``/p2p/<peer id>`` (``id``)."""
        response = self._post("id", {})
        try:
            data = json.loads(response.content[: 1024 * 1024])
            peer, addresses = str(data["ID"]), [str(a) for a in data.get("Addresses") or []]
        except (ValueError, KeyError, TypeError) as exc:
            raise StorageError(
                f"IPFS node at {self.config.api_url} gave an unreadable answer to `id`",
                "check that the URL points at a Kubo-compatible RPC API",
            ) from exc
        if not addresses:  # js-ipfs announces no loopback address; its listeners are local
            local = self._post("swarm/addrs/local", {})
            try:
                addresses = [str(a) for a in json.loads(local.content[: 1024 * 1024])["Strings"]]
            except (ValueError, KeyError, TypeError):
                addresses = []
        return [a if "/p2p/" in a else f"{a}/p2p/{peer}" for a in addresses]

    def connect(self, address: str) -> None:
        """Connect the node to the peer at ``address`` (a multiaddr with ``/p2p/<id>``)."""
        if not re.fullmatch(r"/[A-Za-z0-9/._:-]+/p2p/[A-Za-z0-9]+", address):
            raise StorageError(f"{address[:100]!r} is not a peer multiaddr",
                               "pass one that `zkpot node id` printed on the other node")
        try:
            self._post("swarm/connect", {"arg": address})
        except StorageError as exc:
            if "offline" in exc.message.lower():
                raise StorageError(
                    f"IPFS node at {self.config.api_url} is offline and cannot connect to peers",
                    "restart it with `ZKPOT_IPFS_SWARM=1 zkpot node up`",
                ) from exc
            raise

    def is_pinned(self, cid: str) -> bool:
        """Whether the node holds a pin on ``cid``."""
        try:
            response = self._post("pin/ls", {"arg": cid, "cid-base": "base32"})
        except StorageError as exc:
            if "not pinned" in exc.message:
                return False
            raise
        return cid in response.text


class _MeteredReader:
    """A binary file for httpx's multipart upload that reports each chunk read."""

    def __init__(self, handle: IO[bytes], on_bytes: OnBytes | None) -> None:
        self._handle = handle
        self._on_bytes = on_bytes

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        if data and self._on_bytes is not None:
            self._on_bytes(len(data))
        return data


def _read_some(response: httpx.Response, limit: int) -> bytes:
    """At most ``limit`` bytes of a streamed answer's body (an error message)."""
    parts: list[bytes] = []
    received = 0
    for part in response.iter_bytes():
        parts.append(part)
        received += len(part)
        if received >= limit:
            break
    return b"".join(parts)[:limit]


def _error_text(body: bytes) -> str:
    try:
        return str(json.loads(body).get("Message", body.decode("utf-8", "replace")))[:200]
    except (ValueError, AttributeError):
        return body.decode("utf-8", "replace")[:200]


def _error_message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("Message", response.text))[:200]
    except (ValueError, AttributeError):
        return response.text[:200]
