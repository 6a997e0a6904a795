"""Proven aggregation: the global model IS the weighted average of K committed local models.

The statement (circom circuit ``Aggregate``, emitted per accuracy spec and slot count K):

    "I know, for each slot i < K, quantized weights q_i and a blinding r_i with
    ``modelCommitment(q_i, r_i) = commitment[i]``, and a blinding r_g, such that
    ``modelCommitment(g, r_g) = globalCommitment`` where, parameter by parameter,
    ``g = floor((2 S + W) / (2 W))``, ``S = sum_i weight[i] * q_i``, ``W = sum_i weight[i] > 0``."

``modelCommitment`` is the accuracy circuit's own (:func:`circom.model_commitment`): the
same packing, range checks and Poseidon chain, emitted by the same template generator,
so the K commitments are exactly those the chain already holds from the accuracy proofs
and the global commitment is exactly what the global model's accuracy proof publishes.

**Rounding rule** (one rule, for every weight and bias, at that parameter's own scale):
round to nearest, ties toward +infinity: ``g = floor(S / W + 1/2) = (2 S + W) // (2 W)``.
So ``|g - S / W| <= 1/2`` unit of the parameter's scale (``2**-param_scale`` for weights,
``2**-(in_scale + param_scale)`` for biases). Against float FedAvg of the float models
(then quantized as EZKL quantizes), the fixed-point aggregate differs by at most one unit:
half a unit from quantizing each local model, half from this rounding.

**Weights** are non-negative integers (the verified correct counts) below
``2**weight_bits`` (range-checked in the circuit); their sum must be positive (W = 0 has
no witness: ``2W - 1 - r`` would be negative).

**Division** in the circuit: ``g`` is a witness, ``t = W * g`` one product, and the
remainder ``r = 2 S + W - 2 t`` is decomposed in ``RB`` bits, as is ``2 W - 1 - r``, so
``0 <= r < 2 W`` and ``g`` is the rounded quotient; ``g`` itself is range-checked by the
global model's ``ModelHash`` and each ``q_i`` by its slot's, so nothing wraps the field
(``|2 S + W| < 2**(weight_bits + log2 K + 32)``). ``S`` costs K products per parameter.

**Empty slots** (fewer than K participants): weight 0 and the padding model, whose
parameters and blinding are all zero; its commitment is :func:`padding_commitment`
(a constant per accuracy circuit, which the contract stores once). A weight-0 slot adds
nothing to the aggregate, whatever it holds; the contract fixes its commitment anyway.

**Public signals**, all public inputs, in circom's order:
``[commitment[0..K-1], weight[0..K-1], globalCommitment]``: ``2K + 1`` field elements
(5, 9, 17 for K = 2, 4, 8). snarkjs's verifier does one ECMUL + ECADD (6,150 gas) and
one calldata word per public signal on top of the fixed pairing check: a ``verifyProof``
transaction measured on anvil (``bench/aggregation_bench.py``, ``results/aggregation.md``)
cost 242,478 / 270,430 / 326,214 gas at K = 2 / 4 / 8, about 207.6k + 7.0k per signal.
Cheaper encodings, estimated from that fit: the K weights packed into one signal (each is
range-checked to ``weight_bits`` already, so packing is linear, free in the circuit; the
contract packs with shifts) gives K + 2 signals, ~277k gas at K = 8; one signal
``H = Poseidon(commitments, weights, globalCommitment)`` gives a ~215k verifier but the
contract must recompute a 17-element Poseidon (~16 two-input hashes at ~30k gas each on
chain), which costs more than it saves. The straightforward layout is what is built.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from zkpot.errors import AggregationProofError, ProvingError
from zkpot.models import build_model
from zkpot.proving import fixedpoint
from zkpot.proving.aggregation import (
    AggregationCircuit,
    AggregationProof,
    AggregationStatement,
    ModelParams,
)
from zkpot.proving.circuit import (
    BLINDING_SIZE,
    CIRCOM_VERSION,
    Blinding,
    CircuitSpec,
    check_blinding,
)
from zkpot.proving.curve import SCALAR_MODULUS
from zkpot.proving.groth16 import ceremony, circom, prover, solidity
from zkpot.proving.groth16.packing import Segment, pack
from zkpot.proving.groth16.templates import TEMPLATES
from zkpot.proving.verifier import VerifierArtifacts

AGGREGATION_NAME = "aggregate"
"""Base name of the aggregation circuit's circom source and outputs."""
STATEMENT_VERSION = "weighted-mean-half-up-v1"
"""Names the aggregation statement; part of the circuit id."""
DEFAULT_WEIGHT_BITS = 16
"""Each weight (a verified correct count) is below ``2**16``."""
PADDING_BLINDING: Blinding = (0,) * BLINDING_SIZE
"""The empty slot's blinding (its parameters are zero too)."""



