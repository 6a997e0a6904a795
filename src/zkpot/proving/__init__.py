"""Proofs of accuracy and of aggregation: the interfaces and the backend registry.

:mod:`.backend` (the accuracy :class:`~.backend.Circuit` and the registry),
:mod:`.aggregation` (the aggregation circuit), :mod:`.verifier` (on-chain verifiers as
values) and :mod:`.circuit` (the statement's spec) name no backend; each backend is
complete in its own package (:mod:`.ezkl`, :mod:`.groth16`).
"""
