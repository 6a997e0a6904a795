"""The availability contract through ape: deploy it, post a model, read a posting back.

The stack is the generated Poseidon (its data contracts and ``PoseidonChain``) and
``ZKPoTAvailability``; it is task-agnostic and content-addressed, so one deployment per
chain serves every consensus contract (:func:`shared_availability` reuses it within a
process while its code is still on chain).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zkpot.availability.poseidon_gen import data_parts
from zkpot.errors import ChainError

if TYPE_CHECKING:
    from zkpot.chain.transactions import TxPolicy

_shared: dict[int, str] = {}
"""chain id -> address of the availability contract this process deployed there."""


def _transact(action: str, send: Any) -> Any:
    from zkpot.chain import _transact as chain_transact

    return chain_transact(action, send)


def deploy_availability(sender: Any) -> Any:
    """Deploy the Poseidon data contracts, ``PoseidonChain`` and ``ZKPoTAvailability``."""
    from ape import project

    from zkpot import toolchain

    parts = [
        _transact(
            f"deploy PoseidonData{i}",
            lambda i=i: sender.deploy(getattr(project, f"PoseidonData{i}")),
        )
        for i in range(data_parts(toolchain.repo_root()))
    ]
    poseidon = _transact(
        "deploy PoseidonChain",
        lambda: sender.deploy(project.PoseidonChain, [p.address for p in parts]),
    )
    return _transact(
        "deploy ZKPoTAvailability",
        lambda: sender.deploy(project.ZKPoTAvailability, poseidon.address),
    )


def shared_availability(sender: Any) -> Any:
    """This chain's availability contract: one this process deployed earlier, or a new one."""
    from ape import chain, project

    chain_id = int(chain.provider.chain_id)
    address = _shared.get(chain_id)
    if address is not None and len(bytes(chain.provider.get_code(address))) > 0:
        return project.ZKPoTAvailability.at(address)
    contract = deploy_availability(sender)
    _shared[chain_id] = str(contract.address)
    return contract


@dataclass(frozen=True)
class Posting:
    """A model's elements as posted on chain."""

    commitment: bytes
    poster: str
    block: int
    elements: tuple[int, ...]


@dataclass
class AvailabilityClient:
    """A deployed ``ZKPoTAvailability``."""

    contract: Any

    @classmethod
    def at(cls, address: str) -> AvailabilityClient:
        """Attach to the availability contract at ``address``."""
        from ape import project

        return cls(project.ZKPoTAvailability.at(address))

    @property
    def address(self) -> str:
        """The contract's address."""
        return str(self.contract.address)

    def posted_block(self, commitment: bytes) -> int:
        """The block ``commitment`` was posted in; 0 if never."""
        return int(self.contract.postedBlock(commitment))

    def post(self, elements: Sequence[int], sender: Any, policy: TxPolicy | None = None) -> int:
        """Post ``elements`` (sent under ``policy``); returns the gas the transaction used."""
        from zkpot.chain.transactions import TxPolicy, send

        receipt = _transact(
            "post the global model",
            lambda: send(
                "post the global model", self.contract.post, list(elements), sender=sender,
                policy=policy or TxPolicy(),
            ),
        )
        return int(getattr(receipt, "gas_used", 0) or 0)

    def ensure_posted(
        self,
        elements: Sequence[int],
        commitment: bytes,
        sender: Any,
        policy: TxPolicy | None = None,
    ) -> int:
        """Post ``elements`` unless ``commitment`` is posted; returns the gas used (0: not sent).

        Raises :class:`ChainError` when the elements do not hash to ``commitment``
        (nothing is sent then).
        """
        if self.posted_block(commitment):
            return 0
        actual = bytes(self.contract.commitmentOf(list(elements)))
        if actual != commitment:
            raise ChainError(
                f"The model's elements hash to 0x{actual.hex()[:16]}… on chain, not to its "
                f"commitment 0x{commitment.hex()[:16]}…",
                "the packing and the circuit disagree; report this as a bug",
            )
        return self.post(elements, sender, policy)

    def posting(self, commitment: bytes) -> Posting | None:
        """The posting of ``commitment``, read from its block's event; ``None`` if never posted."""
        block = self.posted_block(commitment)
        if block == 0:
            return None
        logs = list(
            self.contract.ModelPosted.range(
                block, block + 1, search_topics={"commitment": commitment}
            )
        )
        if not logs:
            raise ChainError(
                f"The chain records a posting of 0x{commitment.hex()[:16]}… in block {block} "
                "but the node returned no event for it",
                "use an archive node that serves old logs",
            )
        log = logs[0]
        return Posting(commitment, str(log.poster), block, tuple(int(v) for v in log.elements))


__all__ = [
    "AvailabilityClient",
    "Posting",
    "deploy_availability",
    "shared_availability",
]
