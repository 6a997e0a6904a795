// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IAccuracyVerifier} from "./IAccuracyVerifier.sol";
import {IAggregationVerifier} from "./IAggregationVerifier.sol";

/// @title IZKPoT
/// @notice Zero-Knowledge Proof of Training consensus: tasks, rounds with commit-reveal,
///         rank-admitted submissions, leader selection by verified accuracy, hash-linked
///         blocks. Reward pools live in a separate contract ({IZKPoTRewards}, see {rewards}).
/// @dev A round moves Open -> Revealed -> LeaderSelected -> Published -> Finalised, or
///      ends ClosedEmpty. Deadlines are `block.timestamp` values fixed when the round
///      opens, except the aggregate deadline, which restarts for every leader.
///
///      Commitments (all `abi.encode`, so any client reproduces them):
///      - model commitment to a round: `keccak256(abi.encode(taskId, round, participant,
///        modelCommitment, salt))` (uint256, uint256, address, bytes32, bytes32);
///      - test set: `keccak256(abi.encode(testSetCID, chunkCommitments, salt))`
///        (string, bytes32[], bytes32);
///      - block hash: `keccak256(abi.encode(header))` with `header` a {BlockHeader}
///        (it carries the chain id and this contract's address);
///      - submissions digest: starts at zero, then for each admitted submission in
///        arrival order (later-evicted ones included) `keccak256(abi.encode(digest,
///        participant, modelCommitment, correct, salt))` with `salt` the commit salt
///        (every input fixed at commit time: nothing in it can be ground afterwards).
///
///      Admission is by rank, never by arrival: a zero count is never admitted; a round
///      holding `maxSubmissions` admits a new submission only when it ranks above the
///      lowest admitted one -- a higher count, or an equal count committed earlier (commit
///      order is recorded by {commit}, before anyone knows the test set) -- and that lowest
///      submission (lowest count, latest commit among those) is evicted: it stops counting
///      for the leader, its model commitment is free again, it cannot hand off and earns
///      nothing. Accounts that commit after an honest one cannot push its equal score out.
///
///      Tie-break seed: `keccak256(abi.encode(randaoSeed, submissionsDigest))`, where
///      `randaoSeed` is `block.prevrandao` of the first admitted submission and the digest
///      folds in every admitted submitter's commit salt (each fixed at commit time, before
///      the reveal; an evicted submitter's salt stays folded in). Both are fixed when the submit phase ends, so the block that carries
///      {selectLeader} does not matter. What remains: the last submitter, knowing every
///      other salt and `randaoSeed`, can choose to withhold its submission (one bit of
///      bias per colluding account, at the cost of not competing); on L2s whose
///      `prevrandao` is constant the seed is the digest alone, with that same bias.
///
///      Hand-off window: {handOffModel} is open from leader selection for
///      `aggregateDuration / 2` seconds (`handOffDeadline`, per leader), which the leader
///      cannot shorten; a later hand-off reverts {HandOffWindowClosed}. Under FEDAVG,
///      {publishGlobalModel} and {IZKPoTAggregation-proveAggregation} revert {HandOffsOpen}
///      until the deadline, or until every other admitted submitter has handed off
///      (after which a hand-off can only replace a CID, not change the set), so the set of
///      hand-offs the leader must account for is frozen before it proves.
///
///      Rewards (tasks with a pool): the leader publishes the list of participants whose
///      models it aggregated; each must have handed its model off to it on chain. The
///      previous global model's count on this round's own chunks (the baseline) must be
///      proven with {recordBaseline} before {finalise}. The earners are the leader and,
///      under FEDAVG, every participant that handed off to it inside the window, whether
///      the leader included or rejected its model (a rejection is not provable on chain,
///      so it moves no reward); each earns by improvement over that baseline; see
///      {IZKPoTRewards} and {IZKPoTLens-earners}.
interface IZKPoT {
    // ------------------------------------------------------------------ types

    /// @notice How the leader produces the next global model.
    /// @dev FEDAVG: the leader averages the verified models handed to it.
    ///      LEADER_MODEL: the leader's own model becomes the global model.
    enum AggregationPolicy {
        FEDAVG,
        LEADER_MODEL
    }

