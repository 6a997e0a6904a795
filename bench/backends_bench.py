"""Groth16 vs EZKL, side by side in one run: the default MLP at N = 16, 64 and 256 samples.

For each N, Groth16 proves the N samples in one proof; EZKL proves N = 16 and 64 in one
proof each and N = 256 as four proofs of 64 with the N = 64 circuit (its first chunk is
the N = 64 proof, measured once). Every setup and every proof runs in its own child
process, so the peak RSS recorded is that step's alone: ``os.wait4`` returns the child's
``ru_maxrss``, which on Linux also covers the grandchildren it waited for (circom's
witness generator under node, groth16py's prover interpreter). The 1-minute load average
before and after each step is recorded beside it: the machine is shared, so a timing
taken under load is an upper bound.

Groth16 circuit folders go under ``results/tmp/bench-g16/`` (git-ignored); EZKL circuits
already built under ``zk/`` or by ``bench/prove_bench.py`` are reused, others are built
there too. Verify gas comes from a real transaction on an anvil this script starts on
``ZKPOT_ANVIL_PORT`` (default 8641) and stops by PID. Results are merged into
``results/backends.json`` as they come, so an interrupted run keeps what it measured.

    .venv/bin/python bench/backends_bench.py                 # everything, in order
    .venv/bin/python bench/backends_bench.py --steps g16 gas # only some steps
    .venv/bin/python bench/backends_bench.py --markdown      # results/backends.md

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
RESULTS = ROOT / "results" / "backends.json"
MARKDOWN = ROOT / "results" / "backends.md"
GROTH16_GAS = ROOT / "results" / "groth16-gas.json"
EZKL_RESULTS = ROOT / "results" / "proving.json"
SCRATCH = ROOT / "results" / "tmp" / "bench-g16"
EZKL_SEARCH = [ROOT / "zk", ROOT / "results" / "tmp" / "bench" / "zk"]
"""Where set-up EZKL circuits are looked for (the project's, then prove_bench's)."""
ARCHITECTURE = "mlp-64-32-10"
SIZES = (16, 64, 256)
EZKL_CHUNK = 64
"""EZKL's largest proof (``MAX_SAMPLES_PER_PROOF``): N = 256 is four of these."""
TRAIN_SAMPLES = 1200
"""As ``prove_bench``: models train on the first 1,200 digits, test on the rest."""
TRAIN_EPOCHS = 10
SUBMITTER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
"""anvil's first test account: the Groth16 proofs are bound to it."""
ANVIL_PORT = int(os.environ.get("ZKPOT_ANVIL_PORT", "8641"))


# -- children ----------------------------------------------------------------------------


def _objects(samples: int, backend: str) -> tuple[Any, Any, Any, list[Any]]:
    """(spec, trained model, untrained reference, chunks of the 256-sample test set)."""
    from zkpot import data, models, train
    from zkpot.proving import circuit

    arch = models.architecture_by_name(ARCHITECTURE)
    spec = circuit.CircuitSpec(arch, samples=samples, backend=backend)  # type: ignore[arg-type]
    digits = data.load_digits()
    model = models.build_model(arch, seed=0)
    train.train_local(model, digits.X[:TRAIN_SAMPLES], digits.y[:TRAIN_SAMPLES],
                      epochs=TRAIN_EPOCHS, lr=0.05, batch_size=32, seed=0)
    test_X = digits.X[TRAIN_SAMPLES : TRAIN_SAMPLES + max(SIZES)]
    test_y = digits.y[TRAIN_SAMPLES : TRAIN_SAMPLES + max(SIZES)]
    return spec, model, models.build_model(arch, seed=0), circuit.chunks(test_X, test_y, samples)


def _ezkl_home(short_id: str) -> Path:
    """The zk folder holding the EZKL circuit ``short_id``, or where to build it."""
    for zk in EZKL_SEARCH:
        if (zk / short_id / "circuit.json").is_file():
            return zk
    return SCRATCH / "ezkl-zk"


def _load_or_setup(spec: Any, reference: Any, calibration: Any, zk_dir: Path) -> tuple[Any, bool]:
    from zkpot.errors import ZkpotError
    from zkpot.proving.backend import load_circuit, setup_circuit

    try:
        circ = load_circuit(zk_dir / spec.short_id)
        circ.require_keys()
        return circ, True
    except ZkpotError:
        return setup_circuit(spec, reference, calibration, zk_dir=zk_dir), False


def child_g16_setup(samples: int) -> dict[str, Any]:
    """Emit, compile and key the N-sample Groth16 circuit (or reuse it); sizes and times."""
    from zkpot.proving.groth16 import prover

    spec, _, reference, batches = _objects(samples, "groth16")
    circ, reused = _load_or_setup(spec, reference, batches[0], SCRATCH / "zk")
    key = prover.proving_key(circ.keys_dir)
    return {
        "circuit_id": circ.short_id,
        "directory": str(circ.directory.relative_to(ROOT)),
        "reused": reused,
        "constraints": circ.constraints,
        "compile_s": circ.data.get("compile_seconds"),
        "setup_s": circ.data.get("setup_seconds"),
        "single_party_insecure": bool(circ.data.get("single_party")),
        "insecure": circ.insecure,
        "ptau": circ.data.get("ptau"),
        "pk_file": key.name,
        "pk_bytes": key.stat().st_size,
        "vk_bytes": circ.verification_key.stat().st_size,
    }


