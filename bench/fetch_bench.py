"""What a remote participant pays to get a task's circuit: sizes, fetch and derive times.

Two js-ipfs nodes on loopback, connected over the swarm (this script starts them on their
own ports and stops them by PID). The publisher's node adds a set-up circuit's published
files; a child process then runs :func:`zkpot.roles.artifacts.fetch_circuit` against the
other node into an empty cache, exactly as ``zkpot circuit fetch`` does: streamed,
CID-checked downloads, then the derivation (EZKL: the proving key from the compiled
circuit and the SRS, its VK compared; Groth16: the circuit compiled from the spec, the
key checked against the transcript). The child's peak RSS (``os.wait4``) is recorded, and
the 1-minute load average beside each timing (the machine is shared: upper bounds).

Circuits measured: the default EZKL circuit under ``zk/`` (mlp-64-32-10, 32 samples;
skipped with a note when it is not set up) and the Groth16 default MLP at 16 samples,
set up by this script under ``results/tmp/bench-fetch/zk`` when not there yet.

    .venv/bin/python bench/fetch_bench.py      # writes results/fetch.json and fetch.md
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results" / "fetch.json"
MARKDOWN = ROOT / "results" / "fetch.md"
SCRATCH = ROOT / "results" / "tmp" / "bench-fetch"
CIRCUITS = {
    "ezkl mlp-64-32-10 N=32": ROOT / "zk",
    "groth16 mlp-64-32-10 N=16": SCRATCH / "zk",
}
PORTS = {"publisher": (5501, 4501), "participant": (5511, 4511)}


def _node(name: str) -> Any:
    from zkpot import services

    api, swarm = PORTS[name]
    config = services.ServicesConfig(ipfs_api_port=api, ipfs_swarm_port=swarm,
                                     run_dir=SCRATCH / name, ipfs_swarm=True)
    (SCRATCH / name).mkdir(parents=True, exist_ok=True)
    return services.Ipfs(config)


def _find(zk: Path, label: str) -> Path | None:
    backend, arch, n = label.split()
    for descriptor in sorted(zk.glob("*/circuit.json")):
        spec = json.loads(descriptor.read_text())["spec"]
        if (spec.get("backend", "ezkl") == backend and spec["architecture"]["name"] == arch
                and f"N={spec['samples']}" == n):
            return descriptor.parent
    if backend == "groth16":  # set up here, with the emitter of this checkout
        from zkpot import data, models
        from zkpot.proving import circuit
        from zkpot.proving.backend import setup_circuit

        spec_ = circuit.CircuitSpec(models.architecture_by_name(arch),
                                    samples=int(n.removeprefix("N=")), backend="groth16")
        digits = data.load_digits()
        batch = circuit.TestBatch(digits.X[: spec_.samples], digits.y[: spec_.samples])
        return setup_circuit(spec_, models.build_model(spec_.architecture), batch,
                             zk_dir=zk).directory
    return None


def _child(ref_json: str, cache: str) -> None:
    from zkpot.roles.artifacts import fetch_circuit
    from zkpot.roles.common import CircuitRef
    from zkpot.storage import IpfsConfig, IpfsStorage

    ref = CircuitRef(**json.loads(ref_json))
    api = PORTS["participant"][0]
    with IpfsStorage(IpfsConfig(api_url=f"http://127.0.0.1:{api}", fetch_timeout=120)) as node:
        fetched = fetch_circuit(node, ref, cache=Path(cache))
    print(json.dumps({
        "fetched_bytes": fetched.fetched_bytes, "fetch_s": round(fetched.fetch_seconds, 1),
        "derive_s": round(fetched.derive_seconds, 1), "sizes": fetched.sizes,
    }))


def _measure(label: str, directory: Path) -> dict[str, Any]:
    from dataclasses import asdict

    from zkpot.proving.backend import load_circuit
    from zkpot.roles.artifacts import publish_circuit
    from zkpot.storage import IpfsConfig, IpfsStorage

    circuit = load_circuit(directory)
    api = PORTS["publisher"][0]
    started = time.perf_counter()
    with IpfsStorage(IpfsConfig(api_url=f"http://127.0.0.1:{api}")) as node:
        ref = publish_circuit(node, circuit)
    publish_s = time.perf_counter() - started
    published = {name: (directory / name).stat().st_size for name in circuit.published_files()}
    cache = SCRATCH / "cache" / label.replace(" ", "-")
    subprocess.run(["rm", "-rf", str(cache)], check=True)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--child", json.dumps(asdict(ref)),
                             str(cache)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return {"error": f"fetch child exited {status}"}
    result: dict[str, Any] = json.loads(out.splitlines()[-1])
    derived = sorted(set(result.pop("sizes")) - set(published) - {"circuit.json"})
    return {
        "published_bytes": sum(published.values()),
        "published_files": published,
        "largest_derived": max(((n, (cache / circuit.circuit_id / n).stat().st_size)
                                for n in derived), key=lambda x: x[1], default=None),
        "publish_s": round(publish_s, 1),
        **result,
        "total_s": round(time.perf_counter() - started, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "loadavg_before": round(load_before, 2),
        "loadavg_after": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], sys.argv[3])
        return
    from zkpot.storage import IpfsConfig, IpfsStorage

    # A fresh participant repository: it must hold none of the blocks before fetching.
    subprocess.run(["rm", "-rf", str(SCRATCH / "participant" / "ipfs-repo")], check=True)
    nodes = [_node("publisher"), _node("participant")]
    results: dict[str, Any] = {
        "note": "two js-ipfs nodes on loopback over the swarm; times are upper bounds "
                "(see the load averages); fetch includes re-hashing each file for its CID",
    }
    try:
        for node in nodes:
            node.start()
        with IpfsStorage(IpfsConfig(api_url=nodes[0].url)) as first, \
                IpfsStorage(IpfsConfig(api_url=nodes[1].url)) as second:
            second.connect(first.swarm_addresses()[0])
        for label, zk in CIRCUITS.items():
            directory = _find(zk, label)
            print(f"-- {label}: {directory}", flush=True)
            results[label] = ({"skipped": f"no such circuit under {zk}"} if directory is None
                              else _measure(label, directory))
            print(json.dumps(results[label]), flush=True)
    finally:
        for node in nodes:
            node.stop()
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    MARKDOWN.write_text(_markdown(results))


def _markdown(results: dict[str, Any]) -> str:
    lines = ["# Fetching a task's circuit by CID (bench/fetch_bench.py)", "",
             results["note"], "",
             "| circuit | published (MiB) | fetch (s) | derive (s) | derived key (MiB) | "
             "peak RSS (MiB) | load |", "|---|---|---|---|---|---|---|"]
    mib = 1024 * 1024
    for label, r in results.items():
        if not isinstance(r, dict) or "fetch_s" not in r:
            continue
        key = r["largest_derived"]
        lines.append(
            f"| {label} | {r['published_bytes'] / mib:.1f} | {r['fetch_s']} | {r['derive_s']} | "
            f"{'-' if not key else f'{key[0]} {key[1] / mib:.0f}'} | {r['peak_rss_mb']:.0f} | "
            f"{r['loadavg_before']}–{r['loadavg_after']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
