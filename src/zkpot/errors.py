"""User-facing errors: one sentence saying what is wrong and what to do."""

from __future__ import annotations


class ZkpotError(Exception):
    """An error the CLI prints as a single sentence and exits non-zero on.

    The message states what is wrong; ``hint`` states what to do about it.
    """

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def sentence(self) -> str:
        """The message and the hint joined into one line."""
        text = self.message.rstrip(".")
        if self.hint:
            return f"{text}; {self.hint.rstrip('.')}."
        return f"{text}."


class ServiceError(ZkpotError):
    """A local service (anvil, IPFS) is missing, down, or cannot start."""


class StorageError(ZkpotError):
    """IPFS could not be reached or returned content that does not match its CID."""


class ProvingError(ZkpotError):
    """The EZKL pipeline failed or a model does not fit the task's circuit."""


class AggregationProofError(ProvingError):
    """A proven aggregate cannot be formed, proven, checked or turned into a model."""


class ChainError(ZkpotError):
    """The chain rejected a transaction or cannot be reached."""


class StateError(ZkpotError):
    """Local participant state is missing or inconsistent with the request."""
