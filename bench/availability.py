"""Gas and sizes of the global model's availability (issue 17, item 3), from anvil receipts.

Deploys the generated Poseidon (data contracts + ``PoseidonChain``) and
``ZKPoTAvailability``, then posts real models' packed elements (weights, biases and
blinding of a freshly built model of each architecture, 16 samples per proof) and
measures ``post`` and the bare ``hashChain`` at those sizes and at the posting cap.
Writes ``results/availability.json`` and ``results/availability.md``.

    ZKPOT_ANVIL_PORT=8556 .venv/bin/python bench/availability.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BLOCK_GAS = 30_000_000


def main() -> None:
    from ape import accounts, chain, networks, project

    from zkpot import toolchain

    toolchain.activate()
    # Our own anvil (as the tests start it): the one ape-foundry would start traces every
    # step, which slows a multi-million-gas Poseidon transaction past ape's receipt timeout.
    from zkpot import services

    anvil = services.Anvil(services.ServicesConfig())
    anvil.start()
    try:
        rows, deploy_gas, sizes, addresses, poseidon_address, availability_address = _measure(
            networks, accounts, chain, project
        )
    finally:
        anvil.stop()
    _write(rows, deploy_gas, sizes, addresses, poseidon_address, availability_address)


def _measure(networks: Any, accounts: Any, chain: Any, project: Any) -> tuple[Any, ...]:
    from zkpot import models
    from zkpot.availability.client import deploy_availability
    from zkpot.availability.elements import model_elements
    from zkpot.proving.circuit import CircuitSpec, new_blinding
    from zkpot.proving.curve import SCALAR_MODULUS
    from zkpot.proving.groth16.packing import poseidon_chain

    with networks.parse_network_choice("ethereum:local:foundry"):
        sender = accounts.test_accounts[0]
        start = chain.blocks.height
        availability = deploy_availability(sender)
        poseidon = project.PoseidonChain.at(str(availability.poseidon()))
        deploy_gas = sum(
            int(chain.provider.get_receipt(tx.hash.hex()).gas_used)
            for block in range(start + 1, chain.blocks.height + 1)
            for tx in chain.blocks[block].transactions
        )
        addresses = [str(availability.address), str(poseidon.address),
                     *map(str, poseidon.dataContracts())]
        sizes = {a: len(bytes(chain.provider.get_code(a))) for a in addresses}
        rows: list[dict[str, Any]] = []
        for arch in (models.TINY_MLP, models.MLP_DIGITS, models.LENET_DIGITS):
            spec = CircuitSpec(arch, samples=16, backend="groth16")
            elements = model_elements(spec, models.build_model(arch, seed=1), new_blinding())
            assert int(poseidon.hashChain(elements)) == poseidon_chain(elements)
            chain_gas = int(poseidon.hashChain.estimate_gas_cost(elements))
            receipt = availability.post(elements, sender=sender)
            rows.append({"model": arch.name, "elements": len(elements),
                         "calldata_bytes": len(receipt.transaction.data),
                         "post_gas": int(receipt.gas_used), "hash_chain_gas": chain_gas})
        cap = int(availability.MAX_POSTED_ELEMENTS())
        rng = random.Random(0)
        elements = [rng.randrange(SCALAR_MODULUS) for _ in range(cap)]
        receipt = availability.post(elements, sender=sender)
        rows.append({"model": f"cap ({cap} random field elements)", "elements": cap,
                     "calldata_bytes": len(receipt.transaction.data),
                     "post_gas": int(receipt.gas_used),
                     "hash_chain_gas": int(poseidon.hashChain.estimate_gas_cost(elements))})
        return (rows, deploy_gas, sizes, addresses, str(poseidon.address),
                str(availability.address))


def _write(rows: list[dict[str, Any]], deploy_gas: int, sizes: dict[str, int],
           addresses: list[str], poseidon_address: str, availability_address: str) -> None:
    result = {
        "what": "ZKPoTAvailability.post (on-chain Poseidon chain of a Groth16 model's packed "
                "elements) on anvil; deployment of the generated Poseidon and the contract",
        "block_gas_limit": BLOCK_GAS,
        "deployment_gas": deploy_gas,
        "contracts": len(addresses),
        "largest_runtime_bytes": max(sizes.values()),
        "poseidon_chain_runtime_bytes": sizes[poseidon_address],
        "availability_runtime_bytes": sizes[availability_address],
        "postings": rows,
    }
    out = ROOT / "results"
    (out / "availability.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Global model availability: gas (anvil receipts, bench/availability.py)", "",
        f"Deployment of the generated Poseidon ({len(addresses) - 2} data contracts + "
        f"PoseidonChain) and ZKPoTAvailability: {deploy_gas:,} gas in {len(addresses)} "
        f"transactions; largest runtime code {max(sizes.values()):,} bytes "
        f"(PoseidonChain {sizes[poseidon_address]:,}, ZKPoTAvailability "
        f"{sizes[availability_address]:,}).", "",
        "| model | elements | calldata bytes | post gas | hashChain gas | share of a 30M block |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(f"| {row['model']} | {row['elements']} | {row['calldata_bytes']:,} | "
                     f"{row['post_gas']:,} | {row['hash_chain_gas']:,} | "
                     f"{100 * row['post_gas'] / BLOCK_GAS:.1f} % |")
    (out / "availability.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
