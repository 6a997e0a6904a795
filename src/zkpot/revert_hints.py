"""What to do about each custom error the ZKPoT contracts revert with: one hint per name.

The CLI prints ``The contract rejected <action>: <Error>(<args>); <hint>.`` A test reads
every error of the compiled contracts' ABIs and fails when one has no hint here.
"""

from __future__ import annotations

HINTS: dict[str, str] = {
    "AggregationNotProven": "prove the aggregate first (zkpot aggregate does both steps)",
    "InvalidAggregationProof": "the global model is not the aggregate of these models; re-run "
    "zkpot aggregate",
    "HandOffNotAccounted": "list every model handed off to you as included or rejected",
    "TooManyModels": "include at most K - 1 hand-offs; reject the rest as no-slot",
    "UnjustifiedNoSlot": "only a model with no more correct than every included one can lack "
    "a slot, and only when all slots are taken",
    "UnknownTask": "check the task id (taskCount() tells how many exist)",
    "UnknownRound": "check the round number; open it first with openRound",
    "NotPublisher": "send this from the task's publisher account",
    "NotAllowed": "ask the publisher to add this account to the task's allowlist",
    "NotJoined": "join the task first",
    "AlreadyJoined": "this account has already joined; nothing to do",
    "RoundInProgress": "finish the current round (finalise, or let it close empty) first",
    "CommitPhaseClosed": "the commit deadline passed; wait for the next round",
    "AlreadyCommitted": "one commitment per participant per round; use the one already sent",
    "RevealTooEarly": "wait until the commit deadline has passed",
    "RevealPhaseClosed": "the reveal deadline passed or the test set is already revealed",
    "TestSetMismatch": "reveal exactly the CID, chunk commitments and salt committed at opening",
    "WrongChunkCount": "reveal one commitment per chunk (the task's chunksPerRound)",
    "SubmitPhaseClosed": "submit after the test set is revealed and before the submit deadline",
    "NoCommitment": "commit to the model in the commit phase before submitting",
    "AlreadySubmitted": "one submission per participant per round",
    "ProofCountMismatch": "send one proof and one instance vector per test-set chunk",
    "InvalidProof": "the verifier rejected a proof; re-prove with the task's circuit",
    "ChunkMismatch": "prove chunk i of the revealed test set as proof i",
    "SubmitterMismatch": "the proof is bound to another account; prove from your own account",
    "MixedModelCommitments": "prove every chunk with the same model",
    "CommitmentMismatch": "submit the model and salt committed from this account",
    "ModelAlreadySubmitted": "this model was already submitted this round; train your own",
    "SubmitPhaseNotOver": "wait for the submit (or unrevealed: reveal) deadline",
    "NotAwaitingLeader": "the leader was already selected or the round is over",
    "NotAggregating": "the round has no leader waiting to publish",
    "AggregatePhaseClosed": "the leader's deadline passed; call replaceLeader",
    "AggregatePhaseNotOver": "wait for the leader's aggregate deadline",
    "NotLeader": "only the round's leader may publish the global model",
    "NotVerifiedParticipant": "only participants with a verified submission hand off models",
    "GlobalModelMismatch": "under leader-model the global model must be the leader's own model",
    "NotPublished": "the leader has not published the global model yet",
    "RoundNotFinalised": "finalise the round before claiming",
    "NoRewardPool": "this task has no reward pool",
    "NothingToClaim": "this account earned nothing in this round",
    "AlreadyClaimed": "the reward was already paid",
    "TaskIsClosed": "the task is closed",
    "ZeroCountSubmission": "a model that classifies nothing correctly is never admitted",
    "ScoreNotAboveLowest": "the round is full and this submission does not rank above its lowest "
    "admitted one (a higher count, or an equal count committed earlier)",
    "HandOffWindowClosed": "the leader's hand-off window closed (half its aggregate time, or "
    "once everyone handed off); a late hand-off is refused and earns nothing",
    "HandOffsOpen": "wait until the hand-off window closes (zkpot status shows when), then "
    "aggregate what was handed off",
    "VkDigestMismatch": "pass the verifier's vkDigest() as the task's vk digest",
    "TooManyChunks": "use fewer chunks per round (MAX_CHUNKS_PER_ROUND)",
    "InvalidPhaseDuration": "every phase duration must be at least one second",
    "PhaseDurationTooLong": "shorten the phase (MAX_PHASE_DURATION)",
    "RoundDurationTooLong": "shorten the phases (their sum is capped by MAX_ROUND_DURATION)",
    "InclusionNotAllowed": "under leader-model nothing is aggregated; include nobody",
    "IncludedNotAscending": "list included participants once each, in ascending address order",
    "NotHandedOff": "include only participants that handed their model off to this leader",
    "NotBaselineProver": "the baseline is proven by the publisher or the round's leader",
    "BaselinePhaseClosed": "prove the baseline after the reveal and before finalising",
    "BaselineAlreadyRecorded": "the round's baseline is already recorded; nothing to do",
    "BaselineModelMismatch": "prove the round's starting global model on the round's chunks",
    "BaselineNotProven": "prove the previous global model on this round's test set first",
    "UnknownBlock": "check the block index (taskState().blockCount tells how many exist)",
    "NotConsensus": "pool operations come from the ZKPoT contract only",
    "AggregationNotRequired": "this task's aggregation is not proven; publish without "
    "proveAggregation",
    "AggregationVerifierMismatch": "a proven-aggregation verifier needs the fedavg policy and "
    "must serve the task's own circuit",
    "AllowlistDisabled": "this task is open to everyone; it has no allowlist to change",
    "CIDTooLong": "pass a real IPFS CID (at most 128 characters)",
    "EmptyCID": "pass the IPFS CID of the published object",
    "CircuitMismatch": "the verifier serves another circuit; use the task's own verifier",
    "EmptyVerificationKey": "deploy the verifier with the circuit's verification key",
    "VerificationKeyTooLarge": "the verification key does not fit in a contract; use a "
    "smaller circuit",
    "VerifierHasNoCode": "pass the address of a deployed verifier",
    "InvalidVerifier": "pass the address of a deployed verifier adapter",
    "InvalidLayout": "the verifier's instance layout cannot hold a count; rebuild the circuit",
    "InvalidSlots": "the aggregation verifier needs at least two slots",
    "MalformedProof": "the proof is not of the verifier's format; re-prove with the task's "
    "circuit",
    "IncludedAndRejected": "list each handed-off participant once: included or rejected",
    "InvalidRejectionReason": "use one of the rejection codes zkpot aggregate writes (0-5)",
    "NotAggregatingRound": "the round is not in its aggregate phase",
    "NotAscending": "list accounts once each, in ascending address order",
    "NotHandedOffToLeader": "list only participants that handed their model off to this leader",
    "NotRoundLeader": "only the round's current leader proves the aggregation",
    "TooManyIncluded": "a round admits at most 63 participants besides the leader",
    "TooManyListed": "included and rejected together list at most the round's admitted "
    "submitters",
    "TooManyAccounts": "split the allowlist into calls of at most 256 accounts",
    "InvalidChunkCount": "a task needs at least one chunk per round",
    "InvalidLeaderShare": "choose a leader share of 0 to 10000 basis points",
    "InvalidSubmissionLimit": "choose a maximum of 1 to 64 submissions per round",
    "InvalidRewardConfig": "give a reward token with a pool and a per-round reward, or none "
    "of them",
    "InvalidModelCommitment": "pass the initial model's non-zero commitment",
    "InvalidEncryptionKey": "join with a 32-byte X25519 public key (zkpot join makes one)",
    "InvalidTestSetCommitment": "open the round with a non-zero test-set commitment",
    "InvalidCommitment": "commit to a non-zero model commitment",
    "LeaderCannotHandOff": "the leader aggregates its own model; run zkpot aggregate instead",
    # The global model's availability (ZKPoTAvailability and its generated Poseidon).
    "ModelNotPosted": "post the global model's packed elements to the availability contract "
    "first (zkpot aggregate does both steps)",
    "ModelAlreadyPosted": "this model is already on chain; publish it",
    "PostingSize": "post between 1 and 512 packed elements (the model's own count)",
    "PoseidonArity": "the Poseidon chain takes 1 to 12 inputs a link",
    "NotAFieldElement": "every posted element must be below the BN254 scalar field modulus",
    # OpenZeppelin's, raised through the reward pool's token transfers and the guard.
    "SafeERC20FailedOperation": "the reward token refused the transfer; check the token, the "
    "publisher's balance and its approval",
    "AddressEmptyCode": "the reward token address has no code on this network",
    "AddressInsufficientBalance": "the account does not hold enough to pay",
    "FailedInnerCall": "a call into the reward token failed; check the token contract",
    "ReentrancyGuardReentrantCall": "a token called back into ZKPoT; use a standard ERC-20",
}