def child_g16_prove(samples: int) -> dict[str, Any]:
    """One Groth16 proof of all N samples: witness and prove time, count, sizes."""
    from zkpot.proving import circuit
    from zkpot.proving.backend import load_circuit
    from zkpot.proving.ezkl import evm
    from zkpot.proving.groth16 import prover

    spec, model, _, batches = _objects(samples, "groth16")
    circ = load_circuit(SCRATCH / "zk" / spec.short_id)
    made: list[Any] = []
    real_prove = prover.prove

    def recording_prove(*args: Any, **kwargs: Any) -> Any:
        made.append(real_prove(*args, **kwargs))
        return made[-1]

    # Circuit.prove reports witness + prove together; the split comes from prover.prove.
    setattr(prover, "prove", recording_prove)  # noqa: B010 - the backend's module object
    proof = circ.prove(model, batches[0], SCRATCH / "work" / f"g16-{samples}", f"g16-{samples}",
                       blinding=circuit.new_blinding(), submitter=SUBMITTER)
    return {
        "prove_s": round(proof.prove_seconds, 2),
        "witness_s": round(made[0].witness_seconds, 2) if made else None,
        "prover_s": round(made[0].prove_seconds, 2) if made else None,
        # The prover child's split of prover_s: importing the key (once per process) and
        # proving with it in memory.
        "key_load_s": round(prover.WORKER.last_load_seconds, 2),
        "prove_only_s": round(prover.WORKER.last_prove_seconds, 2),
        "pk_file": prover.proving_key(SCRATCH / "zk" / spec.short_id / "keys").name,
        "proof_bytes": len(proof.proof),
        "calldata_bytes": len(evm.verify_accuracy_calldata(proof)),
        "verified_locally": circ.verify(proof),
        "circuit_correct": proof.statement.correct,
        "quantized_correct": circuit.quantized_count(spec, model, batches[0]),
        "submitter": proof.statement.submitter,
        "proof_path": str(proof.path),
    }


def child_g16_keyload(samples: int) -> dict[str, Any]:
    """How long groth16py takes only to load the circuit's proving key (part of prove_s),
    and where that time goes: reading the file, user and kernel CPU, page faults."""
    import resource

    import groth16py

    from zkpot.proving.groth16 import prover

    spec, _, _, _ = _objects(samples, "groth16")
    key = prover.proving_key(SCRATCH / "zk" / spec.short_id / "keys")
    started = time.perf_counter()
    key.read_bytes()  # the file alone, from the page cache after the first run
    read_s = time.perf_counter() - started
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    if key.suffix == ".zkey":
        groth16py.import_zkey(str(key))
    else:
        groth16py.ProvingKey.load(str(key))
    load_s = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {"key": key.name, "load_s": round(load_s, 2), "read_s": round(read_s, 2),
            "user_s": round(after.ru_utime - before.ru_utime, 2),
            "sys_s": round(after.ru_stime - before.ru_stime, 2),
            "minor_faults": after.ru_minflt - before.ru_minflt,
            "tunables": os.environ.get("GLIBC_TUNABLES", "")}


COUNT_SIZES = (1, 3)
"""Constraints are counted at these N: the difference is the per-sample cost."""


def child_g16_count(_samples: int) -> dict[str, Any]:
    """Constraints of the default MLP's circuit per sample and fixed (compiled, not keyed)."""
    from zkpot import models
    from zkpot.proving import circuit
    from zkpot.proving.groth16 import ceremony, circom

    counts: dict[str, int] = {}
    for n in COUNT_SIZES:
        spec = circuit.CircuitSpec(models.architecture_by_name(ARCHITECTURE), samples=n,
                                   backend="groth16")
        compiled = circom.compile_circuit(spec, SCRATCH / "count" / str(n))
        counts[str(n)] = ceremony.r1cs_info(compiled.r1cs).constraints
    low, high = COUNT_SIZES
    per_sample = (counts[str(high)] - counts[str(low)]) / (high - low)
    return {"constraints": counts, "per_sample": per_sample,
            "fixed": counts[str(low)] - per_sample * low}


