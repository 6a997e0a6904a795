"""The chain and IPFS connection a command works in, refused early when not reachable."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from zkpot import services
from zkpot.cli.options import LOCAL_NETWORK, _insecure_keys, _tx_options
from zkpot.cli.output import _Steps, _verbose
from zkpot.errors import ChainError


def _require_local_chain(network: str) -> None:
    """On the local network, refuse unless `zkpot node up`'s anvil answers."""
    if network == LOCAL_NETWORK and not services.Anvil(services.ServicesConfig()).answers():
        # ape-foundry would start a fresh, empty anvil here: say what is wrong instead.
        raise ChainError(
            f"The local chain at {services.ServicesConfig().rpc_url} is not running",
            "start it with `zkpot node up`",
        )


@contextmanager
def _session(
    network: str, contract: str | None, ipfs_url: str | None, steps: _Steps | None = None,
    srs: Path | None = None,
) -> Iterator[Any]:
    """Connect to the chain and IPFS; yield a :class:`~zkpot.roles.common.Session`.

    ``steps`` is told of long steps (a fetched circuit's downloads, key derivation);
    ``srs``: a public ceremony file the task's keys use but do not publish.
    """
    from zkpot.chain import client_for_network, connect, show_revert_traces
    from zkpot.chain.transactions import policy_from_options
    from zkpot.roles.common import Session

    show_revert_traces(_verbose["on"])
    _require_local_chain(network)
    with _storage(ipfs_url) as storage, connect(network) as provider:
        client, _ = client_for_network(provider, contract)
        client.tx_policy = policy_from_options(
            _tx_options.get("confirmations"), _tx_options.get("max_fee_gwei"),
            _tx_options.get("replace_after"),
        )
        if not provider.get_code(client.address):
            raise ChainError(
                f"No contract is deployed at {client.address} on {network}",
                "deploy with `zkpot deploy` or pass --contract",
            )
        env_srs = os.environ.get("ZKPOT_SRS")
        session = Session(client=client, storage=storage,
                          srs=srs or (Path(env_srs) if env_srs else None),
                          allow_insecure_keys=_insecure_keys["allowed"])
        if steps is not None:
            session.progress, session.meter = steps, steps.meter
        yield session


@contextmanager
def _storage(ipfs_url: str | None) -> Iterator[Any]:
    from zkpot.storage import IpfsConfig, IpfsStorage

    with IpfsStorage(IpfsConfig(api_url=ipfs_url) if ipfs_url else IpfsConfig()) as storage:
        yield storage