    /// @notice Stored progress of a round.
    enum RoundStatus {
        None,
        Open,
        Revealed,
        LeaderSelected,
        Published,
        Finalised,
        ClosedEmpty
    }

    /// @notice The phase a round is in at the current block time (derived, see {IZKPoTLens-phaseOf}).
    enum Phase {
        None,
        Commit,
        Reveal,
        Submit,
        LeaderSelection,
        Aggregate,
        LeaderExpired,
        Published,
        Finalised,
        ClosedEmpty
    }

    /// @notice What a publisher fixes when creating a task.
    /// @param circuitId Circuit (architecture + chunk shape) id; must equal the verifier's.
    /// @param verifier Verifier adapter for the circuit; `samplesPerProof` is read from it.
    /// @param vkDigest Digest of the verification-key artifact; must equal the verifier's `vkDigest()`.
    /// @param chunksPerRound Proofs per submission, one per test-set chunk (1..MAX_CHUNKS_PER_ROUND).
    /// @param policy Aggregation policy.
    /// @param aggregationVerifier FEDAVG only, optional: the verifier of the proven-aggregation
    ///        circuit over this task's model commitments. When set, {publishGlobalModel}
    ///        requires the leader's aggregation proof (see {IZKPoTAggregation}); when zero the
    ///        leader is trusted to aggregate honestly.
    /// @param commitDuration Seconds from opening to the commit deadline (1..MAX_PHASE_DURATION).
    /// @param revealDuration Seconds from the commit deadline to the reveal deadline (1..MAX_PHASE_DURATION).
    /// @param submitDuration Seconds from the reveal deadline to the submit deadline (1..MAX_PHASE_DURATION).
    /// @param aggregateDuration Seconds a leader has to publish the global model (1..MAX_PHASE_DURATION);
    ///        the four durations together are at most MAX_ROUND_DURATION.
    /// @param allowlistEnabled True: only publisher-allowed accounts take part.
    /// @param rewardToken ERC-20 of the reward pool, or zero for no rewards.
    /// @param rewardPool Amount the rewards contract ({rewards}) pulls from the publisher at
    ///        creation (approve that contract for it).
    /// @param rewardPerRound Amount allocated by each finalised round.
    /// @param leaderShareBps Leader's share of a round's reward, in basis points.
    /// @param maxSubmissions Most accepted submissions per round (1..MAX_SUBMISSIONS_PER_ROUND).
    /// @param specCID IPFS CID of the task specification.
    /// @param initialModelCID IPFS CID of round 0's global model.
    /// @param initialModelCommitment Commitment of round 0's global model.
    struct TaskConfig {
        bytes32 circuitId;
        IAccuracyVerifier verifier;
        bytes32 vkDigest;
        uint32 chunksPerRound;
        AggregationPolicy policy;
        IAggregationVerifier aggregationVerifier;
        uint64 commitDuration;
        uint64 revealDuration;
        uint64 submitDuration;
        uint64 aggregateDuration;
        bool allowlistEnabled;
        IERC20 rewardToken;
        uint256 rewardPool;
        uint256 rewardPerRound;
        uint16 leaderShareBps;
        uint16 maxSubmissions;
        string specCID;
        string initialModelCID;
        bytes32 initialModelCommitment;
    }

    /// @notice Mutable state of a task.
    /// @param publisher Creator; opens rounds, reveals test sets, manages the allowlist.
    /// @param closed True once closed; no more rounds.
    /// @param samplesPerProof Samples per chunk, read from the verifier at creation.
    /// @param roundCount Rounds opened so far; the next round's number.
    /// @param blockCount ZKPoT blocks appended so far.
    /// @param globalModelCID CID of the current global model.
    /// @param globalModelCommitment Commitment of the current global model.
    /// @param globalCorrect Verified correct count of the current global model (0 initially).
    /// @param lastBlockHash Hash of the last block (zero before the first).
    struct TaskState {
        address publisher;
        bool closed;
        uint256 samplesPerProof;
        uint256 roundCount;
        uint256 blockCount;
        string globalModelCID;
        bytes32 globalModelCommitment;
        uint256 globalCorrect;
        bytes32 lastBlockHash;
    }