# --- the fixed-point aggregate --------------------------------------------------------


def quantized_params(spec: CircuitSpec, model: nn.Module) -> ModelParams:
    """``model``'s quantized weights and biases, exactly as the accuracy circuit commits them."""
    return tuple(tuple(part) for part in circom.model_values(spec, model))


def _weighted_parts(spec: CircuitSpec) -> list[Segment]:
    return [segment for segment, _, _ in circom.plan(spec).model_parts()[:-1]]


def _check_params(spec: CircuitSpec, params: ModelParams) -> ModelParams:
    segments = _weighted_parts(spec)
    if len(params) != len(segments) or any(
        len(part) != segment.count for part, segment in zip(params, segments, strict=True)
    ):
        raise AggregationProofError(
            f"The quantized parameters do not fit the {spec.architecture.name} circuit",
            "pass models of the task's architecture",
        )
    for part, segment in zip(params, segments, strict=True):
        pack(segment, part)  # range check, one clear error
    return params


def _as_params(spec: CircuitSpec, model: nn.Module | ModelParams) -> ModelParams:
    if isinstance(model, nn.Module):
        return quantized_params(spec, model)
    return _check_params(spec, tuple(tuple(int(v) for v in part) for part in model))


def check_weights(weights: Sequence[int], bits: int = DEFAULT_WEIGHT_BITS) -> tuple[int, ...]:
    """The weights as ints, or an error unless each is in ``[0, 2**bits)`` and their sum > 0."""
    if not all(isinstance(w, int | np.integer) and not isinstance(w, bool) for w in weights):
        raise AggregationProofError("Aggregation weights must be integers (verified counts)",
                                    "pass each participant's verified correct count")
    checked = tuple(int(w) for w in weights)
    if any(not 0 <= w < 1 << bits for w in checked) or sum(checked) <= 0:
        raise AggregationProofError(
            f"Aggregation weights {list(checked)} must lie in [0, 2^{bits}) with a positive sum",
            "aggregate at least one model with a positive verified count",
        )
    return checked


def rounded_mean(values: Sequence[int], weights: Sequence[int]) -> int:
    """``floor((2 S + W) / (2 W))``: the weighted mean rounded to nearest, ties up."""
    total = sum(weights)
    s = sum(w * v for w, v in zip(weights, values, strict=True))
    return (2 * s + total) // (2 * total)


def fixed_point_aggregate(
    spec: CircuitSpec,
    models: Sequence[nn.Module | ModelParams],
    weights: Sequence[int],
    *,
    weight_bits: int = DEFAULT_WEIGHT_BITS,
) -> ModelParams:
    """The global model's quantized parameters: :func:`rounded_mean` of each parameter.

    ``models`` are torch models of the spec's architecture or their
    :func:`quantized_params`; ``weights`` their verified correct counts. Exactly the
    integers the ``Aggregate`` circuit computes.
    """
    if len(models) != len(weights) or not models:
        raise AggregationProofError(
            f"{len(models)} models and {len(weights)} weights do not pair up",
            "pass one weight per model",
        )
    checked = check_weights(weights, weight_bits)
    params = [_as_params(spec, m) for m in models]
    return tuple(
        tuple(rounded_mean(column, checked) for column in zip(*parts, strict=True))
        for parts in zip(*params, strict=True)
    )


