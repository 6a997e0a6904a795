"""The emitted Groth16 circuit, compiled for real: counts, commitments and soundness."""

from __future__ import annotations

import copy
import functools
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from torch import nn

from zkpot import data, models, train
from zkpot.errors import ProvingError
from zkpot.proving import circuit, fixedpoint
from zkpot.proving.groth16 import circom, packing, prover

from . import r1cs_eval

SAMPLES = 4
SUBMITTER = "0x" + "5e" * 20


def tiny_spec(samples: int = SAMPLES) -> circuit.CircuitSpec:
    return circuit.CircuitSpec(models.TINY_MLP, samples=samples, backend="groth16")


def digits_batch(samples: int, start: int = 1000) -> circuit.TestBatch:
    digits = data.load_digits()
    return circuit.TestBatch(digits.X[start : start + samples], digits.y[start : start + samples])


def trained_model(seed: int = 0, epochs: int = 5) -> nn.Module:
    digits = data.load_digits()
    model = models.build_model(models.TINY_MLP, seed=seed)
    return train.train_local(model, digits.X[:800], digits.y[:800], epochs=epochs, lr=0.05,
                             batch_size=32, seed=seed)


def _with_params(fill: Callable[[str, torch.Tensor], None]) -> nn.Module:
    model = models.build_model(models.TINY_MLP, seed=0)
    with torch.no_grad():
        for name, param in model.named_parameters():
            fill(name, param)
    return model


def degenerate_models(batch: circuit.TestBatch) -> dict[str, nn.Module]:
    """Models whose logits tie or never depend on the input."""
    last = f"{len(models.TINY_MLP.hidden) * 2}"

    def zero(_name: str, param: torch.Tensor) -> None:
        param.zero_()

    def constant(name: str, param: torch.Tensor) -> None:
        # Zero weights, distinct output biases: every sample gets the same logits, and
        # exactly the samples of the biggest bias's class are hits.
        param.zero_()
        if name == f"{last}.bias":
            param.copy_(torch.linspace(-0.5, 0.5, param.shape[0]))
            param[int(batch.y[0])] = 1.0

    tied = copy.deepcopy(trained_model())
    with torch.no_grad():
        head = tied[-1]
        assert isinstance(head, nn.Linear)
        # Copy the first sample's true class onto another: those two classes tie everywhere.
        true, other = int(batch.y[0]), (int(batch.y[0]) + 1) % models.TINY_MLP.num_classes
        head.weight[other] = head.weight[true]
        head.bias[other] = head.bias[true]
    return {"all-zero": _with_params(zero), "constant": _with_params(constant), "tied": tied}


def all_models(batch: circuit.TestBatch) -> dict[str, nn.Module]:
    return {"trained": trained_model(), "untrained": models.build_model(models.TINY_MLP, seed=7),
            **degenerate_models(batch)}


def compiled_circuit(spec: circuit.CircuitSpec, root: Path) -> circom.CompiledCircuit:
    """Compile ``spec``'s circuit once per test session (shared by the test modules)."""
    out = root / f"groth16-{spec.short_id}"
    done = out / "done"
    if not done.is_file():
        shutil.rmtree(out, ignore_errors=True)
        compiled = circom.compile_circuit(spec, out)
        done.write_text("ok")
        return compiled
    name = circom.CIRCUIT_NAME
    return circom.CompiledCircuit(out / f"{name}.circom", out / f"{name}.r1cs",
                                  out / f"{name}_js" / f"{name}.wasm", out / f"{name}.sym")


@dataclass(frozen=True)
class Tiny:
    spec: circuit.CircuitSpec
    compiled: circom.CompiledCircuit
    batch: circuit.TestBatch
    work: Path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Tiny:
    spec = tiny_spec()
    compiled = compiled_circuit(spec, tmp_path_factory.getbasetemp())
    return Tiny(spec, compiled, digits_batch(SAMPLES), tmp_path_factory.mktemp("witness"))


