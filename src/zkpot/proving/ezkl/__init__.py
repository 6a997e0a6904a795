"""The EZKL (Halo2/KZG) proving backend: :class:`EzklCircuit`."""

from zkpot.proving.ezkl.backend import EzklCircuit

__all__ = ["EzklCircuit"]
