"""The Groth16 accuracy circuit: circom 2 source emitted from a :class:`CircuitSpec`.

The circuit proves, for private weights, blinding, features and labels and the public
``submitter``: ``correct`` = the number of samples whose true class's logit is strictly
greater than every other logit, computed in exactly the integer arithmetic of
:mod:`zkpot.proving.fixedpoint` (EZKL's: no rescaling, biases at their product's scale,
exact average-pool rounding), ``modelCommitment`` = Poseidon over the packed weights,
biases and blinding, and ``testSetCommitment`` = Poseidon over the packed features and
labels (:mod:`zkpot.proving.groth16.packing`). Public signals, in circom's order:
``[correct, modelCommitment, testSetCommitment, submitter]``. The layers are read off
the architecture (:func:`plan`): Linear and Conv2d layers each followed by a ReLU,
AvgPool2d after a ReLU, and a final Linear layer (the project's MLPs and LeNet).

How every value is bounded (the BN254 scalar field is ~2**253.6; every bound below is
an exact integer computed by :func:`plan` and kept under 2**253, so nothing wraps):

- **features** ``x``: ``Num2Bits(input_scale + 1)``, so ``0 <= x < 2**(s+1)`` (honest
  values are ``0..2**s``: features in [0, 1]). The bounds below use ``2**(s+1) - 1``:
  enforcing ``x <= 2**s`` would cost a constraint per feature to save one bit per
  first-layer neuron;
- **weights**: ``w + 2**(p+8)`` in ``Num2Bits(p + 9)`` (``p`` = ``param_scale``), so
  ``|w| <= 2**(p+8)``: a float weight below 256 in magnitude; **biases** at their
  scale ``t`` (see fixedpoint) likewise in ``t + 9`` bits; **blinding** 22 signed bits;
- **labels**: a one-hot row of booleans summing to 1, so ``label`` is in ``0..C-1``;
- **hidden pre-activations** (linear and conv): ``|z| <= Zmax`` follows from the
  bounds above (``Zmax = fan_in * max_input * max_weight + max_bias``), and
  ``u = z + 2**R`` (``2**R > Zmax``) is decomposed into ``R + 1`` bits, which proves
  the bound and gives the ReLU's sign: ``h = u[R] * (u - 2**R)``, ``0 <= h < 2**R``.
  ``G = 253 // (R + 1)`` neurons (conv: output channels) share one multiplication per
  input term: ``a_i * sum_t w_{t,i} 2**((R+1) t)``; the digits ``u_t`` (each in
  ``[0, 2**(R+1))``, their packed sum below 2**253) are then the unique base-2**(R+1)
  digits of that sum plus the offset biases, so each equals its own neuron's value;
- **average pools** (over ReLU outputs ``< 2**R``, window area ``A`` a power of two):
  ``sum + A/2 = A q + r`` with ``r`` in ``log2(A)`` bits and ``q`` in ``R`` bits;
  ``A q + r < 2**253``, so ``q`` is the exact rounded quotient;
- **logits and comparisons** (``OutputWins``): ``|z| <= Zmax_out`` from the same
  bounds, and ``K`` is the least with ``2**K > 2 Zmax_out + 1`` (so ``Zmax_out <
  2**(K-1)``). The logits are never signals of their own. The prover names ``t``, the
  label's logit, range-checked by ``t + 2**(K-1)`` in ``K`` bits; ``G = 253 // (K + 1)``
  classes share one multiplication per input term (as the hidden layers do) and each
  group's ``sum_c (t - z_c - 1 + 2**K) 2**((K+1) c)`` is decomposed into digits of
  ``K + 1`` bits. For any ``t`` in its range every term lies in ``(0, 2**(K+1))``, the
  packed sum below 2**253, so the digits are exactly those terms; the label's digit
  (picked by a one-hot row) must equal ``2**K - 1``, which pins ``t`` to the label's
  logit. A digit's top bit is ``t > z_c``; a hit is "all ``C - 1`` other classes lose"
  (an ``IsZero``). Without the range check on ``t`` a field element far from every
  logit would satisfy the label's digit with the other digits chosen freely.

``<--`` only computes bits, digits, quotients and inverses that a constraint then pins
down; the commitments are injective because every packed value was range-checked to
its width.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from zkpot import toolchain
from zkpot.errors import ProvingError
from zkpot.layers import Cnn
from zkpot.models import build_model
from zkpot.proving import fixedpoint
from zkpot.proving.circuit import (
    BLINDING_BITS,
    BLINDING_SIZE,
    Blinding,
    CircuitSpec,
    TestBatch,
    check_batch,
    check_blinding,
)
from zkpot.proving.curve import SCALAR_MODULUS
from zkpot.proving.groth16 import prover
from zkpot.proving.groth16.packing import PACK_BITS, Segment, chain_chunks, pack, poseidon_chain
from zkpot.proving.groth16.templates import TEMPLATES

PARAM_MAGNITUDE_BITS = 8
"""Every weight and bias is below ``2**8 = 256`` in magnitude (as a float)."""

CIRCUIT_NAME = "accuracy"
"""Base name of the circom source and its outputs."""



@dataclass(frozen=True)
class LayerPlan:
    """One linear or convolutional layer: shapes and the bit widths that bound it."""

    inputs: int
    """Flat input size (a conv's input is ``channels x side x side``, row-major)."""
    outputs: int
    """Output features (linear) or channels (conv)."""
    fan_in: int
    """Weights per output: ``inputs`` (linear) or ``in_channels * k * k`` (conv)."""
    weight_bits: int
    """Width of ``w + 2**(weight_bits - 1)``."""
    bias_bits: int
    """Width of ``b + 2**(bias_bits - 1)``."""
    bound: int
    """Largest ``|z|`` of this layer's pre-activations."""
    relu_bits: int | None
    """Hidden layers (followed by a ReLU): ``R`` with ``2**R > bound``; the output
    layer: ``None``."""
    conv: tuple[int, int, int, int] | None = None
    """Conv layers: ``(in_channels, side, kernel, padding)`` (square, stride 1)."""

    @property
    def group(self) -> int:
        """Neurons (conv: channels) sharing one multiplication per input term."""
        assert self.relu_bits is not None
        return max(1, PACK_BITS // (self.relu_bits + 1))


@dataclass(frozen=True)
class PoolPlan:
    """An average pool over non-negative inputs: ``q = (sum + k*k/2) // (k*k)``."""

    channels: int
    side: int
    kernel: int
    bits: int
    """``q < 2**bits``."""


@dataclass(frozen=True)
class CircuitPlan:
    """The circuit's shapes and bit widths for one spec."""

    samples: int
    features: int
    classes: int
    feature_bits: int
    label_bits: int
    layers: tuple[LayerPlan | PoolPlan, ...]
    compare_bits: int
    """``K``: comparisons decompose ``true - z - 1 + 2**K`` into ``K + 1`` bits."""

    @property
    def compare_group(self) -> int:
        """Classes whose comparisons share one multiplication per output-layer input."""
        return max(1, PACK_BITS // (self.compare_bits + 1))

    @property
    def weighted(self) -> list[LayerPlan]:
        """The layers with weights, in order (their signals are ``w<k>``, ``b<k>``)."""
        return [layer for layer in self.layers if isinstance(layer, LayerPlan)]

    def model_parts(self) -> list[tuple[Segment, str, tuple[int, ...]]]:
        """The model commitment's parts (segment, circom signal, shape).

        Per layer the weights (row-major, a conv's as ``out x (in * k * k)``) then the
        biases; then the blinding.
        """
        parts: list[tuple[Segment, str, tuple[int, ...]]] = []
        for k, layer in enumerate(self.weighted):
            parts.append((Segment(f"layer {k} weight", layer.fan_in * layer.outputs,
                                  layer.weight_bits, 1 << (layer.weight_bits - 1)),
                          f"w{k}", (layer.outputs, layer.fan_in)))
            parts.append((Segment(f"layer {k} bias", layer.outputs, layer.bias_bits,
                                  1 << (layer.bias_bits - 1)), f"b{k}", (layer.outputs,)))
        parts.append((Segment("blinding", BLINDING_SIZE, BLINDING_BITS,
                              1 << (BLINDING_BITS - 1)), "blinding", (BLINDING_SIZE,)))
        return parts

    def test_set_parts(self) -> list[tuple[Segment, str, tuple[int, ...]]]:
        """The test-set commitment's parts: the features (row-major), then the labels."""
        return [(Segment("feature", self.samples * self.features, self.feature_bits, 0), "x",
                 (self.samples, self.features)),
                (Segment("label", self.samples, self.label_bits, 0), "label", (self.samples,))]


def _unsupported(arch_name: str, what: str) -> ProvingError:
    return ProvingError(f"The Groth16 circuit does not support {what} ({arch_name})",
                        "use an architecture of zkpot.models or the EZKL backend")


def plan(spec: CircuitSpec) -> CircuitPlan:
    """Shapes and bounds of ``spec``'s circuit, read off the architecture's layers."""
    arch = spec.architecture
    if spec.backend != "groth16":
        raise ProvingError(f"A Groth16 circuit needs a groth16 spec, not {spec.backend}",
                           "create the task with --backend groth16")
    model = build_model(arch)
    modules: list[nn.Module]
    side = 0
    if isinstance(model, Cnn):
        modules, side = [*model.features, model.classifier], model.side
    elif isinstance(model, nn.Sequential):
        modules = list(model)
    else:  # pragma: no cover - build_model makes one of the two
        raise _unsupported(arch.name, type(model).__name__)
    feature_bits = spec.input_scale + 1
    largest, scale, channels = (1 << feature_bits) - 1, spec.input_scale, 1
    weight_bits = spec.param_scale + PARAM_MAGNITUDE_BITS + 1
    layers: list[LayerPlan | PoolPlan] = []
    for i, module in enumerate(modules):
        hidden = i + 1 < len(modules) and isinstance(modules[i + 1], nn.ReLU)
        bias_bits = scale + spec.param_scale + PARAM_MAGNITUDE_BITS + 1
        if isinstance(module, nn.Linear | nn.Conv2d):
            if not hidden and i + 1 != len(modules):
                raise _unsupported(arch.name, "a linear layer without a ReLU before the last")
            conv: tuple[int, int, int, int] | None = None
            if isinstance(module, nn.Conv2d):
                kernel, padding = module.kernel_size[0], module.padding
                if not hidden or module.stride != (1, 1) or not isinstance(padding, tuple):
                    raise _unsupported(arch.name, "this convolution")
                conv = (module.in_channels, side, kernel, padding[0])
                fan_in, outputs = module.in_channels * kernel * kernel, module.out_channels
                inputs = module.in_channels * side * side
            else:
                fan_in, outputs = module.in_features, module.out_features
                inputs = fan_in
            bound = fan_in * largest * (1 << (weight_bits - 1)) + (1 << (bias_bits - 1))
            relu_bits = bound.bit_length() if hidden else None
            layers.append(LayerPlan(inputs, outputs, fan_in, weight_bits, bias_bits, bound,
                                    relu_bits, conv))
            largest, scale, channels = bound, scale + spec.param_scale, outputs
            if conv is not None:
                side = side + 2 * conv[3] - conv[2] + 1
        elif isinstance(module, nn.AvgPool2d):
            k = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
            last = layers[-1] if layers else None
            if (k * k) & (k * k - 1) or side % k or not isinstance(last, LayerPlan) \
                    or last.relu_bits is None:
                raise _unsupported(arch.name, "this pooling")
            layers.append(PoolPlan(channels, side, k, last.relu_bits))
            side //= k
        elif not isinstance(module, nn.ReLU):
            raise _unsupported(arch.name, type(module).__name__)
    output = layers[-1]
    if not isinstance(output, LayerPlan) or output.relu_bits is not None:
        raise _unsupported(arch.name, "a model that does not end in a linear layer")
    compare_bits = (2 * output.bound + 1).bit_length()
    if compare_bits + 1 > PACK_BITS or output.bias_bits > PACK_BITS:
        raise ProvingError(f"{arch.name} is too deep for the Groth16 circuit's bounds",
                           "use fewer layers or the EZKL backend")
    return CircuitPlan(spec.samples, arch.input_size, arch.num_classes, feature_bits,
                       max(1, (arch.num_classes - 1).bit_length()), tuple(layers), compare_bits)


def emit_circuit(spec: CircuitSpec) -> str:
    """The circom 2 source of ``spec``'s accuracy circuit (includes circomlib)."""
    p = plan(spec)
    n, d = p.samples, p.features
    lines = [f"// zkpot accuracy circuit {spec.circuit_id}: {spec.architecture.name}, {n} samples",
             "// Generated by zkpot.proving.groth16.circom; do not edit.",
             "pragma circom 2.1.0;", "",
             'include "circomlib/circuits/bitify.circom";',
             'include "circomlib/circuits/poseidon.circom";', "",
             TEMPLATES, chain_template("ModelHash", p.model_parts()),
             chain_template("TestSetHash", p.test_set_parts()),
             "template Accuracy() {"]
    for k, layer in enumerate(p.weighted):
        lines.append(f"    signal input w{k}[{layer.outputs}][{layer.fan_in}];")
        lines.append(f"    signal input b{k}[{layer.outputs}];")
    lines += [f"    signal input blinding[{BLINDING_SIZE}];",
              f"    signal input x[{n}][{d}];",
              f"    signal input label[{n}];",
              "    signal input submitter;",
              "    signal output correct;",
              "    signal output modelCommitment;",
              "    signal output testSetCommitment;", "",
              "    // Binds the proof to the submitter (a public input in no other constraint).",
              "    signal submitterSquare <== submitter * submitter;", "",
              "    component model = ModelHash();"]
    for k in range(len(p.weighted)):
        lines += [f"    model.w{k} <== w{k};", f"    model.b{k} <== b{k};"]
    lines += ["    model.blinding <== blinding;", "    modelCommitment <== model.out;",
              "    component testSet = TestSetHash();", "    testSet.x <== x;",
              "    testSet.label <== label;", "    testSetCommitment <== testSet.out;", ""]
    previous, k = "x", 0
    for i, op in enumerate(p.layers):
        if isinstance(op, PoolPlan):
            lines += [f"    component op{i} = AvgPool({n}, {op.channels}, {op.side}, {op.kernel}, "
                      f"{op.bits});", f"    op{i}.a <== {previous};"]
            previous = f"op{i}.q"
            continue
        if op.conv is not None:
            cin, side, kernel, padding = op.conv
            assert op.relu_bits is not None
            lines.append(f"    component op{i} = HiddenConv({n}, {cin}, {op.outputs}, {side}, "
                         f"{kernel}, {padding}, {op.group}, {op.relu_bits});")
            out = "h"
        elif op.relu_bits is not None:
            lines.append(f"    component op{i} = HiddenLayer({n}, {op.inputs}, {op.outputs}, "
                         f"{op.group}, {op.relu_bits});")
            out = "h"
        else:
            # The output layer and the comparisons are one template: the logits are
            # never signals of their own (see OutputWins).
            lines += [f"    component wins = OutputWins({n}, {op.inputs}, {op.outputs}, "
                      f"{p.compare_group}, {p.compare_bits});", f"    wins.a <== {previous};",
                      f"    wins.w <== w{k};", f"    wins.b <== b{k};",
                      "    wins.label <== label;", "    correct <== wins.correct;"]
            break
        lines += [f"    op{i}.a <== {previous};", f"    op{i}.w <== w{k};",
                  f"    op{i}.b <== b{k};"]
        previous, k = f"op{i}.{out}", k + 1
    lines += ["}", "",
              "component main {public [submitter]} = Accuracy();", ""]
    return "\n".join(lines)


def chain_template(name: str, parts: list[tuple[Segment, str, tuple[int, ...]]]) -> str:
    """A template that range-checks and packs each part, then hashes the packed chain."""
    body = [f"template {name}() {{"]
    wires: list[str] = []
    for i, (segment, signal, shape) in enumerate(parts):
        dims = "".join(f"[{d}]" for d in shape)
        body.append(f"    signal input {signal}{dims};")
        body.append(f"    component pack{i} = RangePack({segment.count}, {segment.bits}, "
                    f"{segment.offset});")
        if len(shape) == 1:
            body.append(f"    for (var r = 0; r < {shape[0]}; r++) pack{i}.in[r] <== {signal}[r];")
        else:
            body.append(f"    for (var r = 0; r < {shape[0]}; r++) for (var c = 0; c < {shape[1]}; "
                        f"c++) pack{i}.in[r * {shape[1]} + c] <== {signal}[r][c];")
        wires += [f"pack{i}.out[{e}]" for e in range(segment.elements)]
    body.append("    signal output out;")
    start, state = 0, ""
    for c, size in enumerate(chain_chunks(len(wires))):
        inputs = ([state] if state else []) + wires[start : start + size]
        start += size
        body.append(f"    component h{c} = Poseidon({len(inputs)});")
        body += [f"    h{c}.inputs[{j}] <== {w};" for j, w in enumerate(inputs)]
        state = f"h{c}.out"
    body += [f"    out <== {state};", "}", ""]
    return "\n".join(body)




def _felt(value: int) -> int:
    return int(value) % SCALAR_MODULUS


def model_values(spec: CircuitSpec, model: nn.Module) -> list[list[int]]:
    """The quantised weights and biases per layer (row-major), as the circuit takes them."""
    qmodel = fixedpoint.quantize_model(spec, model)
    weighted = [layer for layer in qmodel.layers
                if isinstance(layer, fixedpoint.QLinear | fixedpoint.QConv2d)]
    shapes = [(lp.outputs, lp.fan_in) for lp in plan(spec).weighted]
    if [(layer.weight.shape[0], layer.weight[0].size) for layer in weighted] != shapes:
        raise ProvingError(f"The model does not fit the {spec.architecture.name} circuit",
                           "use a model of the task's architecture")
    values: list[list[int]] = []
    for layer in weighted:
        values.append([int(v) for v in layer.weight.flatten()])
        values.append([int(v) for v in layer.bias.flatten()])
    return values


def _batch_values(spec: CircuitSpec, batch: TestBatch) -> tuple[list[int], list[int]]:
    check_batch(spec, batch)
    features = fixedpoint.quantize_features(spec, batch.X)
    return [int(v) for v in features.flatten()], [int(v) for v in batch.y]


def _digest_bytes(value: int) -> bytes:
    return value.to_bytes(32, "big")


def model_commitment(spec: CircuitSpec, model: nn.Module, blinding: Blinding) -> bytes:
    """The circuit's ``modelCommitment`` for ``model`` and ``blinding`` (32 bytes, big-endian)."""
    values = [*model_values(spec, model), list(check_blinding(blinding))]
    packed: list[int] = []
    for (segment, _, _), part in zip(plan(spec).model_parts(), values, strict=True):
        packed += pack(segment, part)
    return _digest_bytes(poseidon_chain(packed))


def test_set_commitment(spec: CircuitSpec, batch: TestBatch) -> bytes:
    """The circuit's ``testSetCommitment`` for ``batch`` (32 bytes, big-endian)."""
    features, labels = _batch_values(spec, batch)
    parts = plan(spec).test_set_parts()
    packed = pack(parts[0][0], features) + pack(parts[1][0], labels)
    return _digest_bytes(poseidon_chain(packed))


def circuit_inputs(spec: CircuitSpec, model: nn.Module, blinding: Blinding, batch: TestBatch,
                   submitter: str) -> dict[str, object]:
    """The witness input (circom input JSON) for ``model`` on ``batch``, bound to ``submitter``.

    Values are decimal strings of field elements. Raises a :class:`ProvingError` when a
    weight, bias or feature is outside the circuit's range (see the module docstring).
    """
    p = plan(spec)
    params = model_values(spec, model)
    checked = check_blinding(blinding)
    for (segment, _, _), part in zip(p.model_parts(), [*params, list(checked)],
                                     strict=True):
        pack(segment, part)  # range check with a clear error
    features, labels = _batch_values(spec, batch)
    pack(p.test_set_parts()[0][0], features)
    try:
        address = int(submitter, 16)
    except ValueError:
        raise ProvingError(f"{submitter!r} is not an Ethereum address",
                           "pass a 0x-prefixed 20-byte hex address") from None
    if not 0 <= address < 1 << 160:
        raise ProvingError(f"{submitter!r} is not an Ethereum address",
                           "pass a 0x-prefixed 20-byte hex address")

    def rows(values: list[int], width: int) -> list[list[str]]:
        return [[str(_felt(v)) for v in values[r : r + width]]
                for r in range(0, len(values), width)]

    inputs: dict[str, object] = {}
    for k, layer in enumerate(p.weighted):
        inputs[f"w{k}"] = rows(params[2 * k], layer.fan_in)
        inputs[f"b{k}"] = [str(_felt(v)) for v in params[2 * k + 1]]
    inputs["blinding"] = [str(_felt(v)) for v in checked]
    inputs["x"] = rows(features, p.features)
    inputs["label"] = [str(v) for v in labels]
    inputs["submitter"] = str(address)
    return inputs


@dataclass(frozen=True)
class CompiledCircuit:
    """A compiled circuit's files (no keys)."""

    source: Path
    """The emitted ``.circom`` file."""
    r1cs: Path
    wasm: Path
    """The witness calculator (``<name>_js/<name>.wasm``)."""
    sym: Path
    """Signal names: ``label,wire,component,name`` per line (wire -1: optimised away)."""


def _node_tool(name: str) -> Path:
    tool = toolchain.node_bin_dir() / name
    if not tool.exists():
        raise ProvingError(f"{name} is not installed ({tool} is missing)", "run `npm ci`")
    return tool


def compile_source(text: str, name: str, out_dir: Path, what: str) -> CompiledCircuit:
    """Write circom ``text`` as ``out_dir/<name>.circom`` and compile it (circom2 ``--O2``).

    circomlib comes from ``node_modules``; ``what`` names the circuit in an error.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    source = out_dir / f"{name}.circom"
    source.write_text(text)
    command = [str(_node_tool("circom2")), str(source), "--r1cs", "--wasm", "--sym", "--O2",
               "-l", str(toolchain.repo_root() / "node_modules"), "-o", str(out_dir)]
    # circom2 runs under WASI with only the working directory and its parents preopened, as
    # relative paths: from a participant's own working directory (say /tmp/me) circomlib
    # under the checkout is not found. From the checkout both it and any output folder are.
    result = subprocess.run(command, capture_output=True, text=True, check=False,
                            cwd=toolchain.repo_root())
    compiled = CompiledCircuit(source, out_dir / f"{name}.r1cs",
                               out_dir / f"{name}_js" / f"{name}.wasm", out_dir / f"{name}.sym")
    if result.returncode != 0 or not all(
        path.is_file() for path in (compiled.r1cs, compiled.wasm, compiled.sym)
    ):
        lines = (result.stderr + result.stdout).strip().splitlines()
        detail = next((line for line in lines if "error" in line.lower()), lines[-1] if lines
                      else f"exit status {result.returncode}")
        raise ProvingError(f"circom could not compile the {what}: {detail.strip()[:200]}",
                           "check the circom2 install (`npm ci`)")
    return compiled


def compile_circuit(spec: CircuitSpec, out_dir: Path) -> CompiledCircuit:
    """Emit ``spec``'s circuit into ``out_dir`` and compile it (circom2 ``--O2``)."""
    return compile_source(emit_circuit(spec), CIRCUIT_NAME, out_dir,
                          f"{spec.architecture.name} circuit")


def write_wtns(path: Path, template: Path, values: list[int]) -> None:
    """Write ``values`` into a copy of the witness file ``template`` (same header)."""
    data = bytearray(template.read_bytes())
    n8 = int.from_bytes(data[24:28], "little")
    start = len(data) - n8 * len(values)
    for i, value in enumerate(values):
        data[start + i * n8 : start + (i + 1) * n8] = value.to_bytes(n8, "little")
    path.write_bytes(bytes(data))


def witness(compiled: CompiledCircuit, inputs: dict[str, object], out: Path) -> list[int]:
    """Compute the witness of ``inputs`` into ``out`` (``<name>.wtns``); its public signals.

    The public signals are ``[correct, modelCommitment, testSetCommitment, submitter]``.
    A :class:`ProvingError` if the inputs violate a constraint (e.g. a value out of range).
    The backend's own witness step (:func:`prover.compute_witness`), written where asked.
    """
    wtns = prover.compute_witness(compiled.wasm, inputs, out.parent, out.stem)
    if wtns != out:
        wtns.replace(out)
    return prover.public_signals(out)


def check_witness(compiled: CompiledCircuit, wtns: Path) -> bool:
    """Whether the witness satisfies every constraint (``snarkjs wtns check``)."""
    result = subprocess.run([str(_node_tool("snarkjs")), "wtns", "check", str(compiled.r1cs),
                             str(wtns)], capture_output=True, text=True, check=False)
    return result.returncode == 0 and "WITNESS IS CORRECT" in result.stdout


__all__ = [
    "CompiledCircuit",
    "check_witness",
    "circuit_inputs",
    "compile_circuit",
    "emit_circuit",
    "model_commitment",
    "plan",
    "test_set_commitment",
    "witness",
    "write_wtns",
]
