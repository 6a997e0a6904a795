"""Proven aggregation (Groth16) for the default MLP (mlp-64-32-10) at K = 2, 4 and 8 models.

Per K: compile and key the ``Aggregate`` circuit (:mod:`zkpot.proving.groth16.aggregation`),
then prove one honest aggregation of K trained local models (weights: their correct
counts on a digits evaluation set) and verify it; then deploy each K's generated
verifier on an anvil this script starts on ``ZKPOT_ANVIL_PORT`` (default 8645) and
measure a real ``verifyProof`` transaction. As ``bench/backends_bench.py``: every setup
and proof runs in its own child process and the peak RSS is that child's ``ru_maxrss``
from ``os.wait4`` (on Linux it covers the grandchildren it waited for: circom and node,
groth16py's prover interpreter); the 1-minute load average before and after each step
is recorded beside it (the machine is shared: times are upper bounds).

Circuit folders go under ``results/tmp/bench-agg/`` (git-ignored). Results are merged
into ``results/aggregation.json`` as they come; ``--markdown`` writes
``results/aggregation.md``.

    .venv/bin/python bench/aggregation_bench.py                   # K = 2, 4, 8, then gas
    .venv/bin/python bench/aggregation_bench.py --steps keyload   # key load alone, per K
    .venv/bin/python bench/aggregation_bench.py --slots 2 4 --steps setup prove
    .venv/bin/python bench/aggregation_bench.py --markdown

Run it alone: nothing else heavy beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results" / "aggregation.json"
MARKDOWN = ROOT / "results" / "aggregation.md"
ACCURACY_GAS = ROOT / "results" / "backends.json"
SCRATCH = ROOT / "results" / "tmp" / "bench-agg"
ARCHITECTURE = "mlp-64-32-10"
SLOTS = (2, 4, 8)
TRAIN_SAMPLES = 1200
"""The K local models train on disjoint shards of the first 1,200 digits."""
TRAIN_EPOCHS = 5
EVAL = (1200, 1797)
"""The evaluation set: the rest of digits; each model's weight is its correct count there."""
ANVIL_PORT = int(os.environ.get("ZKPOT_ANVIL_PORT", "8645"))
TARGETS = {"prove_s": 60, "peak_rss_gb": 4, "verify_gas": 350_000}


# -- children ----------------------------------------------------------------------------


def _agg(slots: int) -> Any:
    from zkpot import models
    from zkpot.proving import circuit
    from zkpot.proving.groth16 import aggregation

    spec = circuit.CircuitSpec(models.architecture_by_name(ARCHITECTURE), samples=16,
                               backend="groth16")
    return aggregation.AggregationSpec(spec, slots)


def _directory(slots: int) -> Path:
    return SCRATCH / f"k{slots}"


def child_setup(slots: int) -> dict[str, Any]:
    """Compile and key the K-slot circuit; its sizes and times."""
    from zkpot.proving.groth16 import aggregation, prover

    circ = aggregation.setup_aggregation(_agg(slots), _directory(slots))
    data = circ.descriptor
    key = prover.proving_key(circ.keys_dir)
    return {
        "circuit_id": circ.agg.short_id,
        "constraints": data["constraints"],
        "public_signals": data["public_signals"],
        "required_power": data["required_power"],
        "compile_s": data["compile_seconds"],
        "setup_s": data["setup_seconds"],
        "single_party_insecure": data["single_party"],
        "pk_file": key.name,
        "pk_bytes": key.stat().st_size,
        "vk_bytes": circ.verification_key.stat().st_size,
    }


