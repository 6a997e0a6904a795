"""Real proofs for the contract tests: a tiny circuit, a few models, two test sets.

Built once and cached on disk under ``$ZKPOT_TEST_KIT_DIR`` (by default
``$ZKPOT_STATE_DIR/cache/contract-kit``; circuit keys and proofs together, since a
rebuilt SRS makes old proofs useless), so reruns
reuse the same real EZKL proofs. Nothing here is faked: every proof verifies with
the real EZKL reusable verifier on anvil.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from zkpot import data, models, toolchain, train
from zkpot.chain import ChunkProof
from zkpot.proving import circuit
from zkpot.proving.ezkl import pipeline
from zkpot.proving.folder_lock import circuit_lock

SAMPLES = 4
CHUNKS = 2
# Two test sets of CHUNKS chunks each: round r uses TEST_SETS[r % 2].
TEST_SET_STARTS = {"s1": 1000, "s2": 1200}
# Which (model, test set) pairs get proofs.
PROVEN = [("a", "s1"), ("b", "s1"), ("c", "s1"), ("d", "s1"), ("a", "s2"), ("b", "s2")]
# Constant-output models ("always class k"): exact, known counts for rank admission and
# reward tests. On s1 (labels 1 4 0 5 3 6 9 6) "z" (always 8) scores 0, "k1" 1, "k6" 2.
CONSTANT_MODELS = {"z": 8, "k1": 1, "k6": 6}
PROVEN += [("z", "s1"), ("k1", "s1"), ("k6", "s1"), ("c", "s2")]


@dataclass(frozen=True)
class TestSet:
    """One round's test set: its chunks and their commitments."""

    __test__ = False

    cid: str
    batches: tuple[circuit.TestBatch, ...]
    chunk_commitments: tuple[bytes, ...]


@dataclass
class ProofKit:
    """The tiny circuit, its models' commitments, and their real proofs per test set."""

    artifacts: pipeline.CircuitArtifacts
    test_sets: dict[str, TestSet]
    commitments: dict[str, bytes]
    proofs: dict[tuple[str, str], list[ChunkProof]]
    counts: dict[tuple[str, str], int]

    def correct(self, model: str, test_set: str) -> int:
        return self.counts[(model, test_set)]


def _trained(seed: int, epochs: int) -> nn.Module:
    digits = data.load_digits()
    model = models.build_model(models.TINY_MLP, seed=seed)
    return train.train_local(
        model, digits.X[:800], digits.y[:800], epochs=epochs, lr=0.05, batch_size=32, seed=seed
    )


