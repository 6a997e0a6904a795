"""Deployment records (``deployments/<network>.json``) and the verifier a deployment serves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from zkpot.errors import ChainError

if TYPE_CHECKING:
    from zkpot.chain.client import ZKPoTClient

@dataclass(frozen=True)
class VerifierRecord:
    """The verifier adapter a deployment serves, as read from the adapter itself."""

    address: str
    circuit_id: str
    """``circuitId()`` as 0x-hex."""
    samples_per_proof: int
    vka_digest: str | None
    """``vkaDigest()`` (digest of the VK artifact) as 0x-hex, when the adapter exposes it."""
    code_hash: str | None = None
    """keccak256 of the adapter's runtime code as 0x-hex (what a participant compares)."""


@dataclass(frozen=True)
class Deployment:
    """What ``ape run deploy`` writes to ``deployments/<network>.json``."""

    network: str
    """ape network choice, e.g. ``ethereum:local:foundry``."""
    chain_id: int
    zkpot: str
    """Address of the ZKPoT contract."""
    deployer: str
    block_number: int
    verifier: VerifierRecord | None = None
    rewards: str | None = None
    """Address of the ZKPoTRewards contract the ZKPoT contract created (reward pools)."""
    artifact_cids: dict[str, str] = field(default_factory=dict)
    """IPFS CIDs of the circuit artifacts (settings, vk, compiled circuit, ...), by name."""

    def to_json(self) -> str:
        """Serialise as pretty JSON."""
        import json
        from dataclasses import asdict

        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Deployment:
        """Parse what :meth:`to_json` wrote."""
        import json

        raw = json.loads(text)
        verifier = raw.pop("verifier", None)
        return cls(**raw, verifier=VerifierRecord(**verifier) if verifier else None)


def deployment_path(network_name: str, root: Any = None) -> Any:
    """``deployments/<network>.json`` under ``root``.

    Without ``root``: under ``ZKPOT_DEPLOYMENTS_DIR`` when set (one record folder per
    local chain, e.g. beside its ``ZKPOT_STATE_DIR``), else the repository's ``deployments/``.
    """
    import os
    from pathlib import Path

    from zkpot.toolchain import repo_root

    if root is None and (env := os.environ.get("ZKPOT_DEPLOYMENTS_DIR")):
        return Path(env) / f"{network_name}.json"
    base = Path(root) if root is not None else repo_root()
    return base / "deployments" / f"{network_name}.json"


def write_deployment(
    client: ZKPoTClient,
    provider: Any,
    deployer: str,
    root: Any = None,
    verifier: VerifierRecord | None = None,
    artifact_cids: dict[str, str] | None = None,
) -> Any:
    """Record a fresh deployment in ``deployments/<network>.json``; return the path."""
    deployment = Deployment(
        network=f"{provider.network.choice}:{provider.name}",
        chain_id=int(provider.chain_id),
        zkpot=client.address,
        deployer=str(deployer),
        block_number=int(provider.get_block("latest").number),
        verifier=verifier,
        rewards=str(client.rewards.address),
        artifact_cids=dict(artifact_cids or {}),
    )
    path = deployment_path(network_file_stem(provider), root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(deployment.to_json())
    return path


def load_deployment(network_name: str, root: Any = None) -> Deployment:
    """Read ``deployments/<network>.json``; a ChainError says to deploy first if missing."""
    path = deployment_path(network_name, root)
    if not path.exists():
        raise ChainError(
            f"No deployment recorded for network {network_name} at {path}",
            "deploy with `zkpot deploy --network <choice>` or pass --contract",
        )
    return Deployment.from_json(path.read_text())


def read_verifier(address: str) -> VerifierRecord:
    """Read an ``IAccuracyVerifier`` adapter's identity from the chain."""
    from ape import Contract, project

    try:
        adapter = project.EzklAccuracyVerifier.at(address)
    except Exception:  # noqa: BLE001 - the adapter may not be in this build; use the interface
        adapter = Contract(address, contract_type=project.IAccuracyVerifier.contract_type)
    digest: str | None = None
    if hasattr(adapter, "vkaDigest"):
        digest = "0x" + bytes(adapter.vkaDigest()).hex()
    from ape import chain

    code = bytes(chain.provider.get_code(to_checksum_address(address)))
    return VerifierRecord(
        address=str(address),
        circuit_id="0x" + bytes(adapter.circuitId()).hex(),
        samples_per_proof=int(adapter.samplesPerProof()),
        vka_digest=digest,
        code_hash="0x" + keccak(code).hex(),
    )


def network_file_stem(provider: Any) -> str:
    """Deployment file stem: the network name on ethereum (``local``), else ``eco-network``."""
    net = provider.network
    if net.ecosystem.name == "ethereum":
        return str(net.name)
    return f"{net.ecosystem.name}-{net.name}"