def public_signals(tiny: Tiny, model: nn.Module, name: str,
                   blinding: circuit.Blinding | None = None) -> list[int]:
    inputs = circom.circuit_inputs(tiny.spec, model, blinding or circuit.new_blinding(),
                                   tiny.batch, SUBMITTER)
    return circom.witness(tiny.compiled, inputs, tiny.work / f"{name}.wtns")


MODEL_NAMES = ["trained", "untrained", "all-zero", "constant", "tied"]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_circuit_count_equals_fixedpoint_count(tiny: Tiny, name: str) -> None:
    model = all_models(tiny.batch)[name]
    signals = public_signals(tiny, model, name)
    assert signals[0] == fixedpoint.count(tiny.spec, model, tiny.batch)


def test_degenerate_models_score_as_strict_wins(tiny: Tiny) -> None:
    degenerate = degenerate_models(tiny.batch)
    assert public_signals(tiny, degenerate["all-zero"], "zero")[0] == 0
    first_class = int(tiny.batch.y[0])
    assert public_signals(tiny, degenerate["constant"], "constant")[0] == int(
        (tiny.batch.y == first_class).sum())
    # The tie costs the first sample its hit, whatever the trained model scored on it.
    tied = degenerate["tied"]
    assert not fixedpoint.strict_wins(fixedpoint.logits(tiny.spec, tied, tiny.batch.X),
                                      tiny.batch.y)[0]


def test_commitments_equal_the_python_twins(tiny: Tiny) -> None:
    model, blinding = trained_model(), circuit.new_blinding()
    signals = public_signals(tiny, model, "twins", blinding)
    assert signals[1].to_bytes(32, "big") == circom.model_commitment(tiny.spec, model, blinding)
    assert signals[2].to_bytes(32, "big") == circom.test_set_commitment(tiny.spec, tiny.batch)
    assert signals[3] == int(SUBMITTER, 16)


def test_another_blinding_changes_only_the_model_commitment(tiny: Tiny) -> None:
    model = trained_model()
    first = public_signals(tiny, model, "blind-a", circuit.new_blinding())
    second = public_signals(tiny, model, "blind-b", circuit.new_blinding())
    assert first[1] != second[1]
    assert (first[0], first[2], first[3]) == (second[0], second[2], second[3])


def test_another_batch_changes_the_test_set_commitment(tiny: Tiny) -> None:
    other = digits_batch(SAMPLES, start=1200)
    assert circom.test_set_commitment(tiny.spec, other) != circom.test_set_commitment(
        tiny.spec, tiny.batch)


def test_poseidon_is_circomlibs() -> None:
    # circomlib's test vector for Poseidon([1, 2]).
    expected = 0x115CC0F5E7D690413DF64C6B9662E9CF2A3617F2743245519E19607A4417189A
    assert packing.poseidon([1, 2]) == expected


@functools.cache
def _wires(sym: Path) -> dict[str, int]:
    """Signal name -> its wire (the first listed), for the signals that are still wires."""
    wires: dict[str, int] = {}
    for line in sym.read_text().splitlines():
        _label, wire, _component, signal = line.split(",", 3)
        if int(wire) >= 0:
            wires.setdefault(signal, int(wire))
    return wires


def _wire(compiled: circom.CompiledCircuit, name: str, missing: int | None = None) -> int:
    wire = _wires(compiled.sym).get(name)
    if wire is not None:
        return wire
    if missing is not None:
        return missing
    raise AssertionError(f"{name} is not a wire of the compiled circuit")


@functools.cache
def _constraints(r1cs: Path) -> r1cs_eval.R1cs:
    return r1cs_eval.load(r1cs)


