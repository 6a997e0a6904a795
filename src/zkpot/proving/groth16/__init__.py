"""The Groth16 backend.

A circom circuit emitted from the architecture (:mod:`.circom`), Poseidon commitments
over packed values (:mod:`.packing`), keys (:mod:`.ceremony`) and proofs (:mod:`.prover`).
"""
