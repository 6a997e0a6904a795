"""Proving benchmark: circuit size, setup/prove time, peak memory, sizes, calldata, gas.

Each measurement runs in its own child process so that peak RSS is that step's alone
(os.wait4). Results are appended to results/proving.json as they come, so a long run
that is interrupted keeps what it measured. Gas is added by ``--gas`` (needs anvil and
`ape compile`): it deploys the reusable verifier and one adapter per circuit.

    .venv/bin/python bench/prove_bench.py            # all configurations below
    .venv/bin/python bench/prove_bench.py --only default-64
    .venv/bin/python bench/prove_bench.py --gas      # on-chain verify gas for measured rows
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results" / "proving.json"
SCRATCH = ROOT / "results" / "tmp" / "bench"


@dataclass(frozen=True)
class BenchCase:
    name: str
    architecture: str = "mlp-64-32-10"
    samples: int = 64
    form: str = "maxcmp"
    model_binding: str = "polycommit"
    test_set_binding: str = "polycommit"
    num_inner_cols: int = 2
    decomp_base: int = 1024
    decomp_legs: int = 4
    chunks: int = 1
    lever: str = ""


CASES = [
    BenchCase("default-64", samples=64, lever="chosen binding, N=64"),
    BenchCase("default-16", samples=16, lever="chosen binding, N=16"),
    BenchCase("default-32", samples=32, lever="chosen binding, N=32"),
    BenchCase("default-256-in-4", samples=64, chunks=4, lever="256 samples as 4 chunks of 64"),
    BenchCase("cols4-64", num_inner_cols=4, lever="num_inner_cols 4 (default 2)"),
    BenchCase("argmax-64", form="argmax", lever="ArgMax/Equal form instead of max-compare"),
    BenchCase("base16384-64", decomp_base=16384, decomp_legs=2,
              lever="range check base 2^14 x 2 legs (EZKL default)"),
    BenchCase("fixed-testset-64", test_set_binding="fixed",
              lever="test set fixed in the keys (one key per test set)"),
    BenchCase("lenet-16", architecture="lenet-8x8", samples=16, lever="LeNet-like CNN, N=16"),
    BenchCase("hashed-model-16", samples=16, model_binding="hashed",
              lever="model committed by Poseidon hash instead of KZG"),
]


def _child(step: str, case: BenchCase) -> dict[str, object]:
    """Run one step in a child; return its JSON line plus its own peak RSS."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", step, json.dumps(asdict(case))],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": f"{step} exited {proc.returncode}"}
    result: dict[str, object] = json.loads(lines[-1])
    result[f"{step}_peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    return result


def _objects(case: BenchCase):  # type: ignore[no-untyped-def]
    from zkpot import data, models, train
    from zkpot.proving import circuit

    arch = models.architecture_by_name(case.architecture)
    spec = circuit.CircuitSpec(
        arch, samples=case.samples, form=case.form,  # type: ignore[arg-type]
        model_binding=case.model_binding,  # type: ignore[arg-type]
        test_set_binding=case.test_set_binding,  # type: ignore[arg-type]
        num_inner_cols=case.num_inner_cols, decomp_base=case.decomp_base,
        decomp_legs=case.decomp_legs,
    )
    digits = data.load_digits()
    # Train on the first 1,200 samples; test chunks come from the rest.
    model = models.build_model(arch, seed=0)
    train.train_local(model, digits.X[:1200], digits.y[:1200], epochs=20, lr=0.05,
                      batch_size=32, seed=0)
    total = case.samples * case.chunks
    batches = circuit.chunks(digits.X[1200 : 1200 + total], digits.y[1200 : 1200 + total],
                             case.samples)
    return spec, model, batches


def _zk_dir(case: BenchCase) -> Path:
    # The default 64-sample circuit is the project's: its descriptor lives in zk/.
    if case.name in ("default-64", "default-256-in-4"):
        return ROOT / "zk"
    return SCRATCH / "zk"


def child_setup(case: BenchCase) -> dict[str, object]:
    from zkpot.proving import pipeline

    spec, model, batches = _objects(case)
    started = time.perf_counter()
    art = pipeline.setup_circuit(spec, model, batches[0], zk_dir=_zk_dir(case))
    return {
        "circuit_id": art.spec.short_id,
        "num_rows": art.num_rows,
        "logrows": art.logrows,
        "setup_total_s": round(time.perf_counter() - started, 2),
        "keygen_s": round(art.setup_seconds, 2),
        "pk_bytes": art.pk.stat().st_size,
        "vk_bytes": art.vk.stat().st_size,
        "vka_bytes": art.vka.stat().st_size,
        "test_set_points": art.test_set_points,
        "model_points": art.model_points,
    }


def child_prove(case: BenchCase) -> dict[str, object]:
    import torch

    from zkpot.proving import circuit, pipeline

    spec, model, batches = _objects(case)
    art = pipeline.CircuitArtifacts.load(_zk_dir(case) / spec.short_id)
    work = SCRATCH / "work" / case.name
    prove_s, correct, torch_correct, quantized, verified, proof_bytes = 0.0, 0, 0, 0, True, 0
    calldata = 0
    torch_s = 0.0
    for i, batch in enumerate(batches):
        proof = pipeline.prove(art, model, batch, work, name=f"chunk{i}")
        prove_s += proof.prove_seconds
        correct += proof.statement.correct
        verified &= pipeline.verify(art, proof)
        quantized += circuit.quantized_count(spec, model, batch)
        with torch.no_grad():
            x = torch.from_numpy(batch.X)
            start = time.perf_counter()
            for _ in range(100):
                logits = model(x)
            torch_s += (time.perf_counter() - start) / 100
        torch_correct += int((logits.argmax(1).numpy() == batch.y).sum())
        proof_bytes = len(proof.proof)
        # verifyAccuracy(bytes,uint256[]): selector + 2 offsets + len/bytes padded + len/words.
        calldata = 4 + 64 + 32 + -(-len(proof.proof) // 32) * 32 + 32 + 32 * len(proof.instances)
    samples = case.samples * case.chunks
    return {
        "prove_s": round(prove_s, 2),
        "prove_s_per_chunk": round(prove_s / case.chunks, 2),
        "proof_bytes": proof_bytes,
        "calldata_bytes_per_proof": calldata,
        "verified_locally": verified,
        "circuit_correct": correct,
        "torch_quantized_correct": quantized,
        "torch_float_correct": torch_correct,
        "samples": samples,
        "torch_inference_s": torch_s,
        "overhead_ratio": round(prove_s / torch_s) if torch_s else None,
        "proof_paths": [str(work / f"chunk{i}.json") for i in range(case.chunks)],
    }


def load_results() -> dict[str, dict[str, object]]:
    if RESULTS.is_file():
        loaded: dict[str, dict[str, object]] = json.loads(RESULTS.read_text())["cases"]
        return loaded
    return {}


def save_results(cases: dict[str, dict[str, object]]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    meta = {"machine": f"{os.cpu_count()} cores", "ezkl": "23.0.5",
            "note": "wall times on a shared 2-core machine; other jobs may have run concurrently"}
    RESULTS.write_text(json.dumps({"meta": meta, "cases": cases}, indent=2, sort_keys=True) + "\n")


def run(selected: list[BenchCase]) -> None:
    results = load_results()
    for case in selected:
        print(f"== {case.name}", flush=True)
        row: dict[str, object] = {"case": asdict(case)}
        setup_case = replace(case, chunks=1)
        row.update(_child("setup", setup_case))
        if "error" not in row:
            row.update(_child("prove", case))
        results[case.name] = row
        save_results(results)
        print(json.dumps(row), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2)
    parser.add_argument("--only", action="append")
    parser.add_argument("--gas", action="store_true")
    args = parser.parse_args()
    if args.child:
        step, raw = args.child
        case = BenchCase(**json.loads(raw))
        result = child_setup(case) if step == "setup" else child_prove(case)
        print(json.dumps(result), flush=True)
        return
    if args.gas:
        from bench_gas import measure_gas  # type: ignore[import-not-found]

        measure_gas(RESULTS)
        return
    selected = [c for c in CASES if not args.only or c.name in args.only]
    run(selected)


if __name__ == "__main__":
    main()