def _tampered(tiny: Tiny, honest: Path, changes: dict[int, int], name: str,
              reference: bool = False) -> bool:
    """Whether the honest witness with ``changes`` still satisfies the constraints.

    Checked by :mod:`r1cs_eval` (the circuit read once); with ``reference`` also by
    ``snarkjs wtns check``, which must agree.
    """
    values = prover.read_witness(honest)
    for wire, value in changes.items():
        values[wire] = value % circom.SCALAR_MODULUS
    path = tiny.work / f"{name}.wtns"
    circom.write_wtns(path, honest, values)
    verdict = r1cs_eval.satisfied(_constraints(tiny.compiled.r1cs), prover.read_witness(path))
    if reference:
        assert circom.check_witness(tiny.compiled, path) == verdict, name
    return verdict


@pytest.fixture(scope="module")
def honest(tiny: Tiny) -> Path:
    model = trained_model()
    public_signals(tiny, model, "honest")
    return tiny.work / "honest.wtns"


def test_honest_witness_satisfies_the_constraints(tiny: Tiny, honest: Path) -> None:
    assert circom.check_witness(tiny.compiled, honest)
    assert _tampered(tiny, honest, {}, "unchanged", reference=True)


def test_tampered_count_is_rejected(tiny: Tiny, honest: Path) -> None:
    values = prover.read_witness(honest)
    assert not _tampered(tiny, honest, {1: values[1] + 1}, "count", reference=True)
    assert not _tampered(tiny, honest, {1: values[1] - 1}, "count-minus", reference=True)


def test_tampered_hit_and_count_together_are_rejected(tiny: Tiny, honest: Path) -> None:
    values = prover.read_witness(honest)
    hit = _wire(tiny.compiled, "main.wins.hit[0]")
    flipped = 1 - values[hit]
    assert not _tampered(tiny, honest, {hit: flipped, 1: values[1] + 2 * flipped - 1}, "hit")


def test_tampered_comparison_bit_is_rejected(tiny: Tiny, honest: Path) -> None:
    # --O2 may substitute some bits away (a linear combination of the others): tamper
    # with every bit of one comparison that is still a wire.
    plan = circom.plan(tiny.spec)
    values = prover.read_witness(honest)
    bits = [_wire(tiny.compiled, f"main.wins.cmp[0][1].out[{i}]", missing=-1)
            for i in range(plan.compare_bits + 1)]
    assert [b for b in bits if b >= 0]
    for bit in (b for b in bits if b >= 0):
        assert not _tampered(tiny, honest, {bit: 1 - values[bit]}, "comparison")


def test_tampered_range_check_limb_is_rejected(tiny: Tiny, honest: Path) -> None:
    values = prover.read_witness(honest)
    for signal in ("main.model.pack0.bits[0].out[3]", "main.testSet.pack0.bits[5].out[2]",
                   "main.op0.bits[0][0].out[4]"):
        limb = _wire(tiny.compiled, signal)
        assert not _tampered(tiny, honest, {limb: 1 - values[limb]}, "limb"), signal
        assert not _tampered(tiny, honest, {limb: 2}, "limb-two"), signal


def _bits(value: int, width: int) -> list[int]:
    assert 0 <= value < 1 << width
    return [(value >> i) & 1 for i in range(width)]


