"""Every deployed contract fits EIP-170 with at least 20 % headroom.

anvil and every real network refuse a contract above 24,576 bytes of runtime code; the
headroom is what the next rules need. The consensus logic is split by concern (ZKPoT:
tasks, rounds, submissions, leader, blocks; ZKPoTLens: struct views decoded from ZKPoT's
storage through extsload; ZKPoTRewards: pools and claims; ZKPoTAggregation: leaders'
aggregation proofs). Sizes are read twice: from the compiled artifacts (what the
compiler produced) and from the chain (what was deployed, ZKPoT's satellites from its
own creation code); both must keep the headroom.
"""

from __future__ import annotations

from typing import Any

from ape import chain, project

from zkpot.chain import ZKPoTClient

EIP170 = 24_576
HEADROOM = 0.20
LIMIT = int(EIP170 * (1 - HEADROOM))  # 19,660 bytes


def _size(address: str) -> int:
    return len(bytes(chain.provider.get_code(address)))


def _compiled(name: str) -> int:
    code = getattr(project, name).contract_type.runtime_bytecode.bytecode
    return len(bytes.fromhex(str(code).removeprefix("0x")))


def test_every_contract_keeps_a_fifth_of_eip170_free(client: ZKPoTClient, verifier: Any) -> None:
    deployed = {
        "ZKPoT": _size(client.address),
        "ZKPoTLens": _size(client.lens.address),
        "ZKPoTRewards": _size(client.rewards.address),
        "ZKPoTAggregation": _size(client.aggregation.address),
        "EzklAccuracyVerifier": _size(verifier.address),
    }
    names = [*deployed, "Groth16AccuracyVerifier", "Groth16AggregationVerifier"]
    compiled = {name: _compiled(name) for name in names}
    print({name: f"{size} bytes ({EIP170 - size} left)" for name, size in compiled.items()})
    sizes = [*compiled.items(), *deployed.items()]
    for name, size in sizes:
        assert 0 < size <= LIMIT, f"{name} is {size} bytes, above {LIMIT} (20 % under EIP-170)"


def test_generated_halo2_verifier_fits_eip170(verifier: Any) -> None:
    """EZKL's generated verifier is not ours to split; it must still deploy."""
    assert 0 < _size(str(verifier.halo2Verifier())) <= EIP170


def test_rewards_contract_answers_only_its_consensus_contract(
    client: ZKPoTClient, publisher: Any
) -> None:
    import ape

    rewards = client.rewards
    assert rewards.consensus() == client.address
    with ape.reverts(rewards.NotConsensus):
        rewards.allocate(0, 0, [publisher.address], [1], 1, 0, sender=publisher)
    with ape.reverts(rewards.NotConsensus):
        rewards.refund(0, publisher.address, sender=publisher)
    with ape.reverts(rewards.NotConsensus):
        rewards.fund(0, publisher.address, publisher.address, 1, 1, 0, sender=publisher)