    /// @notice A round's stored record.
    /// @param status Stored progress.
    /// @param commitDeadline Commits accepted while `block.timestamp < commitDeadline`.
    /// @param revealDeadline Reveal accepted in `[commitDeadline, revealDeadline)`.
    /// @param submitDeadline Submissions accepted after the reveal, before this.
    /// @param aggregateDeadline The current leader publishes before this.
    /// @param handOffDeadline Hand-offs to the current leader are taken before this time (its
    ///        window for proving and publishing closes then, or once every other admitted
    ///        submitter handed off to it).
    /// @param handOffs How many admitted submitters handed off to the current leader.
    /// @param globalModelCID Global model the round starts from.
    /// @param globalModelCommitment Its commitment.
    /// @param baselineProven True once {recordBaseline} proved that model's count on this round's chunks.
    /// @param baselineCorrect That count (the reward baseline).
    /// @param testSetCommitment Hiding commitment to the round's test set.
    /// @param testSetCID Revealed test-set CID.
    /// @param chunkCommitments Revealed per-chunk commitments, proof i runs on chunk i.
    /// @param submitters Accounts with an admitted submission (evicted ones removed; order not meaningful).
    /// @param submissionsDigest Running digest of admitted submissions.
    /// @param randaoSeed `block.prevrandao` at the first admitted submission.
    /// @param tieSeed `keccak256(abi.encode(randaoSeed, submissionsDigest))`, fixed at leader selection.
    /// @param leader Current (then final) leader.
    /// @param included Participants whose models the leader aggregated (ascending addresses).
    /// @param newModelCID Published global model CID.
    /// @param newModelCommitment Published global model commitment.
    /// @param newGlobalCorrect Verified correct count of the published global model.
    /// @param blockHash Hash of the block the round appended.
    /// @param openedBlock Block number of {openRound}: the round's events are at or after it.
    struct Round {
        RoundStatus status;
        uint64 commitDeadline;
        uint64 revealDeadline;
        uint64 submitDeadline;
        uint64 aggregateDeadline;
        uint64 handOffDeadline;
        uint256 handOffs;
        string globalModelCID;
        bytes32 globalModelCommitment;
        bool baselineProven;
        uint256 baselineCorrect;
        bytes32 testSetCommitment;
        string testSetCID;
        bytes32[] chunkCommitments;
        address[] submitters;
        bytes32 submissionsDigest;
        bytes32 randaoSeed;
        bytes32 tieSeed;
        address leader;
        address[] included;
        string newModelCID;
        bytes32 newModelCommitment;
        uint256 newGlobalCorrect;
        bytes32 blockHash;
        uint64 openedBlock;
    }

    /// @notice One participant's record in one round. The commit salt, the proofs' CID and
    ///         the hand-off CID are not stored: {SubmissionVerified} and {ModelHandedOff}
    ///         carry them (read them from logs, from the round's `openedBlock` on).
    /// @param commitment Commit-phase commitment while not yet submitted; zero once
    ///        submitted (it is `keccak256(abi.encode(taskId, round, participant,
    ///        modelCommitment, salt))` with the salt from {SubmissionVerified}).
    /// @param modelCommitment Model commitment read from the verified proofs (zero before).
    /// @param correct Verified correct count over all chunks.
    /// @param verified True while the submission is admitted (false again once evicted).
    /// @param evicted True once a better submission evicted it from a full round.
    /// @param passedOver True if it was leader and missed its deadline.
    /// @param handoffLeader The round's current leader when this participant handed its
    ///        model off to it; zero otherwise (a hand-off to a passed-over leader no longer counts).
    struct Submission {
        bytes32 commitment;
        bytes32 modelCommitment;
        uint256 correct;
        bool verified;
        bool evicted;
        bool passedOver;
        address handoffLeader;
    }

