"""IpfsStorage against the real local IPFS node (the session's service)."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from zkpot.errors import StorageError
from zkpot.services import ServicesConfig
from zkpot.storage import RAW_BLOCK_LIMIT, IpfsConfig, IpfsStorage, RetryConfig, raw_cid


@pytest.fixture
def ipfs(local_services: ServicesConfig) -> Iterator[IpfsStorage]:
    with IpfsStorage(IpfsConfig(api_url=local_services.ipfs_api_url, fetch_timeout=2)) as store:
        yield store


def _multihash_file(api_url: str, content: bytes) -> Path:
    import base64
    import hashlib

    repo = Path(httpx.post(f"{api_url}/api/v0/repo/stat").json()["RepoPath"])
    name = base64.b32encode(b"\x12\x20" + hashlib.sha256(content).digest()).decode().rstrip("=")
    matches = list((repo / "blocks").glob(f"*/{name}.data"))
    assert len(matches) == 1, f"block of the content not found under {repo}"
    return matches[0]


def test_add_returns_cidv1_raw_that_matches_local_hash(ipfs: IpfsStorage) -> None:
    data = os.urandom(1000)
    cid = ipfs.add(data)
    assert cid == raw_cid(data) and cid.startswith("bafkrei")
    assert ipfs.cat(cid) == data
    assert ipfs.add(data) == cid  # content addressing: same bytes, same CID


def test_large_file_round_trips_through_dag_pb_and_is_verified(ipfs: IpfsStorage) -> None:
    data = os.urandom(RAW_BLOCK_LIMIT * 2 + 123)
    cid = ipfs.add(data)
    assert cid.startswith("bafy")  # a dag-pb root over raw leaves
    assert ipfs.cat(cid) == data


def test_json_is_canonical_and_round_trips(ipfs: IpfsStorage) -> None:
    value = {
        "round": 3,
        "cids": ["a", "b"],
        "nested": {"z": 1, "a": None},
        "n": os.urandom(4).hex(),
    }
    cid = ipfs.add_json(value)
    reordered = dict(reversed(list(value.items())))
    assert ipfs.add_json(reordered) == cid
    assert ipfs.cat_json(cid) == value
    text_cid = ipfs.add(b"not json {")
    with pytest.raises(StorageError, match="not valid JSON"):
        ipfs.cat_json(text_cid)


def test_pin_is_recorded_by_the_node(local_services: ServicesConfig) -> None:
    with IpfsStorage(IpfsConfig(api_url=local_services.ipfs_api_url, pin=False)) as store:
        cid = store.add(os.urandom(64))
        assert not store.is_pinned(cid)
        store.pin(cid)
        store.pin(cid)  # idempotent
        assert store.is_pinned(cid)
    with IpfsStorage(IpfsConfig(api_url=local_services.ipfs_api_url)) as pinning:
        assert pinning.is_pinned(pinning.add(os.urandom(64)))


def test_cat_refuses_a_tampered_raw_block_in_the_nodes_repo(
    ipfs: IpfsStorage, local_services: ServicesConfig
) -> None:
    data = b"model-bytes-" + os.urandom(32)
    cid = ipfs.add(data)
    # Corrupt the block on the node's disk: the node serves it without checking.
    _multihash_file(local_services.ipfs_api_url, data).write_bytes(b"X" * len(data))
    served = httpx.post(f"{local_services.ipfs_api_url}/api/v0/cat", params={"arg": cid}).content
    assert served == b"X" * len(data)  # the node really does serve the wrong bytes
    with pytest.raises(StorageError, match=f"IPFS returned content for {cid} that hashes to"):
        ipfs.cat(cid)


def test_cat_refuses_a_tampered_leaf_of_a_large_file(
    ipfs: IpfsStorage, local_services: ServicesConfig
) -> None:
    data = os.urandom(RAW_BLOCK_LIMIT * 2)
    cid = ipfs.add(data)
    leaf = data[:RAW_BLOCK_LIMIT]
    path = _multihash_file(local_services.ipfs_api_url, leaf)
    path.write_bytes(bytes([leaf[0] ^ 1]) + leaf[1:])
    with pytest.raises(StorageError, match="hashes to"):
        ipfs.cat(cid)


def test_cat_of_unknown_cid_says_it_was_not_found(ipfs: IpfsStorage) -> None:
    missing = raw_cid(b"never added " + os.urandom(16))
    with pytest.raises(StorageError, match=f"could not find {missing}"):
        ipfs.cat(missing)


def test_invalid_cid_is_a_storage_error(ipfs: IpfsStorage) -> None:
    with pytest.raises(StorageError, match="refused `cat`"):
        ipfs.cat("notacid")
    for shaped_wrong in ("not-a-cid", "b" * 257, "", "../../etc/passwd"):
        with pytest.raises(StorageError, match="is not an IPFS CID"):
            ipfs.cat(shaped_wrong)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_node_gives_one_clear_sentence() -> None:
    port = _closed_port()
    store = IpfsStorage(
        IpfsConfig(
            api_url=f"http://127.0.0.1:{port}", retry=RetryConfig(attempts=3, base_delay=0.01)
        )
    )
    with pytest.raises(StorageError) as info:
        store.add(b"x")
    assert info.value.sentence() == (
        f"IPFS node at http://127.0.0.1:{port} is not reachable; "
        "start it with `zkpot node up` or set --ipfs-url."
    )


def test_add_retries_until_the_node_becomes_reachable(local_services: ServicesConfig) -> None:
    # A port that refuses connections at first; after a moment a plain TCP relay to the
    # real node starts listening there, as when `zkpot node up` finishes starting.
    port = _closed_port()
    target = ("127.0.0.1", local_services.ipfs_api_port)
    stop = threading.Event()

    def relay() -> None:
        stop.wait(0.3)
        with socket.create_server(("127.0.0.1", port)) as server:
            server.settimeout(0.1)
            while not stop.is_set():
                try:
                    client, _ = server.accept()
                except TimeoutError:
                    continue
                upstream = socket.create_connection(target)
                for a, b in ((client, upstream), (upstream, client)):
                    threading.Thread(target=_pump, args=(a, b), daemon=True).start()

    thread = threading.Thread(target=relay, daemon=True)
    thread.start()
    try:
        store = IpfsStorage(
            IpfsConfig(
                api_url=f"http://127.0.0.1:{port}",
                retry=RetryConfig(attempts=8, base_delay=0.1, max_delay=1.0),
            )
        )
        data = os.urandom(100)
        assert store.add(data) == raw_cid(data)
    finally:
        stop.set()
        thread.join(5)


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while chunk := src.recv(65536):
            dst.sendall(chunk)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


def test_retry_delays_grow_exponentially_and_are_bounded() -> None:
    assert RetryConfig(attempts=5, base_delay=0.5, max_delay=3.0).delays() == [0.5, 1.0, 2.0, 3.0]
    assert RetryConfig(attempts=1).delays() == []
    with pytest.raises(ValueError):
        RetryConfig(attempts=0)


def test_add_retries_past_a_fake_busy_gateway_then_reaches_the_real_node(
    local_services: ServicesConfig,
) -> None:
    # A pinning gateway answering 503 under load cannot be caused on the local node, so
    # this fake gateway answers 503 twice, then relays requests to the real node.
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    answers: list[int] = []

    class Gateway(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if len(answers) < 2:
                answers.append(503)
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            reply = httpx.post(
                local_services.ipfs_api_url + self.path,
                content=body,
                headers={k: v for k, v in self.headers.items() if k.lower() == "content-type"},
            )
            answers.append(reply.status_code)
            self.send_response(reply.status_code)
            self.send_header("Content-Length", str(len(reply.content)))
            self.end_headers()
            self.wfile.write(reply.content)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        store = IpfsStorage(IpfsConfig(api_url=url, retry=RetryConfig(attempts=4, base_delay=0.05)))
        data = os.urandom(50)
        assert store.add(data) == raw_cid(data)
        assert answers == [503, 503, 200]
        answers.clear()
        answers.extend([200, 200])  # the gateway is healthy from now on
        few = IpfsStorage(IpfsConfig(api_url=url, retry=RetryConfig(attempts=1)))
        assert few.cat(raw_cid(data)) == data
    finally:
        server.shutdown()
        thread.join(5)
