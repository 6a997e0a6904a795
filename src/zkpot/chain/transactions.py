"""Sending a transaction so that it is never sent twice and never silently lost.

A transaction is built, capped and signed first; its hash, nonce and signed bytes go into
a :class:`TxJournal` *before* it is broadcast. Waiting for it then works from the journal
alone, so a process that dies anywhere resumes the same way:

* a recorded transaction that is mined counts once it has ``confirmations`` blocks on it
  (in the canonical chain: a receipt whose block a reorg replaced does not count);
* one the node no longer knows (evicted from the pool, or dropped by a reorg) while its
  nonce is still free is broadcast again — the same signed bytes, so it can execute once
  at most;
* one still pending after ``replace_after_s`` is replaced by the same call with the same
  nonce and fees raised by an eighth (nodes ask for a tenth), never above the cap;
* once the nonce is taken and none of the recorded transactions is mined, they are void
  and the caller decides from the chain's state whether to send anew.

A new transaction is only built when the journal holds nothing live, so resuming never
resends blindly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from zkpot.errors import ChainError

GWEI = 10**9
VOID_AFTER_S = 3.0
"""Seconds a used nonce must go unexplained by any recorded transaction before they are void."""
FEE_BUMP = (9, 8)
"""A replacement pays at least 9/8 of the fees it replaces (nodes require +10 %)."""


@dataclass(frozen=True)
class TxPolicy:
    """How transactions are sent and when they count as done."""

    confirmations: int = 1
    """Blocks on top of (and including) the one holding a transaction before it counts."""
    max_fee_wei: int | None = None
    """Cap on the fee per gas (EIP-1559 ``maxFeePerGas``, or the gas price); ``None``: none."""
    replace_after_s: float = 120.0
    """Seconds a transaction may stay pending before it is replaced with higher fees."""
    timeout_s: float = 900.0
    """Seconds to wait in one run before giving up (the transaction stays recorded)."""
    poll_s: float = 0.25
    """Seconds between two looks at the node while waiting."""


def policy_from_options(
    confirmations: int | None, max_fee_gwei: float | None, replace_after: int | None
) -> TxPolicy:
    """The policy a user asked for (``None``: the default); one sentence for a bad value."""
    base = TxPolicy()
    if confirmations is not None and confirmations < 1:
        raise ChainError(
            f"--confirmations must be at least 1, not {confirmations}",
            "1 counts a transaction once it is in a block",
        )
    if max_fee_gwei is not None and max_fee_gwei <= 0:
        raise ChainError(
            f"--max-fee-gwei must be above 0, not {max_fee_gwei}", "leave it out for no cap"
        )
    return TxPolicy(
        confirmations=base.confirmations if confirmations is None else confirmations,
        max_fee_wei=None if max_fee_gwei is None else int(max_fee_gwei * GWEI),
        replace_after_s=base.replace_after_s if replace_after is None else float(replace_after),
    )


@dataclass(frozen=True)
class SentTx:
    """A signed transaction as recorded before its broadcast."""

    hash: str
    nonce: int
    sender: str
    raw: bytes


class TxJournal(Protocol):
    """Where the transactions of one action are recorded (oldest first)."""

    def sent(self) -> list[SentTx]:
        """The recorded transactions of this action, oldest first."""
        ...

    def record(self, tx: SentTx) -> None:
        """Keep ``tx`` durably before it is broadcast."""
        ...


@dataclass
class MemoryJournal:
    """A journal that lives as long as the process: for roles without a state file."""

    entries: list[SentTx] = field(default_factory=list)

    def sent(self) -> list[SentTx]:
        """The recorded transactions, oldest first."""
        return list(self.entries)

    def record(self, tx: SentTx) -> None:
        """Keep ``tx`` in memory."""
        self.entries.append(tx)


def hex_hash(value: Any) -> str:
    """A transaction hash (bytes or text, with or without ``0x``) as 0x-hex."""
    text = value.hex() if isinstance(value, bytes | bytearray) else str(value)
    return text if text.startswith("0x") else "0x" + text


def send(
    action: str,
    method: Any,
    *args: Any,
    sender: Any,
    policy: TxPolicy,
    journal: TxJournal | None = None,
) -> Any:
    """Call the contract ``method`` with ``args`` from ``sender``; the ape receipt once confirmed.

    Recorded transactions in ``journal`` are settled first (waited for, re-broadcast or
    replaced); only when none of them can still execute is a new one built and sent.
    A revert found while building raises ape's ``ContractLogicError`` for the caller to name.
    """
    journal = journal if journal is not None else MemoryJournal()
    if journal.sent():
        receipt = settle(action, journal, sender, policy)
        if receipt is not None:
            return receipt
    txn = _capped(action, method.as_transaction(*args, sender=sender), policy)
    _preflight(txn, method, args, sender)
    _sign_and_broadcast(action, txn, sender, journal)
    receipt = settle(action, journal, sender, policy)
    if receipt is None:
        newest = journal.sent()[-1]
        raise ChainError(
            f"The {action} transaction {newest.hash} was displaced: another transaction of "
            f"{newest.sender} took its nonce {newest.nonce}",
            "do not send from this account elsewhere meanwhile; run the same command again",
        )
    return receipt


def settle(action: str, journal: TxJournal, sender: Any, policy: TxPolicy) -> Any:
    """Wait for the journal's transactions: the confirmed receipt, or ``None`` if all are void."""
    from ape import chain

    w3 = chain.provider.web3
    started = last_sent = time.monotonic()
    taken_since: float | None = None
    while True:
        recorded = journal.sent()
        newest = recorded[-1]
        for tx in reversed(recorded):
            receipt = _canonical_receipt(w3, tx.hash)
            if receipt is None:
                continue
            if int(receipt["status"]) == 0:
                raise ChainError(
                    f"The {action} transaction {tx.hash} was mined but reverted (the chain "
                    "changed between its check and its inclusion)",
                    "see `zkpot status` for the round's phase, then run the command again",
                )
            depth = int(w3.eth.block_number) - int(receipt["blockNumber"]) + 1
            if depth >= policy.confirmations:
                return chain.provider.get_receipt(tx.hash)
            break
        else:
            known = any(_known(w3, tx.hash) for tx in recorded)
            if int(w3.eth.get_transaction_count(newest.sender, "latest")) > newest.nonce:
                # The nonce is used. By one of ours if the node knows it (its receipt can
                # lag the nonce); void only once none of ours has been known for a while.
                now = time.monotonic()
                if known:
                    taken_since = None
                elif taken_since is None:
                    taken_since = now
                elif now - taken_since >= VOID_AFTER_S:
                    return None
            elif not known:
                _broadcast(action, w3, newest.raw)  # evicted or reorged out: the same bytes
                last_sent = time.monotonic()
            elif time.monotonic() - last_sent >= policy.replace_after_s:
                _replace(action, w3, newest, sender, policy, journal)  # pending too long
                last_sent = time.monotonic()
        if time.monotonic() - started > policy.timeout_s:
            raise ChainError(
                f"The {action} transaction {newest.hash} is not confirmed after "
                f"{policy.timeout_s:.0f} s",
                "it stays recorded; run the same command again to keep waiting",
            )
        time.sleep(policy.poll_s)