def _timed(cmd: list[str]) -> tuple[float, float]:
    """Run ``cmd``; (wall seconds, its own peak RSS in MB). A failure raises."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        err = proc.stderr.read().decode()[-300:] if proc.stderr else ""
        raise RuntimeError(f"{cmd[0]} failed: {err}")
    return wall, usage.ru_maxrss / 1024


def child_g16_probe(samples: int) -> dict[str, Any]:
    """Witness generators and provers side by side on one N-sample witness (issue 18).

    Witness: ``snarkjs wtns calculate`` (what the project runs) against circom's own
    ``generate_witness.js`` under node. Proof: groth16py in its long-lived child (the
    first proof imports the key, the second has it in memory; one core) against
    ``snarkjs groth16 prove`` (WebAssembly, worker threads on every core). Every proof
    is checked with snarkjs's verifier.
    """
    import resource

    from zkpot import toolchain
    from zkpot.proving import circuit
    from zkpot.proving.groth16 import circom, prover
    from zkpot.proving.groth16.backend import Groth16Circuit

    spec, model, _, batches = _objects(samples, "groth16")
    circ = Groth16Circuit.load(SCRATCH / "zk" / spec.short_id)
    circ.require_keys()
    work = SCRATCH / "work" / f"probe-{samples}"
    work.mkdir(parents=True, exist_ok=True)
    inputs = circom.circuit_inputs(spec, model, circuit.new_blinding(), batches[0], SUBMITTER)
    input_json = work / "input.json"
    input_json.write_text(json.dumps(prover._strings(inputs)))
    node_bin = toolchain.node_bin_dir()
    snarkjs = str(node_bin / "snarkjs")
    out: dict[str, Any] = {"constraints": circ.constraints}
    wtns = work / "w.wtns"
    out["witness_snarkjs_s"], out["witness_snarkjs_rss_mb"] = _timed(
        [snarkjs, "wtns", "calculate", str(circ.wasm), str(input_json), str(wtns)])
    generator = circ.wasm.parent / "generate_witness.js"
    if generator.is_file():
        out["witness_circom_js_s"], out["witness_circom_js_rss_mb"] = _timed(
            ["node", str(generator), str(circ.wasm), str(input_json), str(work / "w2.wtns")])
        out["witnesses_identical"] = (work / "w2.wtns").read_bytes() == wtns.read_bytes()
    started = time.perf_counter()
    signals = prover.public_signals(wtns)
    out["public_signals_read_s"] = time.perf_counter() - started
    key = prover.proving_key(circ.keys_dir)
    vk = circ.verification_key
    for run in ("groth16py_cold", "groth16py_warm"):
        started = time.perf_counter()
        proof = prover.prove_witness(key, wtns)
        out[f"{run}_s"] = time.perf_counter() - started
        out[f"{run}_key_load_s"] = prover.WORKER.last_load_seconds
        out[f"{run}_verified_snarkjs"] = prover.verify(vk, proof, signals, verifier="snarkjs")
    prover.WORKER.close()
    out["groth16py_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    proof_json, public_json = work / "proof.json", work / "public.json"
    out["snarkjs_prove_s"], out["snarkjs_prove_rss_mb"] = _timed(
        [snarkjs, "groth16", "prove", str(key), str(wtns), str(proof_json), str(public_json)])
    out["snarkjs_verified_snarkjs"] = prover.verify(
        vk, prover.from_snarkjs_json(json.loads(proof_json.read_text())), signals,
        verifier="snarkjs")
    out["cores"] = os.cpu_count()
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in out.items()}


def child_ezkl_setup(samples: int) -> dict[str, Any]:
    """Set up (or reuse) the N-sample EZKL circuit; its sizes and keygen time."""
    spec, _, reference, batches = _objects(samples, "ezkl")
    circ, reused = _load_or_setup(spec, reference, batches[0], _ezkl_home(spec.short_id))
    art = circ.artifacts
    return {
        "circuit_id": circ.short_id,
        "directory": str(circ.directory.relative_to(ROOT)),
        "reused": reused,
        "num_rows": art.num_rows,
        "logrows": art.logrows,
        "keygen_s": round(art.setup_seconds, 2),
        "pk_bytes": art.pk.stat().st_size,
        "vk_bytes": art.vk.stat().st_size,
        "insecure": circ.insecure,
    }


def child_ezkl_prove(samples: int, index: int) -> dict[str, Any]:
    """Prove chunk ``index`` (of ``samples`` samples) of the test set with EZKL."""
    from zkpot.proving import circuit
    from zkpot.proving.backend import load_circuit
    from zkpot.proving.ezkl import evm

    spec, model, _, batches = _objects(samples, "ezkl")
    circ = load_circuit(_ezkl_home(spec.short_id) / spec.short_id)
    proof = circ.prove(model, batches[index], SCRATCH / "work" / f"ezkl-{samples}",
                       f"chunk{index}", blinding=circuit.new_blinding(), submitter=SUBMITTER)
    return {
        "chunk": index,
        "prove_s": round(proof.prove_seconds, 2),
        "proof_bytes": len(proof.proof),
        "calldata_bytes": len(evm.verify_accuracy_calldata(proof)),
        "verified_locally": circ.verify(proof),
        "circuit_correct": proof.statement.correct,
        "quantized_correct": circuit.quantized_count(spec, model, batches[index]),
    }


def child_gas(samples: int) -> dict[str, Any]:
    """Deploy the N-sample circuit's Groth16 verifier + adapter; gas of one valid verify."""
    from ape import accounts, chain, networks, project

    from zkpot.chain import verifiers
    from zkpot.proving.backend import load_circuit

    row = load_results()["groth16"][str(samples)]
    circ = load_circuit(SCRATCH / "zk" / row["setup"]["circuit_id"])
    proof = circ.load_proof(Path(row["prove"]["proof_path"]))
    with networks.parse_network_choice("ethereum:local:foundry"):
        owner = accounts.test_accounts[0]
        adapter_address = verifiers.deploy_verifier(circ.verifier_artifacts(), owner)
        adapter = project.Groth16AccuracyVerifier.at(adapter_address)
        valid, statement = adapter.verifyAccuracy(proof.proof, proof.instances)
        # verifyAccuracy never reverts on a bad proof; the probe does, so a mined probe
        # transaction is the gas of a verification that succeeded.
        probe = owner.deploy(project.VerifyGasProbe)
        receipt = probe.probe.transact(adapter_address, proof.proof, proof.instances,
                                       sender=owner)
        estimate = chain.provider.web3.eth.estimate_gas({
            "to": probe.address,
            "data": bytes(probe.probe.encode_input(adapter_address, proof.proof,
                                                   proof.instances)),
        })
        return {
            "circuit_id": circ.short_id,
            "samples": samples,
            "valid_on_chain": bool(valid),
            # ape returns the Statement struct as a tuple (fields in declaration order).
            "correct_on_chain": int(statement[2]),
            "verify_tx_gas": int(receipt.gas_used),
            "verify_estimate_gas": int(estimate),
            "adapter_runtime_bytes": len(bytes(chain.provider.get_code(adapter_address))),
            "verifier_runtime_bytes": len(bytes(chain.provider.get_code(
                adapter.groth16Verifier()))),
        }