def to_model(spec: CircuitSpec, params: ModelParams) -> nn.Module:
    """A float32 model of the spec's architecture whose quantization gives back ``params``.

    Each integer ``v`` at scale ``s`` becomes ``v / 2**s``, exact in float32 when
    ``|v| < 2**24`` (every weight; biases below ``2**(24 - s)`` in value). A parameter
    that float32 cannot hold exactly is an :class:`AggregationProofError`: the round
    trip is checked, never assumed.
    """
    _check_params(spec, params)
    model = build_model(spec.architecture)
    layers = [layer for layer in fixedpoint.quantize_model(spec, model).layers
              if isinstance(layer, fixedpoint.QLinear | fixedpoint.QConv2d)]
    modules = [m for m in model.modules() if isinstance(m, nn.Linear | nn.Conv2d)]
    with torch.no_grad():
        for k, (module, layer) in enumerate(zip(modules, layers, strict=True)):
            bias_scale = layer.in_scale + spec.param_scale
            for tensor, part, scale in ((module.weight, params[2 * k], spec.param_scale),
                                        (module.bias, params[2 * k + 1], bias_scale)):
                assert tensor is not None
                values = np.array(part, dtype=np.float64) / float(2**scale)
                tensor.copy_(torch.from_numpy(values).reshape(tensor.shape).to(tensor.dtype))
    if quantized_params(spec, model) != params:
        raise AggregationProofError(
            "The aggregate has a parameter float32 cannot hold exactly",
            "keep biases below 2^(24 - scale) in magnitude or use smaller scales",
        )
    return model.eval()


def commitment_of(spec: CircuitSpec, params: ModelParams, blinding: Blinding) -> bytes:
    """The accuracy circuit's model commitment of ``params`` (via :func:`to_model`)."""
    return circom.model_commitment(spec, to_model(spec, params), blinding)


def padding_params(spec: CircuitSpec) -> ModelParams:
    """The empty slot's model: every weight and bias zero."""
    return tuple((0,) * segment.count for segment in _weighted_parts(spec))


def padding_commitment(spec: CircuitSpec) -> bytes:
    """The commitment an empty slot carries: zero parameters, zero blinding."""
    return commitment_of(spec, padding_params(spec), PADDING_BLINDING)


# --- the circuit ------------------------------------------------------------------------


@dataclass(frozen=True)
class AggregationSpec:
    """What fixes an aggregation circuit: the accuracy circuit, K slots, the weights' width."""

    spec: CircuitSpec
    """The task's (Groth16) accuracy circuit; its model commitment is reused verbatim."""
    slots: int
    """K: the most models one aggregation proof covers."""
    weight_bits: int = DEFAULT_WEIGHT_BITS
    """Each weight lies in ``[0, 2**weight_bits)``."""

    def __post_init__(self) -> None:
        if not 1 <= self.slots <= 64 or not 1 <= self.weight_bits <= 64:
            raise AggregationProofError(
                f"An aggregation circuit takes 1 to 64 slots and weights of 1 to 64 bits, not "
                f"{self.slots} and {self.weight_bits}",
                "choose K = the round's largest number of participants",
            )

    @property
    def remainder_bits(self) -> int:
        """``RB``: ``2**RB > 2 W - 1`` for every admissible weight sum ``W``."""
        return (2 * self.slots * ((1 << self.weight_bits) - 1) - 1).bit_length()

    @property
    def public_signals(self) -> int:
        """``2K + 1``."""
        return 2 * self.slots + 1

    @property
    def circuit_id(self) -> str:
        """sha256 over the accuracy circuit's id, K, the weights' width and the statement."""
        fields = {"accuracy": self.spec.circuit_id, "slots": self.slots,
                  "weight_bits": self.weight_bits, "statement": STATEMENT_VERSION,
                  "circom": CIRCOM_VERSION}
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def short_id(self) -> str:
        """The first 16 hex digits of :attr:`circuit_id`."""
        return self.circuit_id[:16]