def child_prove(slots: int) -> dict[str, Any]:
    """Train K models, aggregate in fixed point, prove the aggregation, verify it."""
    import numpy as np

    from zkpot import data
    from zkpot.proving import circuit, fixedpoint
    from zkpot.proving.groth16 import aggregation, circom, prover

    agg = _agg(slots)
    circ = aggregation.Groth16AggregationCircuit(agg, _directory(slots))
    spec, locals_, weights = _locals(slots)
    digits = data.load_digits()
    eval_X, eval_y = digits.X[EVAL[0] : EVAL[1]], digits.y[EVAL[0] : EVAL[1]]
    blindings = [circuit.new_blinding() for _ in locals_]
    started = time.perf_counter()
    params = aggregation.fixed_point_aggregate(spec, locals_, weights)
    global_model = aggregation.to_model(spec, params)
    global_blinding = circuit.new_blinding()
    public = aggregation.statement(
        agg, [circom.model_commitment(spec, m, b) for m, b in zip(locals_, blindings, strict=True)],
        weights, aggregation.commitment_of(spec, params, global_blinding))
    inputs = aggregation.aggregation_inputs(agg, locals_, blindings, public, global_blinding)
    prepare_s = time.perf_counter() - started
    work = SCRATCH / "work"
    made = aggregation.prove_aggregation(circ, inputs, work, f"k{slots}")
    started = time.perf_counter()
    verified = aggregation.verify_aggregation(circ, made.proof, made.public_signals)
    verify_s = time.perf_counter() - started
    proof_path = work / f"k{slots}.proof.json"
    proof_path.write_text(json.dumps(made.to_json()))
    correct = [int(fixedpoint.strict_wins(fixedpoint.logits(spec, m, eval_X), eval_y).sum())
               for m in locals_]
    return {
        "weights": weights,
        "prepare_s": round(prepare_s, 2),
        "witness_s": round(made.witness_seconds, 2),
        "prove_s": round(made.witness_seconds + made.prove_seconds, 2),
        # The prover child's split of the proving step: the key import (once per process)
        # and the proof with the key in memory.
        "key_load_s": round(prover.WORKER.last_load_seconds, 2),
        "prove_only_s": round(prover.WORKER.last_prove_seconds, 2),
        "verify_local_s": round(verify_s, 2),
        "verified_locally": verified,
        "signals_match_statement": made.public_signals == public.public_signals(),
        "global_eval_correct": int(fixedpoint.strict_wins(
            fixedpoint.logits(spec, global_model, eval_X), eval_y).sum()),
        "local_eval_correct_fixed_point": correct,
        "eval_samples": int(len(eval_y)),
        "mean_abs_param_units": float(np.mean([abs(v) for part in params for v in part])),
        "proof_path": str(proof_path.relative_to(ROOT)),
    }


def _locals(slots: int) -> tuple[Any, list[Any], list[int]]:
    """The K trained local models and their weights (correct counts on the evaluation set)."""
    from zkpot import data, models, train

    spec = _agg(slots).spec
    digits = data.load_digits()
    shard = TRAIN_SAMPLES // slots
    eval_X, eval_y = digits.X[EVAL[0] : EVAL[1]], digits.y[EVAL[0] : EVAL[1]]
    locals_, weights = [], []
    for i in range(slots):
        model = models.build_model(spec.architecture, seed=0)  # one global model, as in FL
        train.train_local(model, digits.X[i * shard : (i + 1) * shard],
                          digits.y[i * shard : (i + 1) * shard], epochs=TRAIN_EPOCHS,
                          lr=0.05, batch_size=32, seed=i)
        locals_.append(model)
        weights.append(train.count_correct(model, eval_X, eval_y))
    return spec, locals_, weights


