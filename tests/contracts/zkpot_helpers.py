"""Constants and clock helpers shared by the contract tests."""

from __future__ import annotations

from ape import chain

COMMIT = 600
REVEAL = 300
SUBMIT = 900
AGGREGATE = 400
CIRCUIT_ID = bytes.fromhex("c1" * 32)
VK_DIGEST = bytes.fromhex("7d" * 32)
INITIAL_MODEL = bytes.fromhex("11" * 32)
X25519_KEY = bytes.fromhex("ab" * 32)


def warp(timestamp: int) -> None:
    """Mine a block at ``timestamp`` so views and the next transaction see that time."""
    chain.mine(1, timestamp=timestamp)


def now() -> int:
    return int(chain.blocks.head.timestamp)