    /// @notice A ZKPoT block; its hash is `keccak256(abi.encode(header))`.
    /// @param chainId Chain id of the chain the contract runs on (`block.chainid`).
    /// @param zkpot Address of the consensus contract that appended it.
    /// @param taskId Task the chain of blocks belongs to.
    /// @param round Round that produced it.
    /// @param prevBlockHash Previous block's hash (zero for the first).
    /// @param leader Round leader.
    /// @param globalModelCID New global model CID.
    /// @param globalModelCommitment New global model commitment.
    /// @param globalCorrect Verified correct count of the new global model.
    /// @param testSetCommitment The round's test-set commitment.
    /// @param submissionsDigest Digest of the round's accepted submissions.
    /// @param timestamp Block time of finalisation.
    struct BlockHeader {
        uint256 chainId;
        address zkpot;
        uint256 taskId;
        uint256 round;
        bytes32 prevBlockHash;
        address leader;
        string globalModelCID;
        bytes32 globalModelCommitment;
        uint256 globalCorrect;
        bytes32 testSetCommitment;
        bytes32 submissionsDigest;
        uint256 timestamp;
    }

    // ----------------------------------------------------------------- errors

    /// @notice Thrown when a task id was never created.
    error UnknownTask(uint256 taskId);
    /// @notice Thrown when the verifier address is zero or has no code.
    error InvalidVerifier();
    /// @notice Thrown when the verifier serves a different circuit than the task names.
    error CircuitMismatch();
    /// @notice Thrown when the task's vkDigest differs from the verifier's `vkDigest()`.
    /// @param expected The verifier's digest.
    /// @param given The digest in the task configuration.
    error VkDigestMismatch(bytes32 expected, bytes32 given);
    /// @notice Thrown when chunksPerRound is zero.
    error InvalidChunkCount();
    /// @notice Thrown when chunksPerRound is above MAX_CHUNKS_PER_ROUND (a submission would not fit a block).
    /// @param chunks The requested chunks per round.
    /// @param max MAX_CHUNKS_PER_ROUND.
    error TooManyChunks(uint256 chunks, uint256 max);
    /// @notice Thrown when a phase duration is zero.
    error InvalidPhaseDuration();
    /// @notice Thrown when a phase duration is above MAX_PHASE_DURATION.
    /// @param duration The offending duration in seconds.
    /// @param max MAX_PHASE_DURATION.
    error PhaseDurationTooLong(uint256 duration, uint256 max);
    /// @notice Thrown when the four phase durations add up to more than MAX_ROUND_DURATION.
    /// @param total Their sum in seconds.
    /// @param max MAX_ROUND_DURATION.
    error RoundDurationTooLong(uint256 total, uint256 max);
    /// @notice Thrown when the leader share exceeds 10000 basis points.
    error InvalidLeaderShare();
    /// @notice Thrown when maxSubmissions is zero or above MAX_SUBMISSIONS_PER_ROUND.
    error InvalidSubmissionLimit();
    /// @notice Thrown when the reward settings are inconsistent (token without pool or the reverse).
    error InvalidRewardConfig();
    /// @notice Thrown when the initial model commitment is zero.
    error InvalidModelCommitment();
    /// @notice Thrown when the caller is not the task's publisher.
    error NotPublisher();
    /// @notice Thrown when the task is closed.
    error TaskIsClosed();
    /// @notice Thrown when the allowlist is managed on a task that has none.
    error AllowlistDisabled();
    /// @notice Thrown when an account outside the allowlist tries to take part.
    error NotAllowed();
    /// @notice Thrown when an account joins a task twice.
    error AlreadyJoined();
    /// @notice Thrown when an account that has not joined tries to commit.
    error NotJoined();
    /// @notice Thrown when the encryption public key is zero.
    error InvalidEncryptionKey();
    /// @notice Thrown when a round is opened (or the task closed) while one is in progress.
    error RoundInProgress();
    /// @notice Thrown when a round was never opened.
    error UnknownRound();
    /// @notice Thrown when the test-set commitment is zero.
    error InvalidTestSetCommitment();
    /// @notice Thrown when committing at or after the commit deadline.
    error CommitPhaseClosed();
    /// @notice Thrown when a participant commits twice in a round.
    error AlreadyCommitted();
    /// @notice Thrown when the commitment is zero.
    error InvalidCommitment();
    /// @notice Thrown when revealing before the commit deadline.
    error RevealTooEarly();
    /// @notice Thrown when revealing at or after the reveal deadline, or twice.
    error RevealPhaseClosed();
    /// @notice Thrown when the revealed number of chunks differs from chunksPerRound.
    error WrongChunkCount();
    /// @notice Thrown when the revealed test set does not hash to the round's commitment.
    error TestSetMismatch();
    /// @notice Thrown when submitting before the reveal or at or after the submit deadline.
    error SubmitPhaseClosed();
    /// @notice Thrown when submitting without a commitment in the round.
    error NoCommitment();
    /// @notice Thrown when a participant submits twice in a round.
    error AlreadySubmitted();
    /// @notice Thrown when a submission proves a zero count: it is never admitted.
    error ZeroCountSubmission();
    /// @notice Thrown when a full round receives a submission that does not rank above its lowest
    ///         admitted one: a lower count, or an equal count committed later.
    error ScoreNotAboveLowest();
    /// @notice Thrown when the number of proofs or instance vectors differs from chunksPerRound.
    error ProofCountMismatch();
    /// @notice Thrown when the verifier rejects a proof (or reverts).
    error InvalidProof();
    /// @notice Thrown when proof i does not run on the round's chunk i.
    error ChunkMismatch();
    /// @notice Thrown when the proofs of one submission carry different model commitments.
    error MixedModelCommitments();
    /// @notice Thrown when a proof is bound to a submitter other than the sender (a copied proof).
    error SubmitterMismatch();
    /// @notice Thrown when the proofs' model, the sender and the salt do not open the commitment.
    error CommitmentMismatch();
    /// @notice Thrown when another participant already submitted this model commitment this round.
    error ModelAlreadySubmitted();
    /// @notice Thrown when selecting a leader in a round that is not waiting for one.
    error NotAwaitingLeader();
    /// @notice Thrown when selecting a leader before submissions are over.
    error SubmitPhaseNotOver();
    /// @notice Thrown when an action needs the aggregate phase and the round is not in it.
    error NotAggregating();
    /// @notice Thrown when handing off or publishing at or after the aggregate deadline.
    error AggregatePhaseClosed();
    /// @notice Thrown when replacing the leader before its aggregate deadline.
    error AggregatePhaseNotOver();
    /// @notice Thrown when the caller is not the round's leader.
    error NotLeader();
    /// @notice Thrown when a hand-off comes from an account without a verified submission.
    error NotVerifiedParticipant();
    /// @notice Thrown when the leader hands its model to itself.
    error LeaderCannotHandOff();
    /// @notice Thrown when handing off at or after the current leader's hand-off deadline.
    error HandOffWindowClosed();
    /// @notice Thrown when a FEDAVG leader publishes while its hand-off window is still open.
    error HandOffsOpen();
    /// @notice Thrown under LEADER_MODEL when the global model is not the leader's model.
    error GlobalModelMismatch();
    /// @notice Thrown under LEADER_MODEL when the leader lists included participants (nothing is shared).
    error InclusionNotAllowed();
    /// @notice Thrown at task creation when an aggregation verifier is named for a policy other
    ///         than FEDAVG, or serves another accuracy circuit.
    error AggregationVerifierMismatch();
    /// @notice Thrown when a proven-aggregation task's leader publishes without a recorded
    ///         aggregation proof for this included list and this model commitment.
    error AggregationNotProven();
    /// @notice Thrown when a Groth16 global model's packed elements were never posted to the
    ///         availability contract ({availability}): nobody could rebuild it from the chain.
    error ModelNotPosted(bytes32 commitment);
    /// @notice Thrown when the included list is not in strictly ascending address order (or repeats one).
    error IncludedNotAscending();
    /// @notice Thrown when an included account has not handed its model off to this leader on chain.
    /// @param account The account.
    error NotHandedOff(address account);
    /// @notice Thrown when recording a baseline from neither the publisher nor the current leader.
    error NotBaselineProver();
    /// @notice Thrown when recording a baseline before the reveal or after the round ended.
    error BaselinePhaseClosed();
    /// @notice Thrown when the round's baseline is already recorded.
    error BaselineAlreadyRecorded();
    /// @notice Thrown when the baseline proofs are not of the round's starting global model.
    error BaselineModelMismatch();
    /// @notice Thrown when finalising a round of a rewarded task whose baseline was not proven.
    error BaselineNotProven();
    /// @notice Thrown when finalising a round whose global model is not published.
    error NotPublished();
    /// @notice Thrown when a string CID argument is empty.
    error EmptyCID();
    /// @notice Thrown when a CID argument is longer than any real CID.
    /// @param length Its length in bytes.
    /// @param max MAX_CID_BYTES.
    error CIDTooLong(uint256 length, uint256 max);
    /// @notice Thrown when one call lists more accounts than MAX_ALLOWLIST_BATCH.
    /// @param count Accounts listed.
    /// @param max MAX_ALLOWLIST_BATCH.
    error TooManyAccounts(uint256 count, uint256 max);
    /// @notice Thrown when a leader lists more included participants than a round can admit besides itself.
    /// @param count Accounts listed.
    /// @param max MAX_SUBMISSIONS_PER_ROUND - 1.
    error TooManyIncluded(uint256 count, uint256 max);
    /// @notice Thrown when {IZKPoTLens-getBlock} is asked for a block the task has not appended.
    /// @param index The block index asked for.
    error UnknownBlock(uint256 index);