def child_accuracy(slots: int) -> dict[str, Any]:
    """Float FedAvg beside the fixed-point aggregate: parameter gap and evaluation counts."""
    from zkpot import aggregate, data, models, train
    from zkpot.proving import fixedpoint
    from zkpot.proving.groth16 import aggregation

    spec, locals_, weights = _locals(slots)
    digits = data.load_digits()
    eval_X, eval_y = digits.X[EVAL[0] : EVAL[1]], digits.y[EVAL[0] : EVAL[1]]
    fixed = aggregation.to_model(spec, aggregation.fixed_point_aggregate(spec, locals_, weights))
    fedavg = models.build_model(spec.architecture)
    fedavg.load_state_dict(aggregate.FedAvg().aggregate(
        [aggregate.ModelUpdate(str(i), m.state_dict(), float(w), True)
         for i, (m, w) in enumerate(zip(locals_, weights, strict=True))], leader="0"))
    gap = max(abs(a - b) for pa, pb in zip(aggregation.quantized_params(spec, fedavg),
                                           aggregation.quantized_params(spec, fixed), strict=True)
              for a, b in zip(pa, pb, strict=True))

    def strict(model: Any) -> int:
        return int(fixedpoint.strict_wins(fixedpoint.logits(spec, model, eval_X), eval_y).sum())

    return {
        "weights": weights,
        "eval_samples": int(len(eval_y)),
        "max_param_gap_units": gap,
        "fedavg_float_correct": train.count_correct(fedavg, eval_X, eval_y),
        "fixed_float_correct": train.count_correct(fixed, eval_X, eval_y),
        "fedavg_fixed_point_correct": strict(fedavg),
        "fixed_fixed_point_correct": strict(fixed),
        "locals_float_correct": weights,
    }


def child_keyload(slots: int) -> dict[str, Any]:
    """How long groth16py takes only to load the proving key (part of prove_s)."""
    import groth16py

    from zkpot.proving.groth16 import prover

    key = prover.proving_key(_directory(slots) / "keys")
    started = time.perf_counter()
    if key.suffix == ".zkey":
        groth16py.import_zkey(str(key))
    else:
        groth16py.ProvingKey.load(str(key))
    return {"key": key.name, "load_s": round(time.perf_counter() - started, 2)}


def child_gas(_: int) -> dict[str, Any]:
    """Deploy every measured K's verifier on anvil; gas of a real verifyProof transaction."""
    from web3 import Web3

    from zkpot.proving.groth16 import aggregation, prover, solidity

    web3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{ANVIL_PORT}"))
    sender = web3.eth.accounts[0]
    out: dict[str, Any] = {}
    for slots, row in sorted(load_results().get("slots", {}).items(), key=lambda kv: int(kv[0])):
        if "proof_path" not in row.get("prove", {}):
            continue
        agg = _agg(int(slots))
        circ = aggregation.Groth16AggregationCircuit(agg, _directory(int(slots)))
        compiled = solidity.compile_verifier(aggregation.verifier_source(circ),
                                             aggregation.verifier_name(agg))
        deployed = web3.eth.wait_for_transaction_receipt(web3.eth.send_transaction(
            {"from": sender, "data": compiled.bytecode, "gas": 5_000_000}))
        address = deployed["contractAddress"]
        assert address is not None
        contract = web3.eth.contract(address=address, abi=compiled.abi)
        raw = json.loads((ROOT / row["prove"]["proof_path"]).read_text())
        proof = bytes.fromhex(raw["proof"].removeprefix("0x"))
        signals = [int(v) for v in raw["public_signals"]]
        a, b, c = prover.decode_proof(proof)
        call = contract.functions.verifyProof(list(a), [list(b[0]), list(b[1])], list(c), signals)
        valid = bool(call.call())
        tampered = list(signals)
        tampered[-1] = (tampered[-1] + 1) % prover.FIELD_MODULUS
        rejected = not contract.functions.verifyProof(
            list(a), [list(b[0]), list(b[1])], list(c), tampered).call()
        # The template returns false when the pairing runs out of gas: ample gas, real cost.
        tx_hash = call.transact({"from": sender, "gas": 2_000_000})
        receipt = web3.eth.wait_for_transaction_receipt(tx_hash)
        calldata = bytes(web3.eth.get_transaction(tx_hash)["input"])
        out[slots] = {
            "valid_on_chain": valid,
            "tampered_rejected": rejected,
            "verify_tx_gas": int(receipt["gasUsed"]),
            "calldata_bytes": len(calldata),
            "public_signals": len(signals),
            "verifier_runtime_bytes": len(bytes(web3.eth.get_code(address))),
        }
    return out