def _comparison_signals(tiny: Tiny, honest: Path, sample: int, truth: int,
                        digits: list[int]) -> dict[int, int]:
    """Every wire of ``sample``'s comparisons (and the count) for a claimed ``truth``
    and digits ``truth - z_c - 1 + 2**K``, consistent with every other constraint."""
    plan = circom.plan(tiny.spec)
    k, classes = plan.compare_bits, plan.classes
    values = prover.read_witness(honest)
    label = int(tiny.batch.y[sample])
    named: dict[str, int] = {f"main.wins.truth[{sample}]": truth}
    for i, bit in enumerate(_bits(truth + (1 << (k - 1)), k)):
        named[f"main.wins.span[{sample}].out[{i}]"] = bit
    wins = 0
    for c, digit in enumerate(digits):
        named[f"main.wins.d[{sample}][{c}]"] = digit
        bits = _bits(digit, k + 1)
        wins += bits[k]
        for i, bit in enumerate(bits):
            named[f"main.wins.cmp[{sample}][{c}].out[{i}]"] = bit
        named[f"main.wins.picked[{sample}][{c}]"] = digit if c == label else 0
    excess = wins - (classes - 1)
    hit = int(excess == 0)
    named[f"main.wins.hit[{sample}]"] = hit
    named[f"main.wins.inv[{sample}]"] = 0 if hit else pow(excess % circom.SCALAR_MODULUS, -1,
                                                         circom.SCALAR_MODULUS)
    z = _logits(tiny, sample)
    honest_hit = int(all(z[label] > v for c, v in enumerate(z) if c != label))
    changes = {1: values[1] - honest_hit + hit}
    for name, value in named.items():
        wire = _wire(tiny.compiled, name, missing=-1)
        if wire >= 0:
            changes[wire] = value
    return changes


@functools.cache
def _the_trained_model() -> nn.Module:
    """:func:`trained_model` trained once for the module's readers (training is seeded)."""
    return trained_model()


def _logits(tiny: Tiny, sample: int) -> list[int]:
    row = fixedpoint.logits(tiny.spec, _the_trained_model(), tiny.batch.X)[sample]
    return [int(v) for v in row]


def test_rewritten_comparisons_with_the_true_logit_are_accepted(tiny: Tiny,
                                                                honest: Path) -> None:
    # The control for the two tests below: the rewriting itself keeps a witness valid.
    k = circom.plan(tiny.spec).compare_bits
    for sample in range(SAMPLES):
        z = _logits(tiny, sample)
        truth = z[int(tiny.batch.y[sample])]
        digits = [truth - v - 1 + (1 << k) for v in z]
        assert _tampered(tiny, honest, _comparison_signals(tiny, honest, sample, truth, digits),
                         "rewritten", reference=sample == 0)


@pytest.mark.parametrize("sample", range(SAMPLES))
def test_a_false_label_logit_that_flips_the_hit_is_rejected(tiny: Tiny, honest: Path,
                                                            sample: int) -> None:
    # A malicious prover names another value for the label's logit, just enough to turn
    # a miss into a hit (or a hit into a tie), with every digit and bit recomputed from
    # it: the label's digit is then not 2**K - 1.
    k = circom.plan(tiny.spec).compare_bits
    z = _logits(tiny, sample)
    label = int(tiny.batch.y[sample])
    others = max(v for c, v in enumerate(z) if c != label)
    flip = others + 1 if z[label] <= others else others
    for claimed in (flip, z[label] + 1) if sample == 0 else (flip,):
        digits = [claimed - v - 1 + (1 << k) for v in z]
        changes = _comparison_signals(tiny, honest, sample, claimed, digits)
        assert not _tampered(tiny, honest, changes, "false-truth"), claimed


def test_a_digit_off_its_logit_is_rejected(tiny: Tiny, honest: Path) -> None:
    # One other class's digit (with its bits) moved so that its comparison flips, or by
    # one: the group's packed sum no longer matches the output layer's product.
    k = circom.plan(tiny.spec).compare_bits
    z = _logits(tiny, 0)
    label = int(tiny.batch.y[0])
    others = [c for c in range(len(z)) if c != label]
    first, last = others[0], others[-1]
    true_digits = [z[label] - v - 1 + (1 << k) for v in z]
    flip = (1 << k) - 1 - true_digits[first] if true_digits[first] >= 1 << k \
        else (1 << k) - true_digits[first]
    for c, delta in ((first, flip), (first, 1), (last, -1)):
        digits = list(true_digits)
        digits[c] += delta
        assert 0 <= digits[c] < 1 << (k + 1)
        changes = _comparison_signals(tiny, honest, 0, z[label], digits)
        assert not _tampered(tiny, honest, changes, "digit"), (c, delta)