def _constant(model: nn.Module, label: int) -> nn.Module:
    """A copy of ``model`` whose output is always ``label`` (last layer zero, one bias up)."""
    out = copy.deepcopy(model)
    last = [m for m in out.modules() if isinstance(m, nn.Linear)][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()
        last.bias[label] = 2.0
    return out


def _batch(start: int) -> circuit.TestBatch:
    digits = data.load_digits()
    return circuit.TestBatch(digits.X[start : start + SAMPLES], digits.y[start : start + SAMPLES])


def _tie_twin(
    model: nn.Module, artifacts: pipeline.CircuitArtifacts, batches: list[circuit.TestBatch]
) -> nn.Module:
    """A model with other weights but the same count as ``model`` on every batch."""
    target = [pipeline.circuit_count(artifacts, model, b) for b in batches]
    for scale in (0.05, 0.02, 0.1, 0.01):
        twin = copy.deepcopy(model)
        with torch.no_grad():
            first = next(p for p in twin.parameters() if p.dim() == 2)
            first.add_(scale)
        if [pipeline.circuit_count(artifacts, twin, b) for b in batches] == target:
            return twin
    raise AssertionError("could not derive a model with equal counts (tie-break fixture)")


def _cache_dir() -> Path:
    # The test run names one folder for all its xdist workers (tests/conftest.py).
    chosen = os.environ.get("ZKPOT_TEST_KIT_DIR")
    return Path(chosen) if chosen else toolchain.state_dir() / "cache" / "contract-kit"


def build_kit() -> ProofKit:
    """Build (or load from the cache) the circuit, the models' commitments and proofs;
    one process at a time (xdist workers share the cache)."""
    root = _cache_dir()
    with circuit_lock(root):
        return _build_kit(root)


def _build_kit(root: Path) -> ProofKit:
    root.mkdir(parents=True, exist_ok=True)
    spec = circuit.CircuitSpec(models.TINY_MLP, samples=SAMPLES)
    batches = {
        name: [_batch(start + i * SAMPLES) for i in range(CHUNKS)]
        for name, start in TEST_SET_STARTS.items()
    }
    manifest = root / "kit.json"
    circuit_dir = root / spec.short_id
    if manifest.is_file() and (circuit_dir / "circuit.json").is_file():
        try:
            return _load(manifest, pipeline.CircuitArtifacts.load(circuit_dir), batches)
        except Exception:  # noqa: BLE001 - a stale cache is rebuilt below
            pass
    model_a, model_b, model_c = _trained(0, 5), _trained(1, 1), _trained(2, 2)
    artifacts = pipeline.setup_circuit(spec, model_a, batches["s1"][0], zk_dir=root)
    named = {"a": model_a, "b": model_b, "c": model_c}
    named["d"] = _tie_twin(model_a, artifacts, batches["s1"])
    named.update({k: _constant(model_a, label) for k, label in CONSTANT_MODELS.items()})
    work = root / "work"
    raw: dict[str, object] = {"commitments": {}, "proofs": {}}
    # One fresh blinding per kit model (a real participant draws one per round).
    blindings = {k: circuit.new_blinding() for k in named}
    commitments = {
        k: pipeline.model_commitment(artifacts, m, blinding=blindings[k]) for k, m in named.items()
    }
    raw["commitments"] = {k: v.hex() for k, v in commitments.items()}
    raw["blindings"] = {k: list(v) for k, v in blindings.items()}
    proofs: dict[str, list[dict[str, object]]] = {}
    for model_name, set_name in PROVEN:
        items = []
        for i, batch in enumerate(batches[set_name]):
            p = pipeline.prove(
                artifacts, named[model_name], batch, work, name=f"{model_name}-{set_name}-{i}",
                blinding=blindings[model_name],
            )
            items.append({"proof": p.proof.hex(), "instances": [str(v) for v in p.instances]})
        proofs[f"{model_name}/{set_name}"] = items
    raw["proofs"] = proofs
    pipeline.clean_workdir(work)
    manifest.write_text(json.dumps(raw))
    return _load(manifest, artifacts, batches)


def _load(
    manifest: Path,
    artifacts: pipeline.CircuitArtifacts,
    batches: dict[str, list[circuit.TestBatch]],
) -> ProofKit:
    raw = json.loads(manifest.read_text())
    test_sets = {}
    for name, chunks in batches.items():
        commits = tuple(pipeline.test_set_commitment(artifacts, b) for b in chunks)
        cid = "bafy-testset-" + hashlib.sha256(b"".join(commits)).hexdigest()[:16]
        test_sets[name] = TestSet(cid=cid, batches=tuple(chunks), chunk_commitments=commits)
    proofs: dict[tuple[str, str], list[ChunkProof]] = {}
    counts: dict[tuple[str, str], int] = {}
    for key, items in raw["proofs"].items():
        model_name, set_name = key.split("/")
        chunk_proofs = [
            ChunkProof(bytes.fromhex(i["proof"]), tuple(int(v) for v in i["instances"]))
            for i in items
        ]
        statements = [
            pipeline.statement_of(artifacts, p.proof, list(p.instances)) for p in chunk_proofs
        ]
        if [s.test_set_commitment for s in statements] != list(
            test_sets[set_name].chunk_commitments
        ):
            raise ValueError("cached proofs do not match the test sets")
        proofs[(model_name, set_name)] = chunk_proofs
        counts[(model_name, set_name)] = sum(s.correct for s in statements)
    if set(PROVEN) - set(proofs):
        raise ValueError("cached kit lacks proofs the tests now need")
    commitments = {k: bytes.fromhex(v) for k, v in raw["commitments"].items()}
    return ProofKit(artifacts, test_sets, commitments, proofs, counts)