def _child(step: str, slots: int) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    log = SCRATCH / "logs" / f"{step}-{slots}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"-- {step} K={slots} (load {load_before:.2f}) {time.strftime('%H:%M:%S')}",
          flush=True)
    with log.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, __file__, "--child", step, str(slots)],
                                stdout=subprocess.PIPE, stderr=stderr, text=True)
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        returncode = os.waitstatus_to_exitcode(status)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if returncode != 0 or not lines:
        tail = (log.read_text().strip().splitlines() or ["no output"])[-1]
        result: dict[str, Any] = {"error": f"{step} exited {returncode}: {tail[:300]}"}
    else:
        result = json.loads(lines[-1])
    result["wall_s"] = round(time.perf_counter() - started, 2)
    result["loadavg_before"] = round(load_before, 2)
    result["loadavg_after"] = round(os.getloadavg()[0], 2)
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    print(json.dumps(result), flush=True)
    return result


# -- results -----------------------------------------------------------------------------


def load_results() -> dict[str, Any]:
    if RESULTS.is_file():
        loaded: dict[str, Any] = json.loads(RESULTS.read_text())
        return loaded
    return {}


def save_results(doc: dict[str, Any]) -> None:
    doc["meta"] = {
        "machine": f"{os.cpu_count()} cores, shared with another engineer's jobs",
        "note": "wall times are upper bounds: see loadavg_before/after (1-minute) beside each",
        "models": f"K x {ARCHITECTURE}, all from the same initial model, model i trained "
                  f"{TRAIN_EPOCHS} epochs on its shard of "
                  f"digits[:{TRAIN_SAMPLES}]; weight = its correct count on "
                  f"digits[{EVAL[0]}:{EVAL[1]}]",
        "prove": "prove_s = witness (circom wasm under node) + groth16py prove, key load "
                 "included",
        "rounding": "g = floor((2 S + W) / (2 W)): nearest, ties toward +infinity",
        "targets": TARGETS,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")


def measure_gas(doc: dict[str, Any]) -> None:
    """Start anvil on ANVIL_PORT, run the gas child against it, stop it by PID."""
    from zkpot import services

    anvil = services.Anvil(services.ServicesConfig(anvil_port=ANVIL_PORT,
                                                   run_dir=SCRATCH / "run"))
    already = anvil.answers()
    status = anvil.start()
    print(f"anvil on {anvil.url}: pid {status.pid} ({'reused' if already else 'started'})",
          flush=True)
    try:
        doc["onchain"] = _child("gas", 0)
    finally:
        if not already:
            anvil.stop()
    save_results(doc)


def run(steps: list[str], slots: list[int]) -> None:
    doc = load_results()
    if "slots" in doc and "slots_before_issue18" not in doc:
        # Issue 18's baseline (groth16py's own single-party key, one child per proof).
        doc["slots_before_issue18"] = json.loads(json.dumps(doc["slots"]))
    for k in slots:
        row = doc.setdefault("slots", {}).setdefault(str(k), {})
        if "setup" in steps:
            row["setup"] = _child("setup", k)
            save_results(doc)
        if "prove" in steps and "error" not in row.get("setup", {"error": ""}):
            row["prove"] = _child("prove", k)
            save_results(doc)
        if "accuracy" in steps:
            row["accuracy"] = _child("accuracy", k)
            save_results(doc)
        if "keyload" in steps and "setup" in row:
            row["keyload"] = _child("keyload", k)
            save_results(doc)
    if "gas" in steps:
        measure_gas(doc)


# -- markdown ----------------------------------------------------------------------------


def _size(n: float) -> str:
    if n >= 1e9:
        return f"{n / 1e9:.2f} GB"
    return f"{n / 1e6:,.1f} MB" if n >= 1e6 else f"{n / 1e3:,.1f} KB"


def _load(*rows: dict[str, Any]) -> str:
    values = [r[k] for r in rows for k in ("loadavg_before", "loadavg_after") if k in r]
    return f"{min(values):.1f}–{max(values):.1f}" if values else "—"


def write_markdown() -> None:
    doc = load_results()
    onchain = doc.get("onchain", {})
    lines = [
        "# Proven aggregation (Groth16): K × mlp-64-32-10",
        "",
        f"Machine: {doc['meta']['machine']}. Times are wall seconds and upper bounds; the "
        "load column is the 1-minute load average before–after each step (2 cores: above 2 "
        "means the step shared them). Peak RSS is the step's child process and the processes "
        "it waited for. Statement and rounding: `src/zkpot/proving/groth16/aggregation.py` "
        f"({doc['meta']['rounding']}). Targets (issue 11): K = 8 proves in ≤ "
        f"{TARGETS['prove_s']} s and ≤ {TARGETS['peak_rss_gb']} GB, verifies in ≤ "
        f"{TARGETS['verify_gas']:,} gas.",
        "",
        "| K | constraints | public signals | compile s | setup s | setup | pk | witness s | "
        "witness + prove s | prove peak RSS | verified | verify gas (tx) | load (setup; prove) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for k in SLOTS:
        row = doc.get("slots", {}).get(str(k), {})
        s, p = row.get("setup", {}), row.get("prove", {})
        if not s or "error" in s:
            lines.append(f"| {k} | {s.get('error', 'not measured')} |" + " |" * 11)
            continue
        kind = "INSECURE single-party" if s["single_party_insecure"] else "dev ptau + phase 2"
        gas = onchain.get(str(k), {}).get("verify_tx_gas")
        if p and "error" not in p:
            proved = (f"{p['witness_s']} | {p['prove_s']} | {p['peak_rss_mb'] / 1024:.2f} GB | "
                      f"{p['verified_locally']}")
        else:
            proved = f"{p.get('error', 'not measured')} | | |"
        lines.append(
            f"| {k} | {s['constraints']:,} | {s['public_signals']} | {s['compile_s']} | "
            f"{s['setup_s']} | {kind} | {_size(s['pk_bytes'])} | {proved} | "
            f"{'—' if gas is None else f'{gas:,}'} | {_load(s)}; {_load(p)} |")
    split = {k: doc["slots"][str(k)]["prove"] for k in SLOTS
             if "key_load_s" in doc.get("slots", {}).get(str(k), {}).get("prove", {})}
    if split:
        lines += ["", "Issue 18 (single-party key written as a snarkjs `.zkey` by "
                  "`native/g16setup.c`, imported once by the long-lived groth16py child while "
                  "node computes the witness): of each prove time, the key import took "
                  + ", ".join(f"K={k} {v['key_load_s']} s" for k, v in split.items())
                  + " and the proof with the key in memory "
                  + ", ".join(f"K={k} {v['prove_only_s']} s" for k, v in split.items())
                  + " (the same child, one run each)."]
    before = doc.get("slots_before_issue18", {})
    was = {k: before[str(k)]["prove"]["prove_s"] for k in SLOTS
           if "prove_s" in before.get(str(k), {}).get("prove", {})}
    if was:
        lines += ["", "Before issue 18 (groth16py's own single-party key format, loaded again "
                  "in a fresh child for every proof), witness + prove took " + ", ".join(
                      f"K={k} {v} s" for k, v in was.items()) + "."]
    keyloads = {k: doc["slots"][str(k)]["keyload"] for k in SLOTS
                if "load_s" in doc.get("slots", {}).get(str(k), {}).get("keyload", {})}
    if keyloads:
        lines += ["", "Importing the proving key alone in a separate child: " + ", ".join(
            f"K={k} {v['load_s']} s ({v['key']})" for k, v in keyloads.items()) + "."]
    lines += targets(doc) + accuracy_table(doc) + analysis(doc)
    MARKDOWN.write_text("\n".join(lines) + "\n")
    print(MARKDOWN.read_text())


def targets(doc: dict[str, Any]) -> list[str]:
    """The issue's K = 8 targets, met or not, from the measured row."""
    row = doc.get("slots", {}).get("8", {})
    prove, gas = row.get("prove", {}), doc.get("onchain", {}).get("8", {})
    if "prove_s" not in prove or "verify_tx_gas" not in gas:
        return []

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    rss_gb = prove["peak_rss_mb"] / 1024
    return ["", f"K = 8 against the targets: prove {prove['prove_s']} s (target ≤ "
            f"{TARGETS['prove_s']} s: {verdict(prove['prove_s'] <= TARGETS['prove_s'])}; "
            f"load {_load(prove)} on 2 cores), peak RSS {rss_gb:.2f} GB (≤ "
            f"{TARGETS['peak_rss_gb']} GB: {verdict(rss_gb <= TARGETS['peak_rss_gb'])}), "
            f"verify {gas['verify_tx_gas']:,} gas (≤ {TARGETS['verify_gas']:,}: "
            f"{verdict(gas['verify_tx_gas'] <= TARGETS['verify_gas'])}).",
            "", "Issue 18's targets: " + "; ".join(
                f"K = {k} prove {doc['slots'][str(k)]['prove']['prove_s']} s (≤ {limit} s: "
                f"{verdict(doc['slots'][str(k)]['prove']['prove_s'] <= limit)})"
                for k, limit in ((4, 20), (8, 30))
                if "prove_s" in doc.get("slots", {}).get(str(k), {}).get("prove", {})) + "."]


def accuracy_table(doc: dict[str, Any]) -> list[str]:
    """Float FedAvg beside the fixed-point aggregate, per K."""
    rows = {k: doc["slots"][str(k)]["accuracy"] for k in SLOTS
            if "fixed_float_correct" in doc.get("slots", {}).get(str(k), {}).get("accuracy", {})}
    if not rows:
        return []
    out = ["", "## Float FedAvg vs the fixed-point aggregate (no proof; same models as above)",
           "", "Correct counts on the evaluation set; \"float\" is torch argmax, \"fixed\" "
           "the circuit's strict-win count. The parameter gap is the largest difference "
           "between the quantized float FedAvg and the fixed-point aggregate, in units of "
           "each parameter's scale (the stated bound is 1).", "",
           "| K | weights (= local float counts) | eval samples | max gap | FedAvg float | "
           "aggregate float | FedAvg fixed | aggregate fixed |",
           "|---|---|---|---|---|---|---|---|"]
    for k, a in rows.items():
        out.append(f"| {k} | {', '.join(str(w) for w in a['weights'])} | {a['eval_samples']} | "
                   f"{a['max_param_gap_units']} | {a['fedavg_float_correct']} | "
                   f"{a['fixed_float_correct']} | {a['fedavg_fixed_point_correct']} | "
                   f"{a['fixed_fixed_point_correct']} |")
    return out


def _fit(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    """Least-squares ``y = a + b x`` through the points (None below two)."""
    if len(points) < 2:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    b = sum((x - mx) * (y - my) for x, y in points) / sxx
    return my - b * mx, b


POSEIDON_T3_GAS = 30_000
"""A 2-input Poseidon in Solidity (chancehudson/poseidon-solidity's README: 29,893-33,353
gas per hash): not measured here, a published figure for the estimate below."""


def analysis(doc: dict[str, Any]) -> list[str]:
    """Scaling in K, the targets, and the public-input encodings compared."""
    rows = doc.get("slots", {})
    onchain = doc.get("onchain", {})
    out: list[str] = ["", "## Scaling and encodings", ""]
    constraints = [(int(k), r["setup"]["constraints"]) for k, r in rows.items()
                   if "constraints" in r.get("setup", {})]
    proves = [(int(k), r["prove"]["prove_s"]) for k, r in rows.items()
              if "prove_s" in r.get("prove", {})]
    memory = [(int(k), r["prove"]["peak_rss_mb"]) for k, r in rows.items()
              if "prove_s" in r.get("prove", {})]
    for label, points, unit in (("constraints", constraints, ""), ("prove s", proves, " s"),
                                ("prove peak RSS MB", memory, " MB")):
        fit = _fit(sorted(points))
        if fit is None:
            continue
        a, b = fit
        measured = {k for k, _ in points}
        missing = [k for k in SLOTS if k not in measured]
        estimate = "; ".join(f"**estimated** K={k}: {a + b * k:,.0f}{unit}" for k in missing)
        out.append(f"- {label}: {a:,.0f} + {b:,.0f} × K{unit} (least squares over K = "
                   f"{', '.join(str(k) for k, _ in sorted(points))})"
                   + (f"; {estimate}" if estimate else "") + ".")
    if constraints:
        out.append("- where the constraints go: each slot opens its commitment with the accuracy "
                   "circuit's own `ModelHash` (range checks of the 2,410 weights and biases, "
                   "about 17 constraints each, plus the Poseidon chain) and adds one product per "
                   "parameter to the weighted sum: that is the per-K slope; the intercept is the "
                   "global model's `ModelHash` and the rounded division (one product and two "
                   "remainder decompositions of RB + 1 bits per parameter, RB = 18 to 20 here).")
    gas = sorted((v["public_signals"], v["verify_tx_gas"]) for v in onchain.values()
                 if isinstance(v, dict) and "verify_tx_gas" in v)
    fit = _fit([(float(n), float(g)) for n, g in gas])
    if fit is not None:
        a, b = fit
        out += [
            f"- verify gas: {a:,.0f} + {b:,.0f} × (public signals), from the transactions "
            "above (base 21,000 and calldata included).",
            "",
            "Public-input encodings for K = 8 (17 signals as built):",
            "",
            f"1. as built, `[commitment × K, weight × K, globalCommitment]`: "
            f"{a + b * 17:,.0f} gas (fit) — the contract passes its own records as they are;",
            f"2. weights packed into one signal (K × {DEFAULT_WEIGHT_BITS_DOC} bits ≤ 253; the "
            "circuit already range-checks each weight, so packing is free there, and the "
            f"contract packs with shifts): K + 2 = 10 signals, ≈ {a + b * 10:,.0f} gas "
            "(**estimate** from the fit);",
            f"3. one signal `H = Poseidon(commitments, weights, globalCommitment)` that the "
            f"contract recomputes: the verifier drops to ≈ {a + b * 1:,.0f} gas "
            "(**estimate**), but a Poseidon over 17 elements on chain costs about 16 "
            f"two-input hashes ≈ {16 * POSEIDON_T3_GAS:,} gas (**estimate**, "
            f"{POSEIDON_T3_GAS:,} per PoseidonT3 as published by poseidon-solidity), so it "
            "costs more than it saves; a keccak/sha256 over the inputs is cheap on chain but "
            "costs ~30k constraints per 512-bit SHA-256 block in the circuit (9 blocks).",
            "",
            "Recommendation: keep one signal per commitment (the contract reads them from its "
            "records); pack the K weights into one signal when K grows beyond what 350k gas "
            "allows.",
        ]
    return out


DEFAULT_WEIGHT_BITS_DOC = 16
"""The weights' width the bench's circuits use (``aggregation.DEFAULT_WEIGHT_BITS``)."""


CHILDREN: dict[str, Callable[[int], dict[str, Any]]] = {
    "setup": child_setup,
    "prove": child_prove,
    "keyload": child_keyload,
    "accuracy": child_accuracy,
    "gas": child_gas,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", nargs=2, metavar=("STEP", "SLOTS"))
    parser.add_argument("--steps", nargs="+", default=["setup", "prove", "accuracy", "gas"],
                        choices=sorted(CHILDREN))
    parser.add_argument("--slots", nargs="+", type=int, default=list(SLOTS))
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    if args.child:
        step, slots = args.child
        print(json.dumps(CHILDREN[step](int(slots))), flush=True)
        return
    if args.markdown:
        write_markdown()
        return
    run(args.steps, args.slots)


if __name__ == "__main__":
    main()