    // ----------------------------------------------------------------- events

    /// @notice Emitted when a task was created.
    /// @param taskId New task id.
    /// @param publisher Its publisher.
    /// @param circuitId Circuit id.
    /// @param verifier Verifier adapter.
    /// @param policy Aggregation policy.
    /// @param chunksPerRound Proofs per submission.
    /// @param funded Reward tokens received.
    /// @param specCID Task specification CID.
    event TaskCreated(
        uint256 indexed taskId,
        address indexed publisher,
        bytes32 circuitId,
        address verifier,
        AggregationPolicy policy,
        uint32 chunksPerRound,
        uint256 funded,
        string specCID
    );

    /// @notice Emitted when the publisher changed an account's allowlist entry.
    /// @param taskId Task.
    /// @param account Account.
    /// @param allowed New value.
    event AllowlistUpdated(uint256 indexed taskId, address indexed account, bool allowed);

    /// @notice Emitted when an account joined a task.
    /// @param taskId Task.
    /// @param participant Account.
    /// @param encryptionPublicKey X25519 key leaders' peers encrypt models to.
    event ParticipantJoined(
        uint256 indexed taskId, address indexed participant, bytes32 encryptionPublicKey
    );

    /// @notice Emitted when a round was opened.
    /// @param taskId Task.
    /// @param round Round number.
    /// @param globalModelCID Global model to start from.
    /// @param globalModelCommitment Its commitment.
    /// @param testSetCommitment Commitment to the round's test set.
    /// @param commitDeadline Commit deadline.
    /// @param revealDeadline Reveal deadline.
    /// @param submitDeadline Submit deadline.
    event RoundOpened(
        uint256 indexed taskId,
        uint256 indexed round,
        string globalModelCID,
        bytes32 globalModelCommitment,
        bytes32 testSetCommitment,
        uint64 commitDeadline,
        uint64 revealDeadline,
        uint64 submitDeadline
    );

