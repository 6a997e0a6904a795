"""Connecting to a network through ape: URLs, chain ids, refusing public RPCs, revert display."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from zkpot import toolchain
from zkpot.chain import rpc
from zkpot.chain.client import ZKPoTClient
from zkpot.chain.deployments import Deployment, load_deployment, network_file_stem
from zkpot.errors import ChainError


def _harden_revert_trace_display() -> None:
    """Make ape's call-trace printout on a revert unable to hide the revert itself.

    ape-foundry prints the call trace of every reverted transaction and decodes each
    sub-call's return data by its ABI. EZKL's generated verifier returns raw words that
    do not match its declared ``(bool, bytes32, int256[])``, so the printout raises
    ``InvalidPointer`` and the contract's custom error is lost. A failing printout is
    now skipped; the revert is reported as usual.
    """
    from ape_ethereum.trace import Trace

    if getattr(Trace.show, "_zkpot_hardened", False):
        return
    original = Trace.show

    def show(self: Any, *args: Any, **kwargs: Any) -> None:
        if not _revert_traces["show"]:
            return
        try:
            original(self, *args, **kwargs)
        except Exception:  # noqa: BLE001 - display only; the revert is raised by the caller
            return

    show._zkpot_hardened = True  # type: ignore[attr-defined]
    Trace.show = show  # type: ignore[method-assign]


_revert_traces = {"show": True}


def show_revert_traces(enabled: bool) -> None:
    """Whether ape prints a reverted transaction's call trace (stdout) before the error.

    On by default for library use; the CLI turns it off unless ``--verbose``, so a revert
    reads as the one-sentence :class:`ChainError` alone.
    """
    _revert_traces["show"] = enabled


_harden_revert_trace_display()


def _first_line(error: BaseException) -> str:
    """The first line of an error's message, without ape's trailing "Options:" list."""
    text = str(error).strip().splitlines()
    line = text[0] if text else type(error).__name__
    return line.removesuffix(":").removesuffix(" Options").rstrip(".:")


def _provider_uri(provider: Any) -> str | None:
    """The RPC URL a provider is configured with, without letting ape look one up."""
    for attribute in ("_configured_rpc", "_connected_uri"):
        try:
            value = getattr(provider, attribute, None)
        except Exception:  # noqa: BLE001 - a property of a plugin; absent is fine
            value = None
        if isinstance(value, str) and value:
            return value
    return None


def refuse_unconfigured_network(provider: Any, network: str) -> None:
    """Raise :class:`ChainError` if ``provider`` would pick a random public RPC.

    ape's node provider, given a live network (sepolia, mainnet, ...) without a
    configured URI and without ``WEB3_PROVIDER_URI``, tries up to ten public endpoints
    from ``evmchains``: zkpot never signs through an RPC the user did not choose.
    """
    import os

    from ape_ethereum.provider import EthereumNodeProvider

    if (
        isinstance(provider, EthereumNodeProvider)
        and not provider.network.is_dev
        and _provider_uri(provider) is None
        and not os.environ.get("WEB3_PROVIDER_URI")
    ):
        eco, net = provider.network.ecosystem.name, provider.network.name
        raise ChainError(
            f"Network {network} has no RPC URL configured",
            f"set `node: {eco}: {net}: uri: <URL>` in ape-config.yaml "
            f"or pass --network {eco}:{net}:<URL>",
        )


def pin_ape_project() -> None:
    """Make ape's project (contract types, ``ape-config.yaml``) the checkout's, from any cwd.

    ape builds its local project once, from the working directory of its first use; a
    participant running ``zkpot`` from its own working directory would otherwise get an
    empty project. The directory is switched only for that first use.
    """
    here = Path.cwd()
    os.chdir(toolchain.repo_root())
    try:
        from ape.utils.basemodel import ManagerAccessMixin

        ManagerAccessMixin.local_project.config  # noqa: B018 - built and cached here
    finally:
        os.chdir(here)


def _local_url_settings(network: str) -> dict[str, Any] | None:
    """Provider settings for ``<ecosystem>:local:<URL>``: the node's own chain id.

    ape's node provider signs local-network transactions with the chain id of its
    configuration (1337 unless set), so every transaction to an anvil (31337) at that URL
    failed with "invalid chain id for signer". The id is asked of the node itself
    (``eth_chainId``); a node that does not answer is left to the connection's own error.
    """
    parts = network.split(":", 2)
    if len(parts) != 3 or parts[1] != "local" or not parts[2].startswith(("http://", "https://")):
        return None
    import httpx

    try:
        reply = httpx.post(parts[2], json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId",
                                           "params": []}, timeout=10.0)
        chain_id = int(reply.json()["result"], 16)
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None
    return {parts[0]: {"local": {"chain_id": chain_id}}}


@contextmanager
def connect(network: str) -> Iterator[Any]:
    """Connect ape to ``network`` (an ape network choice) and yield the provider.

    Every way of failing to connect is one :class:`ChainError` sentence: an unknown
    ecosystem, network or provider; a live network without a configured RPC URL (never
    a random public one); a node that does not answer.
    """
    pin_ape_project()
    from ape import networks
    from ape.exceptions import ApeException

    try:
        context = networks.parse_network_choice(
            network, provider_settings=_local_url_settings(network)
        )
    except (ApeException, ValueError, KeyError) as error:
        raise ChainError(
            f"Unknown network {network!r} ({_first_line(error)})",
            "pass an ape network choice such as ethereum:local:foundry "
            "(`ape networks list` shows them)",
        ) from None
    # ape 0.8's ProviderContextManager keeps the unconnected provider here.
    provider = getattr(context, "_provider", None)
    if provider is not None:
        refuse_unconfigured_network(provider, network)
    with ExitStack() as stack:
        try:
            connected = stack.enter_context(context)
        except (ApeException, ConnectionError, OSError) as error:
            where = _provider_uri(provider) if provider is not None else None
            raise ChainError(
                f"Cannot connect to network {network}"
                + (f" at {where}" if where and where != network else "")
                + f" ({_first_line(error)})",
                "check that its node is running and the URL is right",
            ) from None
        rpc.guard(connected)  # a node lost mid-command: one sentence naming it
        yield connected


def client_for_network(provider: Any, address: str | None) -> tuple[ZKPoTClient, Deployment | None]:
    """The ZKPoT client at ``address``, or at the deployment recorded for the provider's network."""
    if address:
        return ZKPoTClient.at(address), None
    deployment = load_deployment(network_file_stem(provider))
    return ZKPoTClient.at(deployment.zkpot), deployment


