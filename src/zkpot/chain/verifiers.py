"""Deploying the verifiers the proving backends describe, and checking deployed ones.

A backend says what its verifier is made of (:class:`~zkpot.proving.verifier.VerifierArtifacts`:
generated Solidity compiled here, or a contract of ``contracts/``, and its adapter); only
this module turns that into transactions and code reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zkpot.proving.verifier import CompiledContract, VerifierArtifacts

if TYPE_CHECKING:
    from zkpot.proving.aggregation import AggregationCircuit


def container(contract: CompiledContract) -> Any:
    """An ape ``ContractContainer`` to deploy generated code with (``account.deploy(...)``)."""
    from ape.contracts import ContractContainer
    from ethpm_types import ContractType

    return ContractContainer(
        ContractType.model_validate(
            {
                "contractName": contract.name,
                "abi": contract.abi,
                "deploymentBytecode": {"bytecode": "0x" + contract.bytecode.hex()},
                "runtimeBytecode": {"bytecode": "0x" + contract.runtime.hex()},
            }
        )
    )


def deploy_verifier(artifacts: VerifierArtifacts, sender: Any) -> str:
    """Deploy the verifier, then its adapter pointing at it, from ``sender``; the adapter."""
    from ape import project

    code = artifacts.verifier
    verifier = sender.deploy(getattr(project, code) if isinstance(code, str) else container(code))
    adapter = sender.deploy(getattr(project, artifacts.adapter), verifier.address,
                            *artifacts.adapter_args)
    return str(adapter.address)


def _plain(value: Any, like: Any) -> Any:
    """A getter's answer as the type of the value it is compared with."""
    if isinstance(like, bytes):
        return bytes(value)
    if isinstance(like, int):
        return int(value)
    return value


def check_aggregation_verifier(address: str, circ: AggregationCircuit) -> tuple[bool, str]:
    """Whether the aggregation adapter at ``address`` serves ``circ``; what held or failed.

    Its ids and K must be the circuit's, its padding commitment the spec's, and the code of
    the verifier it calls must be the one compiled from the published verification key.
    """
    from ape import Contract, chain, project
    from eth_utils.crypto import keccak

    artifacts = circ.verifier_artifacts()
    adapter = Contract(address,
                       contract_type=getattr(project, artifacts.adapter).contract_type)
    for what, getter, expected in artifacts.facts:
        if _plain(getattr(adapter, getter)(), expected) != expected:
            return False, f"the aggregation verifier's {what} is not the published circuit's"
    if isinstance(artifacts.verifier, CompiledContract) and artifacts.verifier_getter:
        called = str(getattr(adapter, artifacts.verifier_getter)())
        code = bytes(chain.provider.get_code(called))
        if keccak(code) != keccak(artifacts.verifier.runtime):
            return False, ("the aggregation verifier's code is not compiled from the "
                           "published key")
    return True, (f"{circ.slots}-slot aggregation verifier runs the published key "
                  f"(circuit {circ.short_id})")
