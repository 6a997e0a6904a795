"""The toolchain is real: solc-js through ape, anvil, and the IPFS node."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from ape import accounts, project, reverts

from zkpot import services


def test_compiled_contract_runs_on_anvil(local_services: services.ServicesConfig) -> None:
    owner, other = accounts.test_accounts[0], accounts.test_accounts[1]
    counter = owner.deploy(project.Counter)
    receipt = counter.increment(sender=owner)
    assert counter.count() == 1
    events = receipt.events.filter(counter.Incremented)
    assert [(e.by, e.count) for e in events] == [(owner.address, 1)]
    with reverts(counter.OwnableUnauthorizedAccount, account=other.address):
        counter.increment(sender=other)
    from ape import chain

    assert chain.chain_id == 31337
    assert chain.provider.uri == local_services.rpc_url


def test_ipfs_add_and_cat_round_trip_with_cid(local_services: services.ServicesConfig) -> None:
    payload = b"zkpot toolchain check " + hashlib.sha256(b"seed").digest()
    api = f"{local_services.ipfs_api_url}/api/v0"
    added = httpx.post(
        f"{api}/add",
        params={"cid-version": 1, "cid-base": "base32", "raw-leaves": "true"},
        files={"file": ("blob", payload, "application/octet-stream")},
        timeout=30,
    ).json()
    cid = added["Hash"]
    # A single raw block: CIDv1 = base32("b") of 0x01 0x55 (raw) 0x12 0x20 sha256.
    import base64

    digest = hashlib.sha256(payload).digest()
    prefix = bytes([0x01, 0x55, 0x12, 0x20])
    expected = "b" + base64.b32encode(prefix + digest).decode().lower().rstrip("=")
    assert cid == expected
    fetched = httpx.post(f"{api}/cat", params={"arg": cid}, timeout=30).content
    assert fetched == payload


def test_services_refuse_non_loopback_bind() -> None:
    with pytest.raises(services.ServiceError):
        services.ServicesConfig(host="0.0.0.0")
