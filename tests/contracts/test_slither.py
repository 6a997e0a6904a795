"""Slither over the project's own contracts: no unexplained High/Medium finding.

``bin/slither`` compiles every own contract (``contracts/**.sol`` less ``contracts/test/``
and ``contracts/verifiers/``) with the project's solc-js and runs every detector; an
accepted finding carries a ``// slither-disable-next-line <detector>`` and a reason in
the Solidity source. See ``bin/slither_check.py`` and ``results/slither.md``.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "bin" / "slither"
_DECLARATION = re.compile(
    r"^\s*(?:abstract\s+)?(?:contract|interface|library)\s+([A-Za-z_]\w*)", re.MULTILINE
)


def run_slither(out: Path, contracts: Path | None = None) -> tuple[int, dict[str, Any], str]:
    cmd = [str(RUNNER), "--out", str(out), "--quiet"]
    if contracts is not None:
        cmd += ["--contracts", str(contracts)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode in (0, 1), f"bin/slither could not run:\n{done.stderr[-4000:]}"
    report = json.loads((out / "slither.json").read_text())
    return done.returncode, report, (out / "slither.md").read_text()


def own_contract_files() -> list[Path]:
    contracts = ROOT / "contracts"
    return [
        p
        for p in sorted(contracts.rglob("*.sol"))
        if p.relative_to(contracts).parts[0] not in ("test", "verifiers")
    ]


@pytest.fixture(scope="module")
def project_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any], str]:
    return run_slither(tmp_path_factory.mktemp("slither"))


@pytest.mark.slow
def test_no_unexplained_high_or_medium_finding(
    project_report: tuple[int, dict[str, Any], str],
) -> None:
    rc, report, summary = project_report
    failing = [
        f
        for f in report["findings"]
        if f["status"] == "unexplained" and f["impact"] in ("High", "Medium")
    ]
    assert rc == 0 and not failing and report["unexplained_high_medium"] == 0, summary
    for f in report["findings"]:
        if f["status"] == "accepted":
            assert f["annotation"] and len(f["reason"]) >= 8, f


@pytest.mark.slow
def test_report_covers_every_own_contract_file(
    project_report: tuple[int, dict[str, Any], str],
) -> None:
    _, report, _ = project_report
    files = own_contract_files()
    assert files, "no contracts found"
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        assert rel in report["scope"]["own_files"], f"{rel} was not given to slither"
        assert rel in report["analysed_files"], f"slither did not parse {rel}"
        declared = set(_DECLARATION.findall(path.read_text()))
        analysed = set(report["contracts_by_file"].get(rel, []))
        assert declared <= analysed, f"{rel}: slither missed {sorted(declared - analysed)}"


FIXTURE = {
    # Reason on the annotation's own line: accepted.
    "SameLine.sol": """
contract SameLine {
    function f(uint256[] calldata xs) external pure returns (uint256) {
        // slither-disable-next-line uninitialized-local -- locals start at zero by design
        uint256 s;
        for (uint256 i = 0; i < xs.length; ++i) s += xs[i];
        return s;
    }
}
""",
    # Reason in the plain comment lines directly above: accepted.
    "Above.sol": """
contract Above {
    function f(uint256[] calldata xs) external pure returns (uint256) {
        // The sum starts at zero: Solidity zero-initialises locals.
        // slither-disable-next-line uninitialized-local
        uint256 s;
        for (uint256 i = 0; i < xs.length; ++i) s += xs[i];
        return s;
    }
}
""",
    # Annotation without any reason: still unexplained.
    "NoReason.sol": """
contract NoReason {
    function f(uint256[] calldata xs) external pure returns (uint256) {
        // slither-disable-next-line uninitialized-local
        uint256 s;
        for (uint256 i = 0; i < xs.length; ++i) s += xs[i];
        return s;
    }
}
""",
    # No annotation: unexplained. Imports a test-only contract, whose finding is out of scope.
    "Bare.sol": """
import {Helper} from "./test/Helper.sol";
contract Bare {
    function f(uint256[] calldata xs) external pure returns (uint256) {
        uint256 s;
        for (uint256 i = 0; i < xs.length; ++i) s += xs[i];
        return s;
    }
}
""",
    "test/Helper.sol": """
contract Helper {
    function g(uint256[] calldata xs) external pure returns (uint256) {
        uint256 t;
        for (uint256 i = 0; i < xs.length; ++i) t += xs[i];
        return t;
    }
}
""",
}


def test_runner_classifies_annotations(tmp_path: Path) -> None:
    contracts = tmp_path / "contracts"
    for name, body in FIXTURE.items():
        path = contracts / name
        path.parent.mkdir(parents=True, exist_ok=True)
        header = "// SPDX-License-Identifier: GPL-3.0-or-later\npragma solidity 0.8.20;\n"
        path.write_text(header + body)
    rc, report, summary = run_slither(tmp_path / "out", contracts)
    assert rc == 1, summary
    status = {
        Path(f["location"].split("#")[0]).stem: f
        for f in report["findings"]
        if f["check"] == "uninitialized-local"
    }
    assert status["SameLine"]["status"] == "accepted"
    assert status["SameLine"]["reason"] == "locals start at zero by design"
    assert status["Above"]["status"] == "accepted"
    assert "zero-initialises" in status["Above"]["reason"]
    assert status["NoReason"]["status"] == "unexplained"
    assert status["Bare"]["status"] == "unexplained"
    assert status["Helper"]["status"] == "out-of-scope"
    assert report["unexplained_high_medium"] == 2
    assert len(report["scope"]["own_files"]) == 4
    assert "locals start at zero by design" in summary