def test_every_packed_group_fits_a_field_element() -> None:
    # The no-wrap argument of the module docstring, for every architecture and scale
    # the project ships: packed digits stay below 2**253, and a claimed label logit in
    # range keeps every comparison digit inside its K + 1 bits.
    for arch in (models.TINY_MLP, models.MLP_DIGITS, models.LENET_DIGITS):
        plan = circom.plan(circuit.CircuitSpec(arch, samples=1, backend="groth16"))
        for layer in plan.weighted:
            if layer.relu_bits is not None:
                assert layer.bound < 1 << layer.relu_bits
                assert layer.group * (layer.relu_bits + 1) <= packing.PACK_BITS
        output = plan.weighted[-1]
        k = plan.compare_bits
        assert output.bound < 1 << (k - 1)
        assert plan.compare_group * (k + 1) <= packing.PACK_BITS
        lowest = -(1 << (k - 1)) - output.bound - 1 + (1 << k)
        highest = (1 << (k - 1)) - 1 + output.bound - 1 + (1 << k)
        assert lowest >= 0
        assert highest < 1 << (k + 1)


def test_tampered_submitter_is_rejected(tiny: Tiny, honest: Path) -> None:
    assert not _tampered(tiny, honest, {4: int(SUBMITTER, 16) + 1}, "submitter")


def test_out_of_range_weight_is_refused(tiny: Tiny) -> None:
    model = trained_model()
    with torch.no_grad():
        model[0].weight[0, 0] = 300.0
    with pytest.raises(ProvingError, match="outside the circuit's range"):
        circom.circuit_inputs(tiny.spec, model, circuit.new_blinding(), tiny.batch, SUBMITTER)


def test_out_of_range_feature_has_no_witness(tiny: Tiny) -> None:
    inputs = circom.circuit_inputs(tiny.spec, trained_model(), circuit.new_blinding(),
                                   tiny.batch, SUBMITTER)
    rows = inputs["x"]
    assert isinstance(rows, list)
    rows[0][0] = str(1 << circom.plan(tiny.spec).feature_bits)
    with pytest.raises(ProvingError, match="witness"):
        circom.witness(tiny.compiled, inputs, tiny.work / "bad-feature.wtns")


def test_emitted_source_is_deterministic() -> None:
    assert circom.emit_circuit(tiny_spec()) == circom.emit_circuit(tiny_spec())


def test_non_groth16_spec_is_refused() -> None:
    with pytest.raises(ProvingError, match="groth16"):
        circom.emit_circuit(circuit.CircuitSpec(models.TINY_MLP, samples=SAMPLES))


@pytest.mark.slow  # compiles the CNN's circuit and computes its witness: about 10 s
def test_cnn_circuit_count_and_commitments_equal_the_reference(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    spec = circuit.CircuitSpec(models.LENET_DIGITS, samples=2, backend="groth16")
    compiled = compiled_circuit(spec, tmp_path_factory.getbasetemp())
    batch = digits_batch(2, start=1010)
    constant = models.build_model(models.LENET_DIGITS, seed=0)
    with torch.no_grad():
        for name, param in constant.named_parameters():
            param.zero_()
            if name == "classifier.bias":
                param[int(batch.y[1])] = 0.5
    work = tmp_path_factory.mktemp("cnn")
    for i, model in enumerate([models.build_model(models.LENET_DIGITS, seed=s) for s in (0, 3)]
                              + [constant]):
        blinding = circuit.new_blinding()
        inputs = circom.circuit_inputs(spec, model, blinding, batch, SUBMITTER)
        signals = circom.witness(compiled, inputs, work / f"cnn-{i}.wtns")
        assert signals[0] == fixedpoint.count(spec, model, batch)
        assert signals[1].to_bytes(32, "big") == circom.model_commitment(spec, model, blinding)
        assert signals[2].to_bytes(32, "big") == circom.test_set_commitment(spec, batch)
    assert signals[0] == int((batch.y == batch.y[1]).sum())
