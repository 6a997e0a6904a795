"""Real Groth16 proofs for the contract tests: a tiny circom circuit with the backend's
public-signal layout, a real phase 2 on the development powers of tau, real proofs.

The circuit (written here, compiled by circom2) is a stand-in for the generated MLP
circuit with the same statement shape: private "weights" ``w`` (predicting ``y = w0*x +
w1``) and a blinding, a private batch ``x, y``; outputs ``correct`` (exact matches),
``modelCommitment = Poseidon(w0, w1, blinding)``, ``testSetCommitment = Poseidon(x..., y...)``;
public input ``submitter`` (bound by a constraint). Public signals:
``[correct, modelCommitment, testSetCommitment, submitter]``. The commitments are also
recomputed in Python (light-poseidon, circomlib's constants) so the layout is checked.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import light_poseidon_python as lp

from zkpot import toolchain
from zkpot.proving.groth16 import ceremony, prover, solidity

SAMPLES = 4


def gas_results_file() -> Path:
    """Where the Groth16 contract tests record their gas: ``results/groth16-gas.json`` only
    when ``ZKPOT_WRITE_RESULTS=1`` asks for it, else a file in the temp folder, so a test
    run leaves the checkout's tracked files untouched."""
    if os.environ.get("ZKPOT_WRITE_RESULTS") == "1":
        return toolchain.repo_root() / "results" / "groth16-gas.json"
    return Path(tempfile.gettempdir()) / f"zkpot-groth16-gas-{os.getpid()}.json"

CIRCUIT = (
    """
pragma circom 2.1.0;
include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/comparators.circom";

template TinyAccuracy(N) {
    signal input w[2];
    signal input blinding;
    signal input x[N];
    signal input y[N];
    signal input submitter;
    signal output correct;
    signal output modelCommitment;
    signal output testSetCommitment;

    component hit[N];
    var sum = 0;
    for (var i = 0; i < N; i++) {
        hit[i] = IsEqual();
        hit[i].in[0] <== w[0] * x[i] + w[1];
        hit[i].in[1] <== y[i];
        sum += hit[i].out;
    }
    correct <== sum;

    component hm = Poseidon(3);
    hm.inputs[0] <== w[0];
    hm.inputs[1] <== w[1];
    hm.inputs[2] <== blinding;
    modelCommitment <== hm.out;

    component ht = Poseidon(2 * N);
    for (var i = 0; i < N; i++) {
        ht.inputs[i] <== x[i];
        ht.inputs[N + i] <== y[i];
    }
    testSetCommitment <== ht.out;

    signal submitterSquared;
    submitterSquared <== submitter * submitter;
}

component main {public [submitter]} = TinyAccuracy(SAMPLES_);
"""
).replace("SAMPLES_", str(SAMPLES))

# Models: (w0, w1, blinding). "a2" is "a" with a fresh blinding (its next round).
MODELS = {"a": (1, 0, 1111), "a2": (1, 0, 2222), "b": (2, 1, 3333)}
# Test sets: (x, y). On s1 "a" scores 3, "b" 1; on s2 "a" 2, "b" 1.
TEST_SETS = {"s1": ([1, 2, 3, 4], [1, 5, 3, 4]), "s2": ([5, 6, 7, 8], [5, 13, 7, 0])}


def poseidon(values: list[int]) -> int:
    return int(lp.poseidon_hash(values), 16)


def model_commitment(model: str) -> bytes:
    return poseidon(list(MODELS[model])).to_bytes(32, "big")


def test_set_commitment(test_set: str) -> bytes:
    x, y = TEST_SETS[test_set]
    return poseidon(x + y).to_bytes(32, "big")


def expected_count(model: str, test_set: str) -> int:
    w0, w1, _ = MODELS[model]
    x, y = TEST_SETS[test_set]
    return sum(1 for xi, yi in zip(x, y, strict=True) if w0 * xi + w1 == yi)


def inputs(model: str, test_set: str, submitter: str | int) -> dict[str, object]:
    w0, w1, blinding = MODELS[model]
    x, y = TEST_SETS[test_set]
    sub = int(submitter, 16) if isinstance(submitter, str) else submitter
    return {"w": [w0, w1], "blinding": blinding, "x": x, "y": y, "submitter": sub}


@dataclass(frozen=True)
class TestSet:
    """Duck-typed like proof_kit.TestSet for the shared round helpers."""

    __test__ = False

    cid: str
    chunk_commitments: tuple[bytes, ...]


@dataclass
class Groth16Kit:
    root: Path
    r1cs: Path
    wasm: Path
    keys: Path
    transcript: ceremony.Transcript
    verifier_name: str
    verifier_source: str
    commitments: dict[str, bytes] = field(default_factory=dict)
    test_sets: dict[str, TestSet] = field(default_factory=dict)
    proofs: dict[tuple[str, str, str, str], prover.Groth16Proof] = field(default_factory=dict)

    @property
    def verification_key(self) -> Path:
        return self.keys / ceremony.VERIFICATION_KEY

    def proof(
        self, model: str, test_set: str, submitter: str | int, via: prover.Prover = "groth16py"
    ) -> prover.Groth16Proof:
        """A real proof of ``model`` on ``test_set`` bound to ``submitter`` (memoised)."""
        key = (model, test_set, str(submitter), via)
        if key not in self.proofs:
            self.proofs[key] = prover.prove(
                self.keys,
                self.wasm,
                inputs(model, test_set, submitter),
                self.root / "work",
                name=f"{model}-{test_set}",
                prover=via,
            )
        return self.proofs[key]


def compile_circuit(root: Path, source: str = CIRCUIT, name: str = "tiny") -> tuple[Path, Path]:
    """circom2 -> (r1cs, wasm)."""
    root.mkdir(parents=True, exist_ok=True)
    circom = root / f"{name}.circom"
    circom.write_text(source)
    node_modules = toolchain.repo_root() / "node_modules"
    # circom2 (WASI) resolves include paths relative to its working directory.
    subprocess.run(
        [
            str(node_modules / ".bin" / "circom2"),
            str(circom),
            "--r1cs",
            "--wasm",
            "-o",
            str(root),
            "-l",
            "node_modules",
        ],
        check=True,
        capture_output=True,
        timeout=600,
        cwd=toolchain.repo_root(),
    )
    return root / f"{name}.r1cs", root / f"{name}_js" / f"{name}.wasm"


def build_kit(root: Path) -> Groth16Kit:
    """Compile, run phase 2 (publisher + one more contributor + beacon) on the dev ptau."""
    r1cs, wasm = compile_circuit(root)
    ptau = ceremony.check_ptau(ceremony.dev_ptau())
    keys = root / "keys"
    ceremony.start_phase2(r1cs, ptau, keys)
    ceremony.contribute(keys, name="second contributor")
    transcript = ceremony.finalize(keys, r1cs, ptau, beacon="5eed" * 16)
    name = solidity.contract_name("tinykit")
    source = solidity.render_verifier(keys / ceremony.VERIFICATION_KEY, name)
    kit = Groth16Kit(root, r1cs, wasm, keys, transcript, name, source)
    kit.commitments = {m: model_commitment(m) for m in MODELS}
    kit.test_sets = {s: TestSet(f"bafy-g16-{s}", (test_set_commitment(s),)) for s in TEST_SETS}
    return kit
