"""Moved to :mod:`zkpot.proving.ezkl.evm`; kept only for the CLI until its split lands."""

from zkpot.proving.ezkl.evm import generate_reusable_verifier, verifiers_dir

__all__ = ["generate_reusable_verifier", "verifiers_dir"]
