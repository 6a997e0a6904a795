"""The proof of accuracy: the accuracy circuit, the EZKL pipeline, and its on-chain verifier."""
