"""Privacy measured: membership inference against what each system lets an attacker see.

Three systems train the same participants on the same data: plain FedAvg (an
aggregator sees every local model), DP-SGD FedAvg (the same, trained with opacus at a
few noise levels) and ZKPoT (the round's leader sees the K − 1 local models sealed to
it; everyone else sees only the global models, the verified counts and the
commitments). Two attacks score each participant's training samples against
held-out samples of the same distribution: a loss threshold and an offline
likelihood-ratio attack (LiRA) over shadow models. :mod:`.metrics` turns the scores
into ROC AUC and advantage, :mod:`.simulate` runs the systems, :mod:`.report` writes
``privacy.json``/``.md``/``.png`` and :mod:`.command` is ``zkpot privacy``.
"""
