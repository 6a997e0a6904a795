"""The adversarial suite's fixtures: the flow tests' world (real anvil, IPFS, tiny circuit)."""

from __future__ import annotations

from flows.conftest import world

__all__ = ["world"]