KEYLOAD_REPEATS = 3
HUGETLB = {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}
"""glibc >= 2.35: malloc madvises its mappings for transparent huge pages."""


def _child(step: str, samples: int, index: int = 0,
           env: dict[str, str] | None = None) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    log = SCRATCH / "logs" / f"{step}-{samples}-{index}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"-- {step} N={samples} #{index} (load {load_before:.2f})", flush=True)
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", step, str(samples), str(index)],
            stdout=subprocess.PIPE, stderr=stderr, text=True, env={**os.environ, **(env or {})},
        )
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
        "machine": f"{os.cpu_count()} cores, shared with other engineers' jobs",
        "note": "wall times are upper bounds: see loadavg_before/after (1-minute) beside each",
        "model": f"{ARCHITECTURE} trained {TRAIN_EPOCHS} epochs on digits[:{TRAIN_SAMPLES}], "
                 f"tested on digits[{TRAIN_SAMPLES}:{TRAIN_SAMPLES + max(SIZES)}]",
        "groth16_prove": "prove_s = witness (circom wasm under node) + groth16py prove, "
                         "key load included",
        "ezkl_256": f"4 proofs of {EZKL_CHUNK} with the N={EZKL_CHUNK} circuit; chunk 0 is "
                    f"the N={EZKL_CHUNK} proof",
    }
    summarise(doc)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")


def _ezkl_proofs(doc: dict[str, Any], samples: int) -> list[dict[str, Any]]:
    """The EZKL proofs that together cover the first ``samples`` test samples."""
    ezkl = doc.get("ezkl", {})
    if samples <= EZKL_CHUNK:
        return list(ezkl.get(str(samples), {}).get("proofs", []))
    first = ezkl.get(str(EZKL_CHUNK), {}).get("proofs", [])
    rest = ezkl.get(str(samples), {}).get("proofs", [])
    return list(first[:1]) + list(rest)