    /// @notice Emitted when a participant committed to its model.
    /// @param taskId Task.
    /// @param round Round.
    /// @param participant Account.
    /// @param commitment The commitment.
    event ModelCommitted(
        uint256 indexed taskId, uint256 indexed round, address indexed participant, bytes32 commitment
    );

    /// @notice Emitted when the publisher revealed the round's test set.
    /// @param taskId Task.
    /// @param round Round.
    /// @param testSetCID Test-set CID.
    /// @param chunkCommitments Per-chunk commitments.
    event TestSetRevealed(
        uint256 indexed taskId, uint256 indexed round, string testSetCID, bytes32[] chunkCommitments
    );

    /// @notice Emitted when a submission was verified and recorded.
    /// @param taskId Task.
    /// @param round Round.
    /// @param participant Account.
    /// @param modelCommitment Model commitment from the proofs.
    /// @param correct Verified correct count over all chunks.
    /// @param salt The commit salt (opens the commitment; folded into the submissions digest).
    /// @param proofCID Proofs' CID (not stored: this event is where readers find it).
    event SubmissionVerified(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed participant,
        bytes32 modelCommitment,
        uint256 correct,
        bytes32 salt,
        string proofCID
    );

    /// @notice Emitted when a full round evicted its lowest submission for a better one.
    /// @param taskId Task.
    /// @param round Round.
    /// @param participant The evicted account.
    /// @param correct Its verified count.
    /// @param by The account whose better submission took the place.
    event SubmissionEvicted(
        uint256 indexed taskId, uint256 indexed round, address indexed participant, uint256 correct, address by
    );