MEAN_TEMPLATE = r"""
// g[j] = floor((2 S_j + W) / (2 W)), S_j = sum_i weight[i] * q[i][j], W = total > 0:
// r = 2 S_j + W - 2 W g[j] and 2 W - 1 - r are decomposed in RB bits, so 0 <= r < 2 W.
// The caller range-checks q and g (each enters a ModelHash), so nothing wraps; OFFSET
// (q + OFFSET >= 0) only keeps the witness's integer division on non-negative values.
template WeightedMean(K, n, OFFSET, RB) {
    signal input q[K][n];
    signal input weight[K];
    signal input total;
    signal output g[n];
    signal prod[K][n];
    signal scaled[n];
    component low[n];
    component high[n];
    for (var j = 0; j < n; j++) {
        var s = 0;
        var shifted = 0;
        for (var i = 0; i < K; i++) {
            prod[i][j] <== weight[i] * q[i][j];
            s += prod[i][j];
            shifted += weight[i] * (q[i][j] + OFFSET);
        }
        g[j] <-- (2 * shifted + total) \ (2 * total) - OFFSET;
        scaled[j] <== total * g[j];
        low[j] = Num2Bits(RB);
        low[j].in <== 2 * s + total - 2 * scaled[j];
        high[j] = Num2Bits(RB);
        high[j].in <== total - 1 - 2 * s + 2 * scaled[j];
    }
}
"""


def emit_aggregation_circuit(agg: AggregationSpec) -> str:
    """The circom 2 source of ``Aggregate`` for ``agg`` (see the module docstring)."""
    p = circom.plan(agg.spec)
    parts = p.model_parts()
    k_slots = agg.slots
    lines = [f"// zkpot aggregation circuit {agg.circuit_id}: {k_slots} x "
             f"{agg.spec.architecture.name} (accuracy circuit {agg.spec.circuit_id})",
             "// Generated by zkpot.proving.groth16.aggregation; do not edit.",
             "pragma circom 2.1.0;", "",
             'include "circomlib/circuits/bitify.circom";',
             'include "circomlib/circuits/poseidon.circom";', "",
             TEMPLATES, MEAN_TEMPLATE, circom.chain_template("ModelHash", parts),
             "template Aggregate(K) {",
             "    signal input commitment[K];",
             "    signal input weight[K];",
             "    signal input globalCommitment;"]
    weighted = parts[:-1]
    for _, name, shape in weighted:
        dims = "".join(f"[{d}]" for d in shape)
        lines.append(f"    signal input {name}[K]{dims};")
    lines += [f"    signal input blinding[K][{BLINDING_SIZE}];",
              f"    signal input globalBlinding[{BLINDING_SIZE}];", "",
              "    component weightBits[K];",
              "    var sum = 0;",
              "    for (var i = 0; i < K; i++) {",
              f"        weightBits[i] = Num2Bits({agg.weight_bits});",
              "        weightBits[i].in <== weight[i];",
              "        sum += weight[i];",
              "    }",
              "    signal total <== sum;", "",
              "    // Each slot's model opens the commitment the chain holds for it.",
              "    component local[K];",
              "    for (var i = 0; i < K; i++) {",
              "        local[i] = ModelHash();"]
    lines += [f"        local[i].{name} <== {name}[i];" for _, name, _ in weighted]
    lines += ["        local[i].blinding <== blinding[i];",
              "        local[i].out === commitment[i];",
              "    }", "",
              "    component globalModel = ModelHash();"]
    for segment, name, shape in weighted:
        mean = f"mean_{name}"
        lines += [f"    component {mean} = WeightedMean(K, {segment.count}, {segment.offset}, "
                  f"{agg.remainder_bits});",
                  f"    {mean}.weight <== weight;",
                  f"    {mean}.total <== total;"]
        if len(shape) == 1:
            lines += [f"    for (var i = 0; i < K; i++) for (var r = 0; r < {shape[0]}; r++) "
                      f"{mean}.q[i][r] <== {name}[i][r];",
                      f"    for (var r = 0; r < {shape[0]}; r++) globalModel.{name}[r] <== "
                      f"{mean}.g[r];"]
        else:
            rows, cols = shape
            lines += [f"    for (var i = 0; i < K; i++) for (var r = 0; r < {rows}; r++) "
                      f"for (var c = 0; c < {cols}; c++) {mean}.q[i][r * {cols} + c] <== "
                      f"{name}[i][r][c];",
                      f"    for (var r = 0; r < {rows}; r++) for (var c = 0; c < {cols}; c++) "
                      f"globalModel.{name}[r][c] <== {mean}.g[r * {cols} + c];"]
    lines += ["    globalModel.blinding <== globalBlinding;",
              "    globalModel.out === globalCommitment;", "}", "",
              f"component main {{public [commitment, weight, globalCommitment]}} = "
              f"Aggregate({k_slots});", ""]
    return "\n".join(lines)