def _preflight(txn: Any, method: Any, args: tuple[Any, ...], sender: Any) -> None:
    """Run ``txn`` as a call first: a revert raises ape's decoded error and nothing is sent.

    (On a local network ape sets the block's gas limit instead of estimating, so without
    this a reverting call would be mined as a failed transaction.) Where revert traces are
    shown (``--verbose``, library use) the call is then made through ape itself, which
    prints its call trace before raising the same error.
    """
    from ape import chain
    from ape.exceptions import ContractLogicError

    from zkpot.chain.network import _revert_traces

    data = txn.model_dump(by_alias=True, mode="json")
    for key in ("nonce", "signature"):
        data.pop(key, None)
    if isinstance(data.get("type"), int):
        data["type"] = hex(data["type"])
    try:
        chain.provider.web3.eth.call(data)
    except ChainError:
        raise  # the node stopped answering (zkpot.chain.rpc): not a revert
    except Exception as error:  # noqa: BLE001 - ape names the revert (custom error) below
        revert = chain.provider.get_virtual_machine_error(error, txn=txn)
        if isinstance(revert, ContractLogicError) and _revert_traces["show"]:
            method(*args, sender=sender)  # raises, after ape's call trace
        raise revert from error


def _canonical_receipt(w3: Any, tx_hash: str) -> Any:
    from web3.exceptions import TransactionNotFound

    try:
        receipt = w3.eth.get_transaction_receipt(tx_hash)
    except TransactionNotFound:
        return None
    if receipt is None or receipt.get("blockNumber") is None:
        return None
    block = w3.eth.get_block(int(receipt["blockNumber"]))
    return receipt if bytes(block["hash"]) == bytes(receipt["blockHash"]) else None


