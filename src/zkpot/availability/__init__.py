"""The global model's availability on chain (issue 17, item 3).

A Groth16 model commitment is the Poseidon chain of the model's packed field elements
(weights, biases, blinding). The leader posts those elements in calldata to
``ZKPoTAvailability``, which recomputes the chain on chain and records the commitment;
the consensus contract refuses to publish a global model whose commitment was never
posted. Readers get the elements back from the posting's event (one block, named by
``postedBlock``) and unpack them into the model: IPFS stays the fast path, the chain is
the guaranteed one.

- :mod:`zkpot.availability.poseidon_gen`: generates ``contracts/generated/poseidon/``.
- :mod:`zkpot.availability.elements`: model <-> posted elements (no chain access).
- :mod:`zkpot.availability.client`: deploy, post, read back (through ape).
"""