# --- statement and witness input --------------------------------------------------------


def statement(agg: AggregationSpec, commitments: Sequence[bytes], weights: Sequence[int],
              global_commitment: bytes) -> AggregationStatement:
    """The K-slot statement for ``len(commitments) <= K`` included models, padded."""
    if len(commitments) != len(weights) or not 1 <= len(commitments) <= agg.slots:
        raise AggregationProofError(
            f"{len(commitments)} commitments and {len(weights)} weights do not fit "
            f"{agg.slots} slots",
            "aggregate at most K models, one weight each",
        )
    empty = agg.slots - len(commitments)
    padded = (*(bytes(c) for c in commitments), *([padding_commitment(agg.spec)] * empty))
    return AggregationStatement(padded, (*check_weights(weights, agg.weight_bits),
                                         *([0] * empty)), bytes(global_commitment))


def _felt(value: int) -> str:
    return str(int(value) % SCALAR_MODULUS)


def aggregation_inputs(
    agg: AggregationSpec,
    models: Sequence[nn.Module | ModelParams],
    blindings: Sequence[Blinding],
    public: AggregationStatement,
    global_blinding: Blinding,
) -> dict[str, object]:
    """The witness input: the included models (padded to K) under ``public``'s statement.

    Nothing here checks that the models match ``public``: the circuit does (a mismatch
    has no witness), which is the point of the proof.
    """
    if len(models) != len(blindings) or not 1 <= len(models) <= agg.slots:
        raise AggregationProofError(f"{len(models)} models and {len(blindings)} blindings do "
                                    f"not fit {agg.slots} slots", "pass one blinding per model")
    empty = agg.slots - len(models)
    params = [_as_params(agg.spec, m) for m in models] + [padding_params(agg.spec)] * empty
    opened = [check_blinding(b) for b in blindings] + [PADDING_BLINDING] * empty
    parts = circom.plan(agg.spec).model_parts()[:-1]
    inputs: dict[str, object] = {
        "commitment": [_felt(int.from_bytes(c, "big")) for c in public.commitments],
        "weight": [_felt(w) for w in public.weights],
        "globalCommitment": _felt(int.from_bytes(public.global_commitment, "big")),
    }
    for index, (_, name, shape) in enumerate(parts):
        width = shape[-1]
        per_slot = []
        for slot in params:
            flat = [_felt(v) for v in slot[index]]
            per_slot.append(flat if len(shape) == 1 else
                            [flat[r : r + width] for r in range(0, len(flat), width)])
        inputs[name] = per_slot
    inputs["blinding"] = [[_felt(v) for v in b] for b in opened]
    inputs["globalBlinding"] = [_felt(v) for v in check_blinding(global_blinding)]
    return inputs


# --- compile, keys, prove, verify -------------------------------------------------------


AGGREGATION_DESCRIPTOR = "aggregation.json"
"""An aggregation folder's descriptor (ids, K, weight width, constraints, how keyed)."""


def folder_name(slots: int) -> str:
    """The aggregation folder of K slots inside its accuracy circuit's folder."""
    return f"aggregate-k{slots}"