def _known(w3: Any, tx_hash: str) -> bool:
    from web3.exceptions import TransactionNotFound

    try:
        return w3.eth.get_transaction(tx_hash) is not None
    except TransactionNotFound:
        return False


def _broadcast(action: str, w3: Any, raw: bytes) -> None:
    from web3.exceptions import Web3RPCError

    try:
        w3.eth.send_raw_transaction(raw)
    except (ValueError, Web3RPCError) as error:  # the node's JSON-RPC error
        text = str(error).lower()
        if "already known" in text or "nonce too low" in text or "already imported" in text:
            return  # in the pool already, or settled: the wait decides
        raise ChainError(
            f"The node refused the {action} transaction ({error})",
            "check the account's balance and the fee cap, then run the command again",
        ) from error


def _capped(action: str, txn: Any, policy: TxPolicy) -> Any:
    """``txn`` with its fee per gas held to the cap; refused when the network asks more."""
    cap = policy.max_fee_wei
    if cap is None:
        return txn
    if getattr(txn, "gas_price", None) is not None:
        if int(txn.gas_price) > cap:
            _refuse_fee(action, int(txn.gas_price), cap)
        return txn
    from ape import chain

    base = int(chain.provider.get_block("latest").base_fee or 0)
    tip = int(txn.max_priority_fee or 0)
    if base + tip > cap:
        _refuse_fee(action, base + tip, cap)
    txn.max_fee = min(int(txn.max_fee), cap)
    return txn


def _refuse_fee(action: str, fee: int, cap: int) -> None:
    raise ChainError(
        f"The network asks {fee / GWEI:.3f} gwei per gas for {action}, above your cap of "
        f"{cap / GWEI:.3f} gwei; nothing was sent",
        "wait for lower fees or raise --max-fee-gwei",
    )


def _sign_and_broadcast(action: str, txn: Any, sender: Any, journal: TxJournal) -> None:
    signed = sender.sign_transaction(txn)
    if signed is None:
        raise ChainError(f"The {action} transaction was not signed", "sign it when asked")
    from ape import chain

    tx = SentTx(
        hash=hex_hash(signed.txn_hash),
        nonce=int(signed.nonce),
        sender=str(sender.address),
        raw=bytes(signed.serialize_transaction()),
    )
    journal.record(tx)
    _broadcast(action, chain.provider.web3, tx.raw)


def _replace(
    action: str, w3: Any, stuck: SentTx, sender: Any, policy: TxPolicy, journal: TxJournal
) -> None:
    """Send ``stuck``'s call again with its nonce and fees raised by :data:`FEE_BUMP`."""
    from ape import chain

    pending = w3.eth.get_transaction(stuck.hash)
    fields: dict[str, Any] = {
        "chain_id": int(pending["chainId"]) if pending.get("chainId") is not None else None,
        "nonce": stuck.nonce,
        "receiver": pending["to"],
        "sender": stuck.sender,
        "value": int(pending["value"]),
        "data": bytes(pending["input"]),
        "gas": int(pending["gas"]),
    }
    num, den = FEE_BUMP
    if pending.get("maxFeePerGas") is not None:
        fields["type"] = 2
        fields["max_priority_fee"] = -(-int(pending["maxPriorityFeePerGas"]) * num // den)
        fields["max_fee"] = -(-int(pending["maxFeePerGas"]) * num // den)
        raised = fields["max_fee"]
    else:
        fields["type"] = 0
        fields["gas_price"] = -(-int(pending["gasPrice"]) * num // den)
        raised = fields["gas_price"]
    if policy.max_fee_wei is not None and raised > policy.max_fee_wei:
        raise ChainError(
            f"The {action} transaction {stuck.hash} is stuck and replacing it needs "
            f"{raised / GWEI:.3f} gwei per gas, above your cap of "
            f"{policy.max_fee_wei / GWEI:.3f} gwei",
            "it stays recorded; raise --max-fee-gwei or wait, and run the command again",
        )
    txn = chain.provider.network.ecosystem.create_transaction(**fields)
    _sign_and_broadcast(action, txn, sender, journal)
