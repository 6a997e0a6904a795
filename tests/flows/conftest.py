"""A ZKPoT world for the role tests: the session's anvil and IPFS node, a tiny circuit.

A module whose tests stop, restart or tamper with the IPFS node's blocks sets
``WORLD_OWN_IPFS = True`` and gets a node of its own (its own ports and repository), so
that nothing else is disturbed; the others share the session's node (content-addressed:
a module only ever asks for what it added), which saves a node start per module.
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


OWN_IPFS = "WORLD_OWN_IPFS"
"""The module attribute that asks for an IPFS node of the module's own."""


@pytest.fixture(scope="module")
def world(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    local_services: services.ServicesConfig,
    shared_zk_dir: Path,
) -> Iterator[World]:
    from ape import accounts

    root = tmp_path_factory.mktemp("world")
    saved = os.environ.get("ZKPOT_STATE_DIR")
    os.environ["ZKPOT_STATE_DIR"] = str(root / "state")
    own = bool(getattr(request.module, OWN_IPFS, False))
    if own:
        config = services.ServicesConfig(
            ipfs_api_port=services.free_ports(3), ipfs_swarm_port=services.free_ports(),
            run_dir=root / "run",
        )
    else:
        config = local_services
    ipfs = services.Ipfs(config)
    if own:
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
        if own:
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