@dataclass(frozen=True)
class Groth16AggregationCircuit(ceremony.CircuitFolder, AggregationCircuit):
    """A compiled and keyed aggregation circuit in ``directory``.

    ``directory`` = ``<accuracy circuit folder>/aggregate-k<K>/``: ``aggregate.circom``
    and ``aggregation.json`` (published), ``keys/`` (verification key, transcript,
    proving key; published), ``build/`` (compiled from the spec; derived).
    """

    agg: AggregationSpec
    directory: Path
    circuit_name = AGGREGATION_NAME

    @classmethod
    def open(cls, spec: CircuitSpec, directory: Path) -> Groth16AggregationCircuit:
        """The folder's circuit for accuracy circuit ``spec``.

        Refused unless its descriptor names this accuracy circuit and an id that matches
        its K and weight width.
        """
        try:
            data = json.loads((directory / AGGREGATION_DESCRIPTOR).read_text())
            agg = AggregationSpec(spec, int(data["slots"]), int(data["weight_bits"]))
            claimed = (str(data["circuit_id"]), str(data["accuracy_circuit_id"]))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise AggregationProofError(
                f"{directory} holds no readable aggregation circuit ({error})",
                "fetch the task's circuit again or rerun `zkpot task create`") from error
        if claimed != (agg.circuit_id, spec.circuit_id):
            raise AggregationProofError(
                f"The aggregation circuit in {directory} is not the task's",
                "fetch the task's circuit again")
        return cls(agg, directory)

    @property
    def descriptor(self) -> dict[str, Any]:
        """What :func:`setup_aggregation` recorded (constraints, times, how it was keyed)."""
        loaded: dict[str, Any] = json.loads((self.directory / AGGREGATION_DESCRIPTOR).read_text())
        return loaded

    def published_files(self) -> list[Path]:
        """What a task publishes (the build compiles from the spec).

        The source, descriptor, verification key, transcript and proving key.
        """
        return [self.source, self.directory / AGGREGATION_DESCRIPTOR, self.verification_key,
                self.transcript, prover.proving_key(self.keys_dir)]

    def require_build(self) -> None:
        """Compile ``build/`` unless there; the source must be what the spec emits."""
        if self.source.is_file() and self.source.read_text() != emit_aggregation_circuit(self.agg):
            raise AggregationProofError(
                f"The aggregation circuit source in {self.directory} is not the spec's",
                "fetch the task's circuit again")
        if not (self.r1cs.is_file() and self.wasm.is_file()):
            compile_aggregation(self.agg, self.build_dir)

    def complete_fetched(self) -> None:
        """Check fetched keys against the transcript and compile the build.

        Refused when the key or the compiled circuit is not the one the transcript names.
        """
        mismatch = ceremony.fetched_mismatch(self.keys_dir, self.r1cs, self.require_build)
        if mismatch == "key":
            raise AggregationProofError(
                "The task's aggregation proving key is not the one its transcript names",
                "do not lead this task's rounds; report the publisher")
        if mismatch == "circuit":
            raise AggregationProofError(
                "The aggregation circuit compiled from the task's spec is not the one its keys "
                "were made for", "do not lead this task's rounds; report the publisher")

    # -- the interface: see :class:`zkpot.proving.aggregation.AggregationCircuit` -----------

    @property
    def slots(self) -> int:
        return self.agg.slots

    @property
    def short_id(self) -> str:
        return self.agg.short_id

    @property
    def insecure(self) -> bool:
        """Read from the published transcript; an unreadable one counts as INSECURE."""
        try:
            return ceremony.Transcript.load(self.transcript).insecure
        except ProvingError:
            return True

    def aggregate(self, models: Sequence[nn.Module], weights: Sequence[int]) -> ModelParams:
        return fixed_point_aggregate(self.agg.spec, models, weights)

    def to_model(self, params: ModelParams) -> nn.Module:
        return to_model(self.agg.spec, params)

    def prove(
        self,
        models: Sequence[nn.Module],
        blindings: Sequence[Blinding],
        commitments: Sequence[bytes],
        weights: Sequence[int],
        global_params: ModelParams,
        global_blinding: Blinding,
        workdir: Path,
    ) -> AggregationProof:
        return prove_aggregate(self, models, blindings, commitments, weights, global_params,
                               global_blinding, workdir)

    def statement(self, commitments: Sequence[bytes], weights: Sequence[int],
                  global_commitment: bytes) -> AggregationStatement:
        return statement(self.agg, commitments, weights, global_commitment)

    def verify(self, proof: bytes, signals: Sequence[int]) -> bool:
        return verify_aggregation(self, proof, signals)

    def verifier_artifacts(self) -> VerifierArtifacts:
        """The generated verifier and its ``Groth16AggregationVerifier`` adapter.

        A deployed adapter must answer the circuit's ids and K and the spec's padding
        commitment, and call code compiled from the published verification key.
        """
        agg = self.agg
        ids = (bytes.fromhex(agg.circuit_id), bytes.fromhex(agg.spec.circuit_id))
        padding = padding_commitment(agg.spec)
        return VerifierArtifacts(
            solidity.compile_verifier(verifier_source(self), verifier_name(agg)),
            "Groth16AggregationVerifier", (*ids, agg.slots, padding),
            facts=(("circuit id", "circuitId", ids[0]),
                   ("accuracy circuit id", "accuracyCircuitId", ids[1]),
                   ("slots", "slots", agg.slots),
                   ("padding commitment", "paddingCommitment", padding)),
            verifier_getter="groth16Verifier",
        )


