"""Circuits built once per test run and shared by every module that needs the same one.

A circuit lives in ``<the run's shared zk folder>/<short id>/``, keyed by the project's
own circuit id: the layout the publisher's ``build_circuit`` reuses, so a module that
creates a task of the same circuit (the flow and adversarial ``world`` tests) finds it
there too, and the reverse. Groth16 keys do not depend on the model (its weights are
private inputs): one build serves every model and test set. Keys are the development
ones a task gets without ``--srs`` (a ceremony on the development phase-1 file where the
circuit fits it, else the INSECURE single-party setup); aggregation circuits are set up
inside their accuracy circuit's folder, once per number of slots.

A test that changes, publishes or re-keys circuit files works on a copy
(:meth:`CircuitCache.copy`), never on the cached folder.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from zkpot.data import load_digits
from zkpot.errors import ZkpotError
from zkpot.models import build_model
from zkpot.proving import backend
from zkpot.proving.circuit import CircuitSpec, TestBatch
from zkpot.proving.folder_lock import circuit_lock
from zkpot.proving.groth16.backend import Groth16Circuit

AGGREGATION_PREFIX = "aggregate-k"
"""The folder of a K-slot aggregation circuit inside its accuracy circuit's folder."""


class CircuitCache:
    """Groth16 circuits of one test run, each built the first time a test asks for it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.built: list[str] = []
        """What this run built here (``<short id>`` or ``<short id>/aggregate-kK``)."""

    def groth16(self, spec: CircuitSpec, *, slots: Sequence[int] = ()) -> Groth16Circuit:
        """``spec``'s circuit with development keys, and its ``slots``-slot aggregation
        circuits: built here unless this run already has them."""
        if spec.backend != "groth16":
            raise ValueError(f"not a Groth16 spec: {spec.backend}")
        directory = self.root / spec.short_id
        with circuit_lock(directory):  # another xdist worker may be building it
            return self._groth16(spec, directory, slots)

    def _groth16(self, spec: CircuitSpec, directory: Path, slots: Sequence[int]
                 ) -> Groth16Circuit:
        try:
            found = backend.load_circuit(directory)
            found.require_keys()
            if found.circuit_id != spec.circuit_id or not backend.keys_from(found, None):
                raise ZkpotError("keys of another circuit or phase-1 file", "rebuild")
        except ZkpotError:
            digits = load_digits()
            batch = TestBatch(digits.X[: spec.samples], digits.y[: spec.samples])
            # The model is ignored: Groth16 keys depend on the circuit alone.
            found = backend.setup_circuit(spec, build_model(spec.architecture, seed=0), batch,
                                          zk_dir=self.root)
            self.built.append(spec.short_id)
        assert isinstance(found, Groth16Circuit)
        for k in slots:
            if not (directory / f"{AGGREGATION_PREFIX}{k}").is_dir():
                self.built.append(f"{spec.short_id}/{AGGREGATION_PREFIX}{k}")
            found.setup_aggregation(k)  # kept when already set up with development keys
        return found

    def copy(self, spec: CircuitSpec, zk_dir: Path, *, slots: Sequence[int] = ()
             ) -> Groth16Circuit:
        """A copy of the cached circuit (with only the ``slots`` aggregation circuits) in
        ``zk_dir/<short id>/``, for a test that publishes, changes or re-keys it."""
        source = self.groth16(spec, slots=slots).directory
        wanted = {f"{AGGREGATION_PREFIX}{k}" for k in slots}

        def skip(folder: str, names: list[str]) -> list[str]:
            if Path(folder) != source:
                return []
            return [n for n in names if n.startswith(AGGREGATION_PREFIX) and n not in wanted]

        target = zk_dir / spec.short_id
        shutil.copytree(source, target, ignore=skip)
        copied = backend.load_circuit(target)
        assert isinstance(copied, Groth16Circuit)
        return copied
