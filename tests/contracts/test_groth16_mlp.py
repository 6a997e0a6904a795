"""The generated TINY_MLP Groth16 circuit end to end on anvil: real keys, real proofs of a
trained model, the generated verifier behind its adapter, ZKPoT submissions.

At 1 sample per proof the circuit (~13.9k constraints) fits the 2^14 development ptau, so
its keys come from the snarkjs ceremony and both provers run; at 4 samples (2^15) only the
INSECURE single-party setup is available here; it writes a snarkjs .zkey, so both
provers run there too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ape
import pytest
from ape import chain, project
from groth16_kit import gas_results_file
from torch import nn
from zkpot_helpers import TS_SALT, X25519_KEY, raw_submit, salt_for, warp

from zkpot import data, models, train
from zkpot.chain import ChunkProof, TaskSpec, ZKPoTClient, round_test_set_commitment, verifiers
from zkpot.proving import fixedpoint
from zkpot.proving.circuit import Blinding, CircuitSpec, TestBatch, new_blinding
from zkpot.proving.groth16 import ceremony, circom, prover, solidity

if TYPE_CHECKING:
    from circuit_cache import CircuitCache

pytestmark = pytest.mark.slow  # the 1-sample circuit's phase 2 on the 2^14 file: ~70 s

CHUNKS = 2
START = 1000


@dataclass
class MlpKit:
    spec: CircuitSpec
    compiled: circom.CompiledCircuit
    keys: Path
    work: Path
    single_party: bool
    model: nn.Module
    blinding: Blinding
    batches: list[TestBatch]
    verifier: Any
    adapter: Any

    def proofs(self, submitter: str, via: prover.Prover = "groth16py") -> list[ChunkProof]:
        out = []
        for i, batch in enumerate(self.batches):
            inputs = circom.circuit_inputs(self.spec, self.model, self.blinding, batch, submitter)
            p = prover.prove(self.keys, self.compiled.wasm, inputs, self.work, f"c{i}", prover=via)
            out.append(ChunkProof(p.proof, tuple(p.public_signals)))
        return out


@pytest.fixture(scope="module", params=[1, 4], ids=["1-sample-ceremony", "4-samples-single-party"])
def mlp(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    publisher: Any,
    circuits: CircuitCache,
) -> MlpKit:
    samples = int(request.param)
    root = tmp_path_factory.mktemp(f"mlp{samples}")
    spec = CircuitSpec(models.TINY_MLP, samples=samples, backend="groth16")
    # The run's build of this circuit (read only here): a ceremony on the development
    # phase-1 file where the circuit fits it, else the single-party setup.
    built = circuits.groth16(spec)
    compiled = circom.CompiledCircuit(built.source, built.r1cs, built.wasm,
                                      built.build_dir / f"{circom.CIRCUIT_NAME}.sym")
    info = ceremony.r1cs_info(compiled.r1cs)
    keys = built.keys_dir
    dev = ceremony.check_ptau(ceremony.dev_ptau())
    single_party = info.required_power > dev.power
    transcript = ceremony.Transcript.load(keys / ceremony.TRANSCRIPT)
    assert transcript.single_party == single_party
    digits = data.load_digits()
    model = train.train_local(
        models.build_model(models.TINY_MLP, seed=0),
        digits.X[:800],
        digits.y[:800],
        epochs=5,
        lr=0.05,
        batch_size=32,
        seed=0,
    )
    batches = [
        TestBatch(
            digits.X[START + i * samples : START + (i + 1) * samples],
            digits.y[START + i * samples : START + (i + 1) * samples],
        )
        for i in range(CHUNKS)
    ]
    name = solidity.contract_name(f"mlp{samples}")
    source = solidity.render_verifier(keys / ceremony.VERIFICATION_KEY, name)
    verifier = publisher.deploy(verifiers.container(solidity.compile_verifier(source, name)))
    adapter = publisher.deploy(
        project.Groth16AccuracyVerifier, verifier.address, bytes.fromhex(spec.circuit_id), samples
    )
    return MlpKit(
        spec,
        compiled,
        keys,
        root / "work",
        single_party,
        model,
        new_blinding(),
        batches,
        verifier,
        adapter,
    )


def _round(
    client: ZKPoTClient,
    mlp: MlpKit,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
    commit: dict[Any, bytes],
) -> tuple[int, int]:
    task = client.create_task(spec_factory(mlp.adapter, chunks_per_round=CHUNKS), publisher)
    for p in participants:
        client.join(task, X25519_KEY, p)
    chunks = tuple(circom.test_set_commitment(mlp.spec, b) for b in mlp.batches)
    cid = f"bafy-mlp-{mlp.spec.samples}"
    round_ = client.open_round(task, round_test_set_commitment(cid, chunks, TS_SALT), publisher)
    for account, commitment in commit.items():
        client.commit(task, round_, commitment, salt_for(account), account)
    warp(client.round(task, round_).commit_deadline)
    client.reveal_test_set(task, round_, cid, chunks, TS_SALT, publisher)
    return task, round_


def test_trained_mlp_proofs_are_accepted_with_the_fixed_point_count(
    mlp: MlpKit,
    zkpot: Any,
    client: ZKPoTClient,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
) -> None:
    alice, mallory = participants[0], participants[2]
    commitment = circom.model_commitment(mlp.spec, mlp.model, mlp.blinding)
    task, round_ = _round(
        client, mlp, spec_factory, publisher, participants, {alice: commitment, mallory: commitment}
    )
    expected = sum(fixedpoint.count(mlp.spec, mlp.model, b) for b in mlp.batches)
    assert expected > 0
    proofs = mlp.proofs(alice.address)
    for p in proofs:
        assert p.instances[1] == int.from_bytes(commitment, "big")
        assert p.instances[3] == int(alice.address, 16)
        assert prover.verify(
            mlp.keys / ceremony.VERIFICATION_KEY, p.proof, list(p.instances), verifier="snarkjs"
        )
    # A copy sent by another account (even one committing the same model) is refused.
    with ape.reverts(zkpot.SubmitterMismatch):
        raw_submit(zkpot, task, round_, proofs, salt_for(mallory), "bafy-x", mallory)
    receipt = raw_submit(zkpot, task, round_, proofs, salt_for(alice), "bafy-mlp", alice)
    [event] = receipt.events.filter(zkpot.SubmissionVerified)
    assert event.correct == expected
    assert bytes(event.modelCommitment) == commitment

    gas_file = gas_results_file()
    recorded = json.loads(gas_file.read_text()) if gas_file.is_file() else {}
    recorded[f"submit ({CHUNKS} proofs, TINY_MLP {mlp.spec.samples} sample(s)/proof, receipt)"] = (
        receipt.gas_used
    )
    recorded["TINY_MLP constraints by samples/proof"] = {
        **recorded.get("TINY_MLP constraints by samples/proof", {}),
        str(mlp.spec.samples): ceremony.r1cs_info(mlp.compiled.r1cs).constraints,
    }
    gas_file.write_text(json.dumps(dict(sorted(recorded.items())), indent=2) + "\n")
    assert len(bytes(chain.provider.get_code(mlp.verifier.address))) > 0


def test_snarkjs_proofs_of_the_mlp_are_accepted(
    mlp: MlpKit,
    zkpot: Any,
    client: ZKPoTClient,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
) -> None:
    bob = participants[1]
    commitment = circom.model_commitment(mlp.spec, mlp.model, mlp.blinding)
    task, round_ = _round(client, mlp, spec_factory, publisher, participants, {bob: commitment})
    proofs = mlp.proofs(bob.address, "snarkjs")
    receipt = raw_submit(zkpot, task, round_, proofs, salt_for(bob), "bafy-mlp", bob)
    [event] = receipt.events.filter(zkpot.SubmissionVerified)
    assert event.correct == sum(fixedpoint.count(mlp.spec, mlp.model, b) for b in mlp.batches)