def compile_aggregation(agg: AggregationSpec, out_dir: Path) -> Path:
    """Emit and compile ``agg``'s circuit into ``out_dir``; the ``.r1cs``.

    The same compiler invocation as the accuracy circuit's (:func:`circom.compile_source`).
    """
    try:
        compiled = circom.compile_source(emit_aggregation_circuit(agg), AGGREGATION_NAME, out_dir,
                                         f"{agg.slots}-slot aggregation circuit")
    except ProvingError as error:
        raise AggregationProofError(error.message, error.hint) from error
    return compiled.r1cs


def setup_aggregation(agg: AggregationSpec, directory: Path, *,
                      ptau: Path | ceremony.PtauInfo | None = None) -> Groth16AggregationCircuit:
    """Compile and key ``agg``'s circuit in ``directory``.

    Keys as :meth:`Groth16Circuit.setup` makes them: a phase 2 on ``ptau`` (checked by
    hash: a path must be a known file, a :class:`ceremony.PtauInfo` was checked by the
    caller), else on the INSECURE development file when the circuit fits it, else the
    INSECURE single-party setup.
    """
    circ = Groth16AggregationCircuit(agg, directory)
    started = time.perf_counter()
    compile_aggregation(agg, circ.build_dir)
    circ.source.write_text(emit_aggregation_circuit(agg))
    compiled = time.perf_counter()
    info = ceremony.r1cs_info(circ.r1cs)
    if info.public_signals != agg.public_signals:
        raise AggregationProofError(f"The compiled circuit has {info.public_signals} public "
                                    f"signals, not {agg.public_signals}", "report this bug")
    checked: ceremony.PtauInfo | None = None
    if isinstance(ptau, ceremony.PtauInfo):
        checked = ptau
    elif ptau is not None:
        checked = ceremony.check_ptau(ptau)
    elif info.required_power <= ceremony.ptau_power(ceremony.dev_ptau()):
        checked = ceremony.check_ptau(ceremony.dev_ptau())
    circ.keys_dir.mkdir(parents=True, exist_ok=True)
    if checked is not None:
        ceremony.start_phase2(circ.r1cs, checked, circ.keys_dir)
        transcript = ceremony.finalize(circ.keys_dir, circ.r1cs, checked,
                                       beacon=hashlib.sha256(agg.circuit_id.encode()).hexdigest())
    else:
        transcript = ceremony.insecure_setup(circ.r1cs, circ.keys_dir)
    data = {
        "circuit_id": agg.circuit_id,
        "accuracy_circuit_id": agg.spec.circuit_id,
        "slots": agg.slots,
        "weight_bits": agg.weight_bits,
        "constraints": info.constraints,
        "public_signals": info.public_signals,
        "required_power": info.required_power,
        "single_party": transcript.single_party,
        "insecure": transcript.insecure,
        "compile_seconds": round(compiled - started, 1),
        "setup_seconds": round(time.perf_counter() - compiled, 1),
    }
    (directory / AGGREGATION_DESCRIPTOR).write_text(
        json.dumps(data, indent=2, sort_keys=True) + "\n")
    return circ


