"""Moved to :mod:`zkpot.proving.ezkl.pipeline`; kept only for the CLI until its split lands."""

from zkpot.proving.backend import default_zk_dir
from zkpot.proving.ezkl.pipeline import INSECURE_SRS_WARNING, CircuitArtifacts

__all__ = ["INSECURE_SRS_WARNING", "CircuitArtifacts", "default_zk_dir"]