    /// @notice Emitted when the round's starting global model was proven on the round's chunks.
    /// @param taskId Task.
    /// @param round Round.
    /// @param prover Publisher or leader that sent the proofs.
    /// @param correct The starting model's count on this round's test set (the reward baseline).
    event BaselineRecorded(uint256 indexed taskId, uint256 indexed round, address indexed prover, uint256 correct);

    /// @notice Emitted when a leader was selected.
    /// @param taskId Task.
    /// @param round Round.
    /// @param leader Leader.
    /// @param correct Its verified correct count.
    /// @param aggregateDeadline Its publishing deadline.
    /// @param handOffDeadline End of its hand-off window (`aggregateDuration / 2` from now).
    event LeaderSelected(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed leader,
        uint256 correct,
        uint64 aggregateDeadline,
        uint64 handOffDeadline
    );

    /// @notice Emitted when a leader missed its deadline and was passed over.
    /// @param taskId Task.
    /// @param round Round.
    /// @param previousLeader The leader passed over.
    event LeaderPassedOver(uint256 indexed taskId, uint256 indexed round, address indexed previousLeader);

    /// @notice Emitted when a participant handed its encrypted model to the leader.
    /// @param taskId Task.
    /// @param round Round.
    /// @param participant Account.
    /// @param leader Leader it was encrypted to.
    /// @param encryptedModelCID CID of the encrypted model (not stored: this event is where the
    ///        leader finds it; a participant may hand off again, and its last event counts).
    event ModelHandedOff(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed participant,
        address leader,
        string encryptedModelCID
    );

    /// @notice Emitted when the leader published the new global model.
    /// @param taskId Task.
    /// @param round Round.
    /// @param leader Leader.
    /// @param globalModelCID New global model CID.
    /// @param globalModelCommitment Its commitment.
    /// @param globalCorrect Its verified correct count.
    /// @param included Participants whose models the leader aggregated.
    event GlobalModelPublished(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed leader,
        string globalModelCID,
        bytes32 globalModelCommitment,
        uint256 globalCorrect,
        address[] included
    );

    /// @notice Emitted when a round was finalised and its block appended.
    /// @param taskId Task.
    /// @param round Round.
    /// @param blockHash `keccak256(abi.encode(header))`.
    /// @param header The block header.
    event BlockFinalised(
        uint256 indexed taskId, uint256 indexed round, bytes32 indexed blockHash, BlockHeader header
    );

    /// @notice Emitted when a round closed without a block; the global model carries over.
    /// @param taskId Task.
    /// @param round Round.
    /// @param testSetRevealed False when the publisher never revealed the test set.
    event RoundClosedEmpty(uint256 indexed taskId, uint256 indexed round, bool testSetRevealed);

    /// @notice Emitted when a task was closed.
    /// @param taskId Task.
    /// @param refunded Unallocated reward returned to the publisher.
    event TaskClosed(uint256 indexed taskId, uint256 refunded);

    // -------------------------------------------------------------- functions

    /// @notice Creates a task; the rewards contract ({rewards}) pulls `config.rewardPool` of
    ///         `config.rewardToken` from the caller, who must have approved it.
    function createTask(TaskConfig calldata config, address[] calldata allowlist)
        external
        returns (uint256 taskId);

