"""A ZKPoT world for the role tests: the session's anvil, a private IPFS node, a tiny circuit.

The IPFS node is this module's own (its own ports and repository) so that tests may
stop it, restart it, and tamper with its blocks without disturbing anything else.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from zkpot import services
from zkpot.chain import ZKPoTClient
from zkpot.data import Dataset, load_digits, split_holdout
from zkpot.roles import publisher as pub
from zkpot.roles.common import Session
from zkpot.storage import IpfsConfig, IpfsStorage, RetryConfig

TINY = "mlp-64-8-10"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class World:
    """Everything a flow test needs."""

    session: Session
    ipfs: services.Ipfs
    train: Dataset
    pool: Dataset
    state_dir: Path


def tiny_options(**overrides: object) -> pub.TaskOptions:
    """A tiny-circuit task: 8 samples per proof, 2 proofs per round."""
    fields: dict[str, object] = {
        "architecture": TINY,
        "samples_per_proof": 8,
        "chunks_per_round": 2,
        "training": {"epochs": 3.0, "lr": 0.05, "batch_size": 32.0},
    }
    fields.update(overrides)
    return pub.TaskOptions(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
    local_services: services.ServicesConfig,
    shared_zk_dir: Path,
) -> Iterator[World]:
    from ape import accounts

    root = tmp_path_factory.mktemp("world")
    saved = os.environ.get("ZKPOT_STATE_DIR")
    os.environ["ZKPOT_STATE_DIR"] = str(root / "state")
    config = services.ServicesConfig(
        ipfs_api_port=services.free_ports(3), ipfs_swarm_port=services.free_ports(),
        run_dir=root / "run",
    )
    ipfs = services.Ipfs(config)
    ipfs.start()
    storage = IpfsStorage(
        IpfsConfig(
            api_url=config.ipfs_api_url,
            fetch_timeout=5,
            retry=RetryConfig(attempts=2, base_delay=0.1, max_delay=0.2),
        )
    )
    try:
        client = ZKPoTClient.deploy(accounts.test_accounts[0])
        train, pool = split_holdout(load_digits(), 0.3, seed=0)
        yield World(
            session=Session(client=client, storage=storage, zk_dir=shared_zk_dir),
            ipfs=ipfs,
            train=train,
            pool=pool,
            state_dir=root / "state",
        )
    finally:
        storage.close()
        ipfs.stop()
        if saved is None:
            os.environ.pop("ZKPOT_STATE_DIR", None)
        else:
            os.environ["ZKPOT_STATE_DIR"] = saved


def advance_to(timestamp: int) -> None:
    """Mine a block at ``timestamp`` on anvil (crossing a phase deadline)."""
    from ape import chain

    if chain.pending_timestamp < timestamp:
        chain.mine(timestamp=timestamp)