def summarise(doc: dict[str, Any]) -> None:
    """Totals per backend and N, the count agreement, and the EZKL/Groth16 ratios."""
    agreement: dict[str, Any] = {}
    ratios: dict[str, Any] = {}
    for n in SIZES:
        key = str(n)
        g16 = doc.get("groth16", {}).get(key, {}).get("prove", {})
        proofs = _ezkl_proofs(doc, n)
        needed = -(-n // EZKL_CHUNK) if n > EZKL_CHUNK else 1
        ezkl_done = len(proofs) == needed and not any("error" in p for p in proofs)
        if ezkl_done:
            total = {
                "proofs": len(proofs),
                "prove_s_total": round(sum(p["prove_s"] for p in proofs), 2),
                "peak_rss_mb": max(p["peak_rss_mb"] for p in proofs),
                "circuit_correct": sum(p["circuit_correct"] for p in proofs),
                "quantized_correct": sum(p["quantized_correct"] for p in proofs),
                "verified_locally": all(p["verified_locally"] for p in proofs),
                "calldata_bytes_total": sum(p["calldata_bytes"] for p in proofs),
                "loadavg_max": max(max(p["loadavg_before"], p["loadavg_after"])
                                   for p in proofs),
            }
            doc.setdefault("ezkl_totals", {})[key] = total
        else:
            doc.setdefault("ezkl_totals", {})[key] = {"not_measured": True,
                                                      "proofs_done": len(proofs)}
        g16_ok = bool(g16) and "error" not in g16
        counts = {
            "groth16": g16.get("circuit_correct") if g16_ok else None,
            "ezkl": doc["ezkl_totals"][key].get("circuit_correct"),
            "quantized": g16.get("quantized_correct") if g16_ok else
            doc["ezkl_totals"][key].get("quantized_correct"),
        }
        known = {v for v in counts.values() if v is not None}
        counts["agree"] = len(known) <= 1
        agreement[key] = counts
        if g16_ok and ezkl_done:
            t = doc["ezkl_totals"][key]
            ratios[key] = {
                "prove_time": round(t["prove_s_total"] / g16["prove_s"], 1),
                "peak_memory": round(t["peak_rss_mb"] / g16["peak_rss_mb"], 2),
            }
    doc["agreement"] = agreement
    doc["ratios"] = ratios


# -- on chain ----------------------------------------------------------------------------


def measure_gas(doc: dict[str, Any], samples: int) -> None:
    """Start anvil on ANVIL_PORT, run the gas child against it, stop it by PID."""
    from zkpot import services

    os.environ["ZKPOT_ANVIL_PORT"] = str(ANVIL_PORT)
    os.environ["ZKPOT_ANVIL_URL"] = f"http://127.0.0.1:{ANVIL_PORT}"
    anvil = services.Anvil(services.ServicesConfig(anvil_port=ANVIL_PORT,
                                                   run_dir=SCRATCH / "run"))
    already = anvil.answers()
    status = anvil.start()
    print(f"anvil on {anvil.url}: pid {status.pid} ({'reused' if already else 'started'})",
          flush=True)
    try:
        doc["onchain"] = _child("gas", samples)
    finally:
        if not already:
            anvil.stop()
    save_results(doc)


# -- run ---------------------------------------------------------------------------------


def run(steps: list[str], sizes: list[int]) -> None:
    doc = load_results()
    if "groth16" in doc and "groth16_before_issue18" not in doc:
        # Issue 18's baseline (groth16py's own single-party key, one child per proof).
        doc["groth16_before_issue18"] = json.loads(json.dumps(doc["groth16"]))
    if "g16" in steps and "256" in doc.get("groth16", {}) \
            and "groth16_before_smaller_circuit" not in doc:
        # Issue 18 item 4's baseline: the N = 256 row before the smaller circuit.
        doc["groth16_before_smaller_circuit"] = {
            "256": json.loads(json.dumps(doc["groth16"]["256"]))}
    if "count" in steps:
        doc["constraint_count"] = _child("g16-count", 0)
        save_results(doc)
    if "g16" in steps:
        for n in sizes:
            row: dict[str, Any] = {"setup": _child("g16-setup", n)}
            doc.setdefault("groth16", {})[str(n)] = row
            save_results(doc)
            if "error" not in row["setup"]:
                row["prove"] = _child("g16-prove", n)
                save_results(doc)
    if "gas" in steps:
        measured = [n for n in sorted(sizes, reverse=True)
                    if "proof_path" in doc.get("groth16", {}).get(str(n), {}).get("prove", {})]
        if measured:
            measure_gas(doc, measured[0])
    if "ezkl" in steps:
        for n in [s for s in sizes if s <= EZKL_CHUNK]:
            row = {"setup": _child("ezkl-setup", n)}
            doc.setdefault("ezkl", {})[str(n)] = row
            save_results(doc)
            if "error" not in row["setup"]:
                row["proofs"] = [_child("ezkl-prove", n, 0)]
                save_results(doc)
    if "ezkl256" in steps:
        for n in [s for s in sizes if s > EZKL_CHUNK]:
            row = {"chunk_circuit": EZKL_CHUNK, "proofs": []}
            doc.setdefault("ezkl", {})[str(n)] = row
            for index in range(1, n // EZKL_CHUNK):
                row["proofs"].append(_child("ezkl-prove", EZKL_CHUNK, index))
                save_results(doc)
    if "probe" in steps:
        for n in sizes:
            doc.setdefault("groth16", {}).setdefault(str(n), {})["probe"] = _child(
                "g16-probe", n)
            save_results(doc)
    if "keyload" in steps:
        for n in sizes:
            doc.setdefault("groth16", {}).setdefault(str(n), {})["keyload"] = _child(
                "g16-keyload", n)
            save_results(doc)
            # Repeated, with glibc's malloc on 4 KiB pages (its default) and on
            # transparent huge pages: most of the import is the kernel faulting in
            # fresh pages.
            runs: dict[str, list[dict[str, Any]]] = {"default": [], "hugetlb": []}
            for _ in range(KEYLOAD_REPEATS):
                runs["default"].append(_child("g16-keyload", n))
                runs["hugetlb"].append(_child("g16-keyload", n, env=HUGETLB))
            doc["groth16"][str(n)]["keyload_runs"] = runs
            save_results(doc)
    save_results(doc)
    for n, counts in doc["agreement"].items():
        if not counts["agree"]:
            print(f"!!!!!!!! COUNT MISMATCH at N={n}: {counts} !!!!!!!!", file=sys.stderr,
                  flush=True)


# -- markdown ----------------------------------------------------------------------------


def _size(n: float) -> str:
    if n >= 1e9:
        return f"{n / 1e9:.2f} GB"
    return f"{n / 1e6:,.1f} MB" if n >= 1e6 else f"{n / 1e3:,.1f} KB"


def _load(*rows: dict[str, Any]) -> str:
    values = [r[k] for r in rows for k in ("loadavg_before", "loadavg_after") if k in r]
    return f"{min(values):.1f}–{max(values):.1f}" if values else "—"


def _issue18_lines(doc: dict[str, Any]) -> list[str]:
    """Before/after of issue 18 at each N measured since, and the prover/witness probe."""
    lines: list[str] = []
    before = doc.get("groth16_before_issue18", {})
    rows = []
    for n in SIZES:
        now = doc.get("groth16", {}).get(str(n), {})
        p, s = now.get("prove", {}), now.get("setup", {})
        if "pk_file" not in p or "error" in p:
            continue
        was = before.get(str(n), {})
        wp, ws, wk = was.get("prove", {}), was.get("setup", {}), was.get("keyload", {})
        old_load = wk.get("load_s", "–")
        old_prove = wp.get("prove_s", "–")
        old_rss = f"{wp['peak_rss_mb'] / 1024:.2f} GB" if "peak_rss_mb" in wp else "–"
        rows.append(
            f"| {n} | {ws.get('setup_s', '–')} → {s.get('setup_s', '–')} | "
            f"{_size(ws['pk_bytes']) if 'pk_bytes' in ws else '–'} → {_size(s['pk_bytes'])} | "
            f"{old_load} → {p['key_load_s']} | {wp.get('witness_s', '–')} → {p['witness_s']} | "
            f"{p['prove_only_s']} | {old_prove} → **{p['prove_s']}** | {old_rss} → "
            f"{p['peak_rss_mb'] / 1024:.2f} GB | {_load(p)} |")
    if rows:
        lines += [
            "",
            "## Issue 18: before → after (one proof of N samples, first proof of a process)",
            "",
            "Before: groth16py's own single-party key format, loaded in a fresh child for "
            "every proof. After: the single-party key is a snarkjs `.zkey` "
            "(`native/g16setup.c`), imported once by the long-lived groth16py child; only the "
            "public signals are read from the witness. Targets: ≤ 30 s per 256-sample proof "
            "including witness and key load, peak ≤ 1.5 GB, key load ≤ 2 s.",
            "",
            "| N | setup s | pk | key load s | witness s | prove s (key in memory) | "
            "witness + key load + prove s | peak RSS | load (prove) |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
        ]
        alone = {n: doc["groth16"][str(n)]["keyload"] for n in SIZES
                 if "load_s" in doc.get("groth16", {}).get(str(n), {}).get("keyload", {})
                 and "pk_file" in doc["groth16"][str(n)].get("prove", {})}
        lines += ["", "The key load column is the import inside the proof, which overlaps the "
                  "witness computation (both cores busy). "] if alone or rows else []
        if alone:
            lines[-1] += "Importing the key alone in a separate child: " + ", ".join(
                f"N={n} {k['load_s']} s ({k['key']}, load {_load(k)})"
                for n, k in alone.items()) + "."
    probes = {n: doc["groth16"][str(n)]["probe"] for n in SIZES
              if "probe" in doc.get("groth16", {}).get(str(n), {})}
    for n, pr in probes.items():
        if "error" in pr:
            lines += ["", f"Probe N={n}: {pr['error']}"]
            continue
        lines += [
            "",
            f"### Witness generators and provers side by side (N = {n}, "
            f"{pr['constraints']:,} constraints, one witness, load {_load(pr)})",
            "",
            "| step | tool | s | peak RSS | checked |",
            "|---|---|---|---|---|",
            f"| witness | `snarkjs wtns calculate` (wasm under node; what zkpot runs) | "
            f"{pr['witness_snarkjs_s']} | {pr['witness_snarkjs_rss_mb']:.0f} MB | |",
        ]
        if "witness_circom_js_s" in pr:
            lines.append(
                f"| witness | circom's `generate_witness.js` (same wasm under node) | "
                f"{pr['witness_circom_js_s']} | {pr['witness_circom_js_rss_mb']:.0f} MB | "
                f"identical file: {pr['witnesses_identical']} |")
        lines += [
            f"| public signals | read 4 wires from the `.wtns` | {pr['public_signals_read_s']} |"
            " | |",
            f"| prove | groth16py, first proof (imports the key: "
            f"{pr['groth16py_cold_key_load_s']} s), 1 core | {pr['groth16py_cold_s']} | "
            f"{pr['groth16py_peak_rss_mb']:.0f} MB (both proofs) | snarkjs verify: "
            f"{pr['groth16py_cold_verified_snarkjs']} |",
            f"| prove | groth16py, key in memory, 1 core | {pr['groth16py_warm_s']} | | "
            f"snarkjs verify: {pr['groth16py_warm_verified_snarkjs']} |",
            f"| prove | `snarkjs groth16 prove` (wasm, worker threads on {pr['cores']} cores, "
            f"reads the key each time) | {pr['snarkjs_prove_s']} | "
            f"{pr['snarkjs_prove_rss_mb']:.0f} MB | snarkjs verify: "
            f"{pr['snarkjs_verified_snarkjs']} |",
        ]
    return lines


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def _item4_lines(doc: dict[str, Any]) -> list[str]:
    """Issue 18 item 4: the circuit before and after the packed output-layer comparisons."""
    was = doc.get("groth16_before_smaller_circuit", {}).get("256", {})
    now = doc.get("groth16", {}).get("256", {})
    counts_was = doc.get("constraint_count_before_smaller_circuit", {})
    counts_now = doc.get("constraint_count", {})
    if not was or "prove" not in now or "per_sample" not in counts_now:
        return []

    def row(what: str, before: Any, after: Any) -> str:
        return f"| {what} | {before} | {after} |"

    ws, wp, wr, wk = (was.get(k, {}) for k in ("setup", "prove", "probe", "keyload"))
    ns, np_, nr, nk = (now.get(k, {}) for k in ("setup", "prove", "probe", "keyload"))
    lines = [
        "",
        "## Issue 18 item 4: a smaller circuit (N = 256, first proof of a process)",
        "",
        "Before: the output layer's logits as signals (one product per weight), then one "
        "comparison of K + 1 bits per class. After: `OutputWins` packs G = 253 // (K + 1) "
        "classes into one product per input and decomposes the packed comparison digits "
        "directly; the prover names the label's logit, range-checked to K bits, and the "
        "label's digit must equal 2^K - 1 (soundness argument in "
        "`proving/groth16/circom.py`). Same bounds, same statement, same public signals. "
        f"{doc.get('before_smaller_circuit_note', '')}",
        "",
        "| | before | after |",
        "|---|---|---|",
        row("constraints per sample (N = 1 → 3)", f"{counts_was.get('per_sample', '–'):,}",
            f"{counts_now['per_sample']:,}"),
        row("fixed constraints", f"{counts_was.get('fixed', '–'):,}",
            f"{counts_now['fixed']:,}"),
        row("constraints at N = 256", f"{ws.get('constraints', 0):,}",
            f"{ns.get('constraints', 0):,}"),
        row("proving key", _size(ws["pk_bytes"]) if "pk_bytes" in ws else "–",
            _size(ns["pk_bytes"]) if "pk_bytes" in ns else "–"),
        row("witness + key import + prove s (first proof)", wp.get("prove_s", "–"),
            f"**{np_.get('prove_s', '–')}**"),
        row("of which witness s", wp.get("witness_s", "–"), np_.get("witness_s", "–")),
        row("prove s, key in memory (second proof)", wr.get("groth16py_warm_s", "–"),
            nr.get("groth16py_warm_s", "–")),
        row("key import alone s", wk.get("load_s", "–"), f"**{nk.get('load_s', '–')}**"),
        row("peak RSS (prove)", f"{wp['peak_rss_mb'] / 1024:.2f} GB" if "peak_rss_mb" in wp
            else "–", f"{np_['peak_rss_mb'] / 1024:.2f} GB" if "peak_rss_mb" in np_ else "–"),
        row("count (Groth16 / fixed-point reference)",
            f"{wp.get('circuit_correct', '–')} / {wp.get('quantized_correct', '–')}",
            f"{np_.get('circuit_correct', '–')} / {np_.get('quantized_correct', '–')}"),
        row("load (prove)", _load(wp), _load(np_)),
        "",
        "Both circuits need the same 2^20-point evaluation domain (the H query and the "
        "FFTs, a fixed part of every proof), so the proof time follows the constraint "
        "count only weakly; the domain halves below 2^19 = 524,288 constraints, "
        f"{(524288 - counts_now['fixed']) / 256:,.0f} per sample at N = 256.",
    ]
    runs = now.get("keyload_runs", {})
    if runs:
        lines += ["", "Where the key import goes (N = 256, each run its own child, the file in "
                  "the page cache; median of the runs):", "",
                  "| malloc | runs | import s | of it: user s | kernel s | page faults | "
                  "read the file alone s |", "|---|---|---|---|---|---|---|"]
        for name, label in (("default", "glibc default (4 KiB pages)"),
                            ("hugetlb", "`GLIBC_TUNABLES=glibc.malloc.hugetlb=1`")):
            done = [r for r in runs.get(name, []) if "load_s" in r]
            if not done:
                continue
            lines.append(
                f"| {label} | {', '.join(str(r['load_s']) for r in done)} | "
                f"{_median([r['load_s'] for r in done])} | "
                f"{_median([r['user_s'] for r in done])} | "
                f"{_median([r['sys_s'] for r in done])} | "
                f"{int(_median([r['minor_faults'] for r in done])):,} | "
                f"{_median([r['read_s'] for r in done])} |")
        lines += ["", "Half the import is groth16py parsing the key, half the kernel faulting in "
                  "the fresh pages it fills. Transparent huge pages cut the faults twentyfold "
                  "but the kernel's time grows (it clears 2 MiB pages, compacting memory to "
                  "find them), so the prover child keeps glibc's default."]
    return lines


def write_markdown() -> None:
    doc = load_results()
    gas_file = json.loads(GROTH16_GAS.read_text()) if GROTH16_GAS.is_file() else {}
    ezkl_chain = (json.loads(EZKL_RESULTS.read_text()).get("onchain", {})
                  if EZKL_RESULTS.is_file() else {})
    lines = [
        "# Groth16 vs EZKL: the default MLP (mlp-64-32-10), one run",
        "",
        f"Machine: {doc['meta']['machine']}. Times are wall seconds and upper bounds; the "
        "load column is the 1-minute load average before–after each step (2 cores: a load "
        "above 2 means the step shared them). Peak RSS is the step's child process and the "
        "processes it waited for.",
        "",
        "## Groth16 (circom + groth16py), one proof of N samples",
        "",
        "| N | constraints | compile s | setup s | setup | pk | vk | witness s | "
        "witness + prove s | prove peak RSS | proof | calldata | load (setup; prove) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in SIZES:
        row = doc.get("groth16", {}).get(str(n), {})
        s, p = row.get("setup", {}), row.get("prove", {})
        if not s or "error" in s or not p or "error" in p:
            error = s.get("error") or p.get("error") or "not measured"
            lines.append(f"| {n} | {error} |" + " |" * 11)
            continue
        kind = "INSECURE single-party" if s["single_party_insecure"] else (
            "dev ptau + phase 2" if s["insecure"] else "public ptau + phase 2")
        reused = " (reused)" if s["reused"] else ""
        lines.append(
            f"| {n} | {s['constraints']:,} | {s['compile_s']}{reused} | {s['setup_s']}{reused} | "
            f"{kind} | {_size(s['pk_bytes'])} | {_size(s['vk_bytes'])} | {p['witness_s']} | "
            f"{p['prove_s']} | {p['peak_rss_mb'] / 1024:.2f} GB | {p['proof_bytes']} B | "
            f"{p['calldata_bytes']} B | {_load(s)}; {_load(p)} |")
    old_rows = [str(n) for n in SIZES
                if "pk_file" not in doc.get("groth16", {}).get(str(n), {}).get("prove", {})]
    if old_rows:
        lines += ["", f"Rows N = {', '.join(old_rows)}: measured before issue 18 (groth16py's own "
                  "single-party key format, loaded in a fresh child for every proof)."]
    lines += _issue18_lines(doc)
    lines += _item4_lines(doc)
    keyloads = {n: doc["groth16"][str(n)]["keyload"] for n in SIZES
                if "keyload" in doc.get("groth16", {}).get(str(n), {})
                and "pk_file" not in doc["groth16"][str(n)].get("prove", {})}
    if keyloads:
        lines += ["", "Of the prove time, loading the proving key alone: " + ", ".join(
            f"N={n} {k['load_s']} s ({k['key']}, groth16py's own key format of the INSECURE "
            f"setup; load {_load(k)})" for n, k in keyloads.items() if "load_s" in k)
            + ". A ceremony `.zkey` is imported instead (under a second, per issue 9)."]
    onchain = doc.get("onchain", {})
    if onchain and "error" not in onchain:
        lines += [
            "",
            f"On chain (anvil, the N={onchain['samples']} circuit's generated verifier + "
            f"`Groth16AccuracyVerifier`): verifying one valid proof through "
            f"`VerifyGasProbe` cost **{onchain['verify_tx_gas']:,} gas** (transaction "
            f"receipt; eth_estimateGas {onchain['verify_estimate_gas']:,}); verifier "
            f"{onchain['verifier_runtime_bytes']:,} bytes, adapter "
            f"{onchain['adapter_runtime_bytes']:,} bytes of runtime code; valid on chain: "
            f"{onchain['valid_on_chain']}.",
        ]
    if gas_file:
        lines += [
            "",
            "ZKPoT `submit` with one Groth16 proof (from `results/groth16-gas.json`, the "
            f"contract tests): {gas_file.get('submit (1 proof, receipt)', 0):,} gas for the "
            "round's first submitter, "
            f"{gas_file.get('submit (1 proof, second submitter of the round, receipt)', 0):,}"
            f" for a later one; {gas_file.get('submit calldata bytes', 0):,} bytes of "
            "calldata.",
        ]
    lines += [
        "",
        "## EZKL (Halo2/KZG), at most 64 samples per proof",
        "",
        "| N | proofs | rows → 2^k | keygen s | pk | vk | prove s (total) | "
        "prove peak RSS | calldata (total) | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in SIZES:
        total = doc.get("ezkl_totals", {}).get(str(n), {})
        setup = doc.get("ezkl", {}).get(str(min(n, EZKL_CHUNK)), {}).get("setup", {})
        if total.get("not_measured") or not setup or "error" in setup:
            lines.append(f"| {n} | not measured ({total.get('proofs_done', 0)} proofs done) |"
                         + " |" * 8)
            continue
        reused = " (reused)" if setup["reused"] else ""
        lines.append(
            f"| {n} | {total['proofs']} × {min(n, EZKL_CHUNK)} | {setup['num_rows']:,} → "
            f"2^{setup['logrows']} | {setup['keygen_s']}{reused} | {_size(setup['pk_bytes'])} | "
            f"{_size(setup['vk_bytes'])} | {total['prove_s_total']} | "
            f"{total['peak_rss_mb'] / 1024:.2f} GB | {total['calldata_bytes_total']:,} B | "
            f"{_load(*_ezkl_proofs(doc, n))} |")
    ezkl_gas = [a["verify_accuracy_gas"] for a in ezkl_chain.get("adapters", {}).values()
                if a.get("verify_accuracy_gas")]
    if ezkl_gas:
        lines += ["", f"EZKL verify gas per proof (from `results/proving.json`, "
                      f"`bench/prove_bench.py --gas`): {min(ezkl_gas):,}–{max(ezkl_gas):,}."]
    lines += [
        "",
        "## Counts and ratios (EZKL / Groth16)",
        "",
        "| N | correct: Groth16 / EZKL / quantized torch | agree | prove time | peak memory "
        "| verify gas (all proofs of N) |",
        "|---|---|---|---|---|---|",
    ]
    for n in SIZES:
        counts = doc.get("agreement", {}).get(str(n), {})
        ratio = doc.get("ratios", {}).get(str(n), {})
        total = doc.get("ezkl_totals", {}).get(str(n), {})
        gas = "—"
        if ezkl_gas and onchain.get("verify_tx_gas") and "proofs" in total:
            gas = f"{total['proofs'] * max(ezkl_gas) / onchain['verify_tx_gas']:.1f}×"
        shown = " / ".join("—" if counts.get(k) is None else str(counts[k])
                           for k in ("groth16", "ezkl", "quantized"))
        agree = "yes" if counts.get("agree") else "**NO: MISMATCH**"
        time_ratio = f"{ratio['prove_time']}×" if ratio else "—"
        memory_ratio = f"{ratio['peak_memory']}×" if ratio else "—"
        lines.append(f"| {n} | {shown} | {agree} | {time_ratio} | {memory_ratio} | {gas} |")
    MARKDOWN.write_text("\n".join(lines) + "\n")
    print(MARKDOWN.read_text())


CHILDREN: dict[str, Callable[[int, int], dict[str, Any]]] = {
    "g16-setup": lambda n, i: child_g16_setup(n),
    "g16-prove": lambda n, i: child_g16_prove(n),
    "g16-keyload": lambda n, i: child_g16_keyload(n),
    "g16-count": lambda n, i: child_g16_count(n),
    "g16-probe": lambda n, i: child_g16_probe(n),
    "ezkl-setup": lambda n, i: child_ezkl_setup(n),
    "ezkl-prove": child_ezkl_prove,
    "gas": lambda n, i: child_gas(n),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", nargs=3, metavar=("STEP", "SAMPLES", "INDEX"))
    parser.add_argument("--steps", nargs="+", default=["g16", "gas", "ezkl", "ezkl256"],
                        choices=["g16", "gas", "ezkl", "ezkl256", "keyload", "probe", "count"])
    parser.add_argument("--sizes", nargs="+", type=int, default=list(SIZES))
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    if args.child:
        step, samples, index = args.child
        print(json.dumps(CHILDREN[step](int(samples), int(index))), flush=True)
        return
    if args.markdown:
        write_markdown()
        return
    run(args.steps, args.sizes)


if __name__ == "__main__":
    main()
