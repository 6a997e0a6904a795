"""Private model hand-off: sealed boxes to the leader's key.

A model file (:mod:`zkpot.model_codec`: raw arrays behind a JSON header, no pickle) is
encrypted with a libsodium sealed box (X25519 + XSalsa20-Poly1305) to the leader's
published public key. Only the leader can open it; the sender stays anonymous to anyone
reading IPFS. Opening one lets only :class:`HandoffError` escape, as decoding does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox
from numpy.typing import NDArray

from zkpot import limits
from zkpot.model_codec import (
    MAX_ELEMENTS,
    HandoffError,
    ModelPayload,
    RejectionReason,
    StateDict,
    decode_model,
    serialize_state_dict,
)

if TYPE_CHECKING:
    import torch

    from zkpot.storage import Storage


class UndecryptableError(HandoffError):
    """The ciphertext was not sealed to this key (or was altered)."""

    reason = RejectionReason.UNDECRYPTABLE



@dataclass(frozen=True)
class KeyPair:
    """An X25519 key pair for receiving models (the leader publishes ``public``)."""

    secret: bytes
    """32-byte X25519 secret key; never leaves the participant's state store."""
    public: bytes
    """32-byte X25519 public key, derived from ``secret``."""

    @classmethod
    def generate(cls) -> KeyPair:
        """A fresh random key pair (from the OS's CSPRNG)."""
        return cls.from_secret(bytes(PrivateKey.generate()))

    @classmethod
    def from_secret(cls, secret: bytes) -> KeyPair:
        """Rebuild the key pair from its 32-byte secret."""
        if len(secret) != 32:
            raise HandoffError(
                f"An X25519 secret key is 32 bytes, got {len(secret)}",
                "restore the key from the participant's state store",
            )
        return cls(secret=secret, public=bytes(PrivateKey(secret).public_key))

    @property
    def public_hex(self) -> str:
        """The public key as 0x-prefixed hex, the form published in a task or on chain."""
        return "0x" + self.public.hex()


def parse_public_key(value: str | bytes) -> bytes:
    """Accept a 32-byte key as bytes or (0x-)hex; raise :class:`HandoffError` otherwise."""
    if isinstance(value, str):
        try:
            value = bytes.fromhex(value.removeprefix("0x"))
        except ValueError as exc:
            raise HandoffError(
                f"{value!r} is not a hex public key", "copy the leader's published key"
            ) from exc
    if len(value) != 32:
        raise HandoffError(
            f"An X25519 public key is 32 bytes, got {len(value)}",
            "copy the leader's published key",
        )
    return value


def seal(plaintext: bytes, recipient_public: bytes | str) -> bytes:
    """Encrypt ``plaintext`` so that only the holder of the matching secret key can read it."""
    return SealedBox(PublicKey(parse_public_key(recipient_public))).encrypt(plaintext)


def unseal(ciphertext: bytes, keypair: KeyPair) -> bytes:
    """Decrypt a sealed box; raise :class:`HandoffError` if it was not sealed to ``keypair``."""
    try:
        return SealedBox(PrivateKey(keypair.secret)).decrypt(bytes(ciphertext))
    except (CryptoError, TypeError, ValueError) as exc:
        raise UndecryptableError(
            "The received model could not be decrypted with this leader's key",
            "the sender must encrypt to the key published for this task and round",
        ) from exc


def seal_model(
    state: Mapping[str, torch.Tensor],
    recipient_public: bytes | str,
    *,
    architecture: str = "",
    blinding: Sequence[int] | NDArray[np.integer[Any]] | None = None,
) -> bytes:
    """Serialize ``state`` (with its ``blinding``, if any) and seal it to the leader's key."""
    return seal(
        serialize_state_dict(state, architecture=architecture, blinding=blinding),
        recipient_public,
    )


def open_handoff(
    ciphertext: bytes,
    keypair: KeyPair,
    *,
    architecture: str | None = None,
    max_elements: int = MAX_ELEMENTS,
) -> ModelPayload:
    """Decrypt and parse a sealed model with its extras; only :class:`HandoffError` escapes."""
    return decode_model(
        unseal(ciphertext, keypair), architecture=architecture, max_elements=max_elements
    )


def open_model(
    ciphertext: bytes, keypair: KeyPair, *, architecture: str | None = None
) -> StateDict:
    """Decrypt and parse a sealed model; one :class:`HandoffError` sentence on any failure."""
    return open_handoff(ciphertext, keypair, architecture=architecture).state


def send_model(
    storage: Storage,
    state: Mapping[str, torch.Tensor],
    recipient_public: bytes | str,
    *,
    architecture: str = "",
    blinding: Sequence[int] | NDArray[np.integer[Any]] | None = None,
) -> str:
    """Seal ``state`` to the leader and add the ciphertext to ``storage``; return its CID."""
    return storage.add(
        seal_model(state, recipient_public, architecture=architecture, blinding=blinding),
        name="model.sealed",
    )


def receive_handoff(
    storage: Storage,
    cid: str,
    keypair: KeyPair,
    *,
    architecture: str | None = None,
    max_bytes: int = limits.DEFAULT_READ_CAP,
    max_elements: int = MAX_ELEMENTS,
) -> ModelPayload:
    """Fetch (CID-verified, at most ``max_bytes``), decrypt and parse a sealed model."""
    ciphertext = storage.cat(cid, max_bytes=max_bytes, what="sealed model")
    return open_handoff(ciphertext, keypair, architecture=architecture, max_elements=max_elements)


def receive_model(
    storage: Storage,
    cid: str,
    keypair: KeyPair,
    *,
    architecture: str | None = None,
    max_bytes: int = limits.DEFAULT_READ_CAP,
) -> StateDict:
    """Fetch (CID-verified), decrypt and parse a model sent with :func:`send_model`."""
    return receive_handoff(
        storage, cid, keypair, architecture=architecture, max_bytes=max_bytes
    ).state