def witness(circ: Groth16AggregationCircuit, inputs: dict[str, object], workdir: Path,
            name: str = "aggregate") -> tuple[Path, list[int]]:
    """The witness file and its public signals; a :class:`ProvingError` if none exists."""
    wtns = prover.compute_witness(circ.wasm, inputs, workdir, name)
    return wtns, prover.public_signals(wtns, circ.agg.public_signals)


def prove_aggregation(circ: Groth16AggregationCircuit, inputs: dict[str, object],
                      workdir: Path, name: str = "aggregate") -> prover.Groth16Proof:
    """Witness and proof (groth16py in a child process) of ``inputs``.

    A :class:`ProvingError` from the witness step when the inputs do not satisfy the
    statement (a model that does not open its commitment, a global model that is not
    the aggregate, a weight out of range).
    """
    return prover.prove(circ.keys_dir, circ.wasm, inputs, workdir, name,
                        public_count=circ.agg.public_signals)


def verify_aggregation(circ: Groth16AggregationCircuit, proof: bytes,
                       signals: Sequence[int]) -> bool:
    """Whether ``proof`` verifies for ``signals`` (2K + 1 field elements); never raises."""
    if len(proof) != prover.PROOF_BYTES or len(signals) != circ.agg.public_signals or any(
        not 0 <= int(v) < prover.FIELD_MODULUS for v in signals
    ):
        return False
    import groth16py

    try:
        vk = groth16py.VerifyingKey.from_snarkjs(circ.verification_key.read_text())
        return bool(groth16py.Verifier(vk).verify(proof, [int(v) for v in signals]))
    except Exception:  # noqa: BLE001 - an undecodable point is an invalid proof
        return False


def prove_aggregate(
    circ: Groth16AggregationCircuit,
    models: Sequence[nn.Module | ModelParams],
    blindings: Sequence[Blinding],
    commitments: Sequence[bytes],
    weights: Sequence[int],
    global_params: ModelParams,
    global_blinding: Blinding,
    workdir: Path,
) -> AggregationProof:
    """Prove that ``global_params`` is the aggregate of ``models`` in slot order.

    The statement's public side: ``commitments`` and ``weights`` (what the contract
    recomputes from its records) and the commitment of ``global_params`` with
    ``global_blinding``. Checked with the verification key before it is returned.
    """
    circ.require_build()
    public = statement(circ.agg, commitments, weights,
                       commitment_of(circ.agg.spec, global_params, global_blinding))
    inputs = aggregation_inputs(circ.agg, models, blindings, public, global_blinding)
    made = prove_aggregation(circ, inputs, workdir)
    if made.public_signals != public.public_signals() or not verify_aggregation(
            circ, made.proof, made.public_signals):
        raise AggregationProofError("The aggregation proof does not verify",
                                    "check the circuit folder and aggregate again")
    return AggregationProof(made.proof, public, made.witness_seconds + made.prove_seconds)


def verifier_name(agg: AggregationSpec) -> str:
    """The generated Solidity verifier's contract name."""
    return solidity.contract_name(f"agg{agg.short_id}")


def verifier_source(circ: Groth16AggregationCircuit) -> str:
    """The snarkjs-template Solidity verifier of the circuit's verification key."""
    return solidity.render_verifier(circ.verification_key, verifier_name(circ.agg))


__all__ = [
    "AGGREGATION_NAME",
    "DEFAULT_WEIGHT_BITS",
    "MEAN_TEMPLATE",
    "PADDING_BLINDING",
    "STATEMENT_VERSION",
    "Groth16AggregationCircuit",
    "AggregationProofError",
    "AggregationSpec",
    "AggregationStatement",
    "ModelParams",
    "aggregation_inputs",
    "check_weights",
    "commitment_of",
    "compile_aggregation",
    "emit_aggregation_circuit",
    "fixed_point_aggregate",
    "padding_commitment",
    "padding_params",
    "prove_aggregation",
    "quantized_params",
    "rounded_mean",
    "setup_aggregation",
    "statement",
    "to_model",
    "verifier_name",
    "verifier_source",
    "verify_aggregation",
    "witness",
    "AggregationProof",
    "prove_aggregate",
    "AGGREGATION_DESCRIPTOR",
    "folder_name",
]
