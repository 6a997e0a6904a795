"""The toolchain is real: solc-js through ape, anvil, and the IPFS node."""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

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


def _fresh_config(tmp_path: Path) -> services.ServicesConfig:
    return services.ServicesConfig(
        anvil_port=services.free_ports(), ipfs_api_port=services.free_ports(3),
        ipfs_swarm_port=services.free_ports(), run_dir=tmp_path / "run"
    )


def test_node_up_then_down_leaves_no_process_behind(tmp_path: Path) -> None:
    config = _fresh_config(tmp_path)
    started = services.up(config)
    assert [s.name for s in started] == ["anvil", "ipfs"]
    assert all(s.running and s.owned and s.pid for s in started)
    pids = [s.pid for s in started if s.pid is not None]
    assert services.up(config) == services.status(config)  # a second `up` reuses them
    assert sorted(services.down(config)) == ["anvil", "ipfs"]
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not any(s.running for s in services.status(config))
    assert services.down(config) == []


def test_busy_port_is_one_clear_error(tmp_path: Path) -> None:
    config = _fresh_config(tmp_path)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", config.anvil_port))
        squatter.listen()
        with pytest.raises(services.ServiceError) as failure:
            services.Anvil(config).start()
    sentence = failure.value.sentence()
    assert f"Port {config.anvil_port}" in sentence and "ZKPOT_ANVIL_PORT" in sentence
    assert not (config.run_dir / "anvil.pid").exists()


def test_missing_binary_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zkpot import toolchain

    monkeypatch.setattr(toolchain, "node_bin_dir", lambda: tmp_path / "no-bin")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    with pytest.raises(services.ServiceError) as failure:
        services.Anvil(_fresh_config(tmp_path)).start()
    assert "anvil binary was not found" in failure.value.sentence()
    assert "make setup" in failure.value.sentence()


def test_crashed_service_is_reported_with_its_log(tmp_path: Path) -> None:
    config = _fresh_config(tmp_path)

    class BrokenAnvil(services.Anvil):
        """A service whose binary exits at once (a bad flag), as a crash would."""

        def command(self) -> list[str]:
            return [*super().command(), "--no-such-flag"]

    with pytest.raises(services.ServiceError) as failure:
        BrokenAnvil(config).start()
    assert "exited with code" in failure.value.sentence()
    assert "anvil.log" in failure.value.sentence()
