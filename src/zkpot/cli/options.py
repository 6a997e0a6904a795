"""The options commands share: chain, settings, task, account, data pool, backend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from zkpot import settings

F = TypeVar("F", bound=Callable[..., Any])
LOCAL_NETWORK = "ethereum:local:foundry"

DEFAULT_BACKEND = "groth16"
"""The backend ``task create`` uses unless told otherwise: Groth16 proves a 256-sample
chunk in ~14 s and costs ~0.35 M gas a submission (results/backends.md, results/gas.md)."""
DEMO_BACKEND = "groth16"
"""The demo's backend: its fedavg rounds carry aggregation proofs (every step verified)."""


def _backend_option(default: str) -> Callable[[F], F]:
    return click.option(
        "--backend",
        type=click.Choice(["groth16", "ezkl"]),
        default=default,
        show_default=True,
        help="Proving backend: Groth16 (circom R1CS, ~0.25 M gas a proof, up to 256 samples "
        "a proof, proven aggregation) or EZKL (Halo2/KZG, ~2.1 M gas a proof, up to 64).",
    )


backend_option = _backend_option(DEFAULT_BACKEND)
"""The ``--backend`` option of every command that builds a circuit."""


def json_option(func: F) -> F:
    """``--json``: the result as one JSON document on stdout (progress and errors: stderr)."""
    return click.option(
        "--json", "as_json", is_flag=True,
        help="Print the result as JSON on stdout (progress and errors stay on stderr).",
    )(func)


_insecure_keys = {"allowed": False}
"""Set by ``--allow-insecure-single-party-keys`` on the command being run."""


def _remember_insecure_keys(_ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    _insecure_keys["allowed"] = bool(value)
    return bool(value)


_tx_options: dict[str, Any] = {}
"""``--confirmations``, ``--max-fee-gwei`` and ``--replace-after`` of the command being run."""


def _remember_tx_option(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    _tx_options[str(param.name)] = value
    return value


def tx_options(func: F) -> F:
    """How the command's transactions are sent: confirmations, fee cap, stuck replacement.

    Read by :func:`~zkpot.cli.session._session` into the client's
    :class:`~zkpot.chain.transactions.TxPolicy`.
    """
    func = setting_option(
        "--replace-after", key="replace_after", expose_value=False,
        callback=_remember_tx_option, type=click.IntRange(min=1),
        help="Seconds a transaction may stay pending before it is replaced with fees raised "
        "by an eighth (default 120).",
    )(func)
    func = setting_option(
        "--max-fee-gwei", key="max_fee_gwei", expose_value=False,
        callback=_remember_tx_option, type=click.FloatRange(min=0, min_open=True),
        help="Never pay more than this per gas; a network asking more sends nothing "
        "(default: no cap).",
    )(func)
    return setting_option(
        "--confirmations", key="confirmations", expose_value=False,
        callback=_remember_tx_option, type=click.IntRange(min=1),
        help="Blocks on top of a transaction (its own included) before its step counts as "
        "done (default 1).",
    )(func)


def chain_options(func: F) -> F:
    """``--network``, ``--contract``, ``--ipfs-url`` and ``--allow-insecure-single-party-keys``.

    With them the transaction options (:func:`tx_options`).

    The flag reaches every role through :func:`~zkpot.cli.session._session` (not a
    parameter of each command):
    :mod:`zkpot.roles.keytrust` refuses INSECURE keys off a local devnet without it.
    """
    func = click.option(
        "--allow-insecure-single-party-keys", is_flag=True, expose_value=False,
        callback=_remember_insecure_keys,
        help="Accept a task whose proving keys are INSECURE (one party made them and can "
        "forge proofs) on a chain that is not a local devnet (chain id 31337 or 1337). "
        "Never for anything of value.",
    )(func)
    func = setting_option(
        "--ipfs-url", key="ipfs_url", help="IPFS RPC API base URL (default: the local node)."
    )(func)
    func = setting_option(
        "--contract", key="contract",
        help="ZKPoT address (default: deployments/<network>.json).",
    )(func)
    return network_option()(tx_options(func))


def setting_option(
    *decls: str, key: str, fallback: Any = None, required: bool = False, help: str,
    **kwargs: Any,
) -> Callable[[F], F]:
    """An option a user may also set once: flag, then ``ZKPOT_*``, then ``zkpot.toml``."""
    setting = settings.SETTINGS[key]
    return click.option(
        *decls,
        envvar=setting.envvar,
        type=kwargs.pop("type", setting.kind),
        default=lambda: settings.default(key, fallback),
        show_default=str(fallback) if fallback is not None else False,
        required=required,
        help=f"{help.rstrip('.')}; {settings.source(key)}.",
        **kwargs,
    )


def network_option(
    help: str = "ape network choice (ecosystem:network:provider) or an RPC URL.",
) -> Callable[[F], F]:
    """``--network``, default the local anvil."""
    return setting_option("--network", key="network", fallback=LOCAL_NETWORK, help=help)


def task_option(func: F) -> F:
    """``--task``: the task id."""
    return setting_option("--task", "task_id", key="task", required=True, help="Task id.")(func)


def name_option(required: bool = True) -> Callable[[F], F]:
    """``--name``: the participant's local state name."""
    return setting_option(
        "--name", key="name", required=required,
        help="Local participant name (state dir)." if required
        else "Also show this participant's local progress.",
    )


def account_option(default: str | None = None) -> Callable[[F], F]:
    """``--account``: ``test:N`` on a local chain, or an ape keystore alias."""
    return setting_option(
        "--account",
        key="account",
        fallback=default,
        required=default is None,
        help="Signer: test:N (local test account, a local devnet only) or an ape account "
        "alias.",
    )


def pool_options(func: F) -> F:
    """``--data``, ``--holdout``, ``--seed``: which data the publisher holds out test sets from."""
    func = click.option("--seed", default=0, show_default=True, help="Seed of the split.")(func)
    func = click.option(
        "--holdout", default=0.3, show_default=True, help="Share held out for test sets."
    )(func)
    return click.option(
        "--data", default="digits", show_default=True, help="digits, csv:PATH or idx:I:L."
    )(func)


def participant_options(func: F) -> F:
    """``--name``, ``--account``, ``--task``, ``--round`` plus the chain options."""
    func = click.option("--round", "round_no", type=int, required=True)(func)
    func = task_option(func)
    func = account_option()(func)
    func = name_option()(func)
    return chain_options(func)