    /// @notice Publisher adds (`allowed`) or removes accounts from the allowlist.
    function setAllowed(uint256 taskId, address[] calldata accounts, bool allowed) external;

    /// @notice Joins a task with the X25519 key models are encrypted to.
    function join(uint256 taskId, bytes32 encryptionPublicKey) external;

    /// @notice Publisher opens the next round over the current global model.
    function openRound(uint256 taskId, bytes32 testSetCommitment) external returns (uint256 round);

    /// @notice Commits to a model before the commit deadline.
    function commit(uint256 taskId, uint256 round, bytes32 commitment) external;

    /// @notice Publisher reveals the round's test set after the commit deadline.
    function revealTestSet(
        uint256 taskId,
        uint256 round,
        string calldata testSetCID,
        bytes32[] calldata chunkCommitments,
        bytes32 salt
    ) external;

    /// @notice Whether {submit} with these arguments from `participant` would be accepted now
    ///         (including rank admission: a zero count, or a full round's lowest not beaten).
    /// @return accepted True if it would be accepted.
    /// @return reason Selector of the error {submit} would revert with (zero when accepted).
    /// @return modelCommitment Model commitment read from the proofs (when they verify).
    /// @return correct Verified correct count (when they verify).
    function checkSubmission(
        uint256 taskId,
        uint256 round,
        address participant,
        bytes[] calldata proofs,
        uint256[][] calldata instances,
        bytes32 salt
    ) external view returns (bool accepted, bytes4 reason, bytes32 modelCommitment, uint256 correct);

    /// @notice Verifies one proof per chunk and admits the sender's verified correct count
    ///         (evicting the lowest admitted submission when the round is full).
    function submit(
        uint256 taskId,
        uint256 round,
        bytes[] calldata proofs,
        uint256[][] calldata instances,
        bytes32 salt,
        string calldata proofCID
    ) external;

    /// @notice After the submit deadline: makes the best verified submitter leader, or closes empty.
    function selectLeader(uint256 taskId, uint256 round) external;

    /// @notice After the leader's deadline: passes it over for the next best, or closes empty.
    function replaceLeader(uint256 taskId, uint256 round) external;

    /// @notice A verified participant records the CID of its model encrypted to the leader,
    ///         before the leader's hand-off deadline (again, to replace it; the last one counts).
    function handOffModel(uint256 taskId, uint256 round, string calldata encryptedModelCID) external;

    /// @notice The leader publishes the new global model with one accuracy proof per chunk and
    ///         the participants whose models it aggregated (ascending; each handed off to it;
    ///         empty under LEADER_MODEL).
    function publishGlobalModel(
        uint256 taskId,
        uint256 round,
        string calldata globalModelCID,
        address[] calldata included,
        bytes[] calldata proofs,
        uint256[][] calldata instances
    ) external;

    /// @notice Publisher or current leader proves the round's starting global model on the
    ///         round's chunks (one proof per chunk); records the reward baseline once.
    function recordBaseline(uint256 taskId, uint256 round, bytes[] calldata proofs, uint256[][] calldata instances)
        external;

    /// @notice Appends the round's block and allocates its rewards (anyone, once published;
    ///         on a rewarded task only once the baseline is recorded).
    function finalise(uint256 taskId, uint256 round) external returns (bytes32 blockHash);

    /// @notice Publisher closes the task; unallocated reward returns to it.
    function closeTask(uint256 taskId) external;

    // ------------------------------------------------------------------ views

    /// @notice Number of tasks created.
    function taskCount() external view returns (uint256);

    /// @notice The reward-pool contract this consensus contract funds and allocates through.
    function rewards() external view returns (address);

    /// @notice The proven-aggregation contract ({IZKPoTAggregation}) this contract created.
    function aggregation() external view returns (address);

    /// @notice The read-only lens ({IZKPoTLens}) this contract created: its records as
    ///         structs (task configuration and state, rounds, submissions, blocks).
    function lens() external view returns (address);

    /// @notice The availability contract ({IZKPoTAvailability}): a Groth16 global model must be
    ///         posted there (its packed elements, Poseidon-checked on chain) before it is published.
    function availability() external view returns (address);

}
