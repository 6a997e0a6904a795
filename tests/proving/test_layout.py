"""The proving package's layout rules, read from the source: no chain code, no cycle.

Every import statement counts, at module level or inside a function (a lazy import
is still a dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import zkpot.proving
from zkpot.errors import ProvingError
from zkpot.proving.backend import Circuit, backend_class

PROVING = Path(zkpot.proving.__file__).parent
INTERFACE = ("backend.py", "aggregation.py", "verifier.py", "circuit.py")
"""The modules every backend and role builds on, which name no backend."""


def imported_modules(path: Path, package: str | None = None) -> set[str]:
    """Every module ``path`` imports, absolute names (relative imports resolved)."""
    if package is None:
        package = ".".join(("zkpot", *path.relative_to(PROVING.parent).parent.parts))
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def test_the_scan_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def deploy():\n    from ape import project\n    from ..groth16 import x\n")
    assert {"ape", "zkpot.proving.groth16.x"} <= imported_modules(probe, "zkpot.proving.ezkl")


def test_no_module_under_proving_imports_ape() -> None:
    files = sorted(PROVING.rglob("*.py"))
    assert len(files) > 10
    offenders = [
        str(path.relative_to(PROVING))
        for path in files
        if any(name == "ape" or name.startswith("ape.") for name in imported_modules(path))
    ]
    assert offenders == [], f"deploying and reading contracts belongs in zkpot.chain: {offenders}"


def test_interface_modules_import_no_backend() -> None:
    backends = ("zkpot.proving.ezkl", "zkpot.proving.groth16")
    offenders = {
        name: sorted(m for m in imported_modules(PROVING / name) if m.startswith(backends))
        for name in INTERFACE
    }
    assert offenders == {name: [] for name in INTERFACE}


def test_the_registry_finds_each_backend_by_name_and_refuses_others() -> None:
    found = {name: backend_class(name) for name in ("ezkl", "groth16")}
    assert [cls.__module__ for cls in found.values()] == [
        "zkpot.proving.ezkl.backend", "zkpot.proving.groth16.backend"]
    assert all(issubclass(cls, Circuit) for cls in found.values())
    assert found["groth16"].proves_aggregation and not found["ezkl"].proves_aggregation
    with pytest.raises(ProvingError, match="Unknown proving backend 'plonk'"):
        backend_class("plonk")
