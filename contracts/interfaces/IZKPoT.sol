// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IAccuracyVerifier} from "./IAccuracyVerifier.sol";

/// @title IZKPoT
/// @notice Zero-Knowledge Proof of Training consensus: tasks, rounds with commit-reveal,
///         leader selection by verified accuracy, hash-linked blocks and pull rewards.
/// @dev A round moves Open -> Revealed -> LeaderSelected -> Published -> Finalised, or
///      ends ClosedEmpty. Deadlines are `block.timestamp` values fixed when the round
///      opens, except the aggregate deadline, which restarts for every leader.
///
///      Commitments (all `abi.encode`, so any client reproduces them):
///      - model commitment to a round: `keccak256(abi.encode(taskId, round, participant,
///        modelCommitment, salt))` (uint256, uint256, address, bytes32, bytes32);
///      - test set: `keccak256(abi.encode(testSetCID, chunkCommitments, salt))`
///        (string, bytes32[], bytes32);
///      - block hash: `keccak256(abi.encode(header))` with `header` a {BlockHeader};
///      - submissions digest: starts at zero, then for each accepted submission in
///        arrival order `keccak256(abi.encode(digest, participant, modelCommitment,
///        correct, proofCID))`.
///
///      Reward rule (tasks with a pool): each finalised round allocates
///      `R = min(rewardPerRound, unallocated)`. The leader gets
///      `R * leaderShareBps / 10000`; the rest `P` is split among the eligible verified
///      submitters (leader included) in proportion to their improvement
///      `correct - previousGlobalCorrect` (only positive improvements count; the
///      previous global correct is the last finalised global model's verified count,
///      0 before the first block). Under FEDAVG a participant other than the leader is
///      eligible only if it handed its encrypted model to the final leader. Shares are
///      floored; the rounding dust and `P` when nobody improved stay unallocated and
///      return to the publisher when the task is closed. Nothing is staked or slashed.
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

    /// @notice The phase a round is in at the current block time (derived, see {phaseOf}).
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
    /// @param vkDigest Digest of the verification-key artifact the verifier was set up with.
    /// @param chunksPerRound Proofs per submission, one per test-set chunk.
    /// @param policy Aggregation policy.
    /// @param commitDuration Seconds from opening to the commit deadline.
    /// @param revealDuration Seconds from the commit deadline to the reveal deadline.
    /// @param submitDuration Seconds from the reveal deadline to the submit deadline.
    /// @param aggregateDuration Seconds a leader has to publish the global model.
    /// @param allowlistEnabled True: only publisher-allowed accounts take part.
    /// @param rewardToken ERC-20 of the reward pool, or zero for no rewards.
    /// @param rewardPool Amount pulled from the publisher at creation (needs an approval).
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
    /// @param funded Reward tokens received at creation.
    /// @param unallocated Reward tokens not yet allocated to any round.
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
        uint256 funded;
        uint256 unallocated;
    }

    /// @notice A round's stored record.
    /// @param status Stored progress.
    /// @param commitDeadline Commits accepted while `block.timestamp < commitDeadline`.
    /// @param revealDeadline Reveal accepted in `[commitDeadline, revealDeadline)`.
    /// @param submitDeadline Submissions accepted after the reveal, before this.
    /// @param aggregateDeadline The current leader publishes before this.
    /// @param globalModelCID Global model the round starts from.
    /// @param globalModelCommitment Its commitment.
    /// @param previousGlobalCorrect Verified correct count of that model (reward baseline).
    /// @param testSetCommitment Hiding commitment to the round's test set.
    /// @param testSetCID Revealed test-set CID.
    /// @param chunkCommitments Revealed per-chunk commitments, proof i runs on chunk i.
    /// @param submitters Accounts with a verified submission, in arrival order.
    /// @param submissionsDigest Running digest of accepted submissions.
    /// @param tieSeed `block.prevrandao` mixed in at leader selection.
    /// @param leader Current (then final) leader.
    /// @param newModelCID Published global model CID.
    /// @param newModelCommitment Published global model commitment.
    /// @param newGlobalCorrect Verified correct count of the published global model.
    /// @param blockHash Hash of the block the round appended.
    /// @param leaderReward Reward allocated to the leader.
    /// @param participantPool Reward shared by improvement.
    /// @param totalImprovement Sum of eligible improvements.
    struct Round {
        RoundStatus status;
        uint64 commitDeadline;
        uint64 revealDeadline;
        uint64 submitDeadline;
        uint64 aggregateDeadline;
        string globalModelCID;
        bytes32 globalModelCommitment;
        uint256 previousGlobalCorrect;
        bytes32 testSetCommitment;
        string testSetCID;
        bytes32[] chunkCommitments;
        address[] submitters;
        bytes32 submissionsDigest;
        bytes32 tieSeed;
        address leader;
        string newModelCID;
        bytes32 newModelCommitment;
        uint256 newGlobalCorrect;
        bytes32 blockHash;
        uint256 leaderReward;
        uint256 participantPool;
        uint256 totalImprovement;
    }

    /// @notice One participant's record in one round.
    /// @param commitment Commit-phase commitment.
    /// @param modelCommitment Model commitment read from the verified proofs.
    /// @param correct Verified correct count over all chunks.
    /// @param verified True once the submission was accepted.
    /// @param passedOver True if it was leader and missed its deadline.
    /// @param claimed True once its reward was claimed.
    /// @param proofCID IPFS CID of the proofs.
    /// @param handoffLeader Leader the encrypted model was handed to.
    /// @param encryptedModelCID IPFS CID of the model encrypted to that leader.
    struct Submission {
        bytes32 commitment;
        bytes32 modelCommitment;
        uint256 correct;
        bool verified;
        bool passedOver;
        bool claimed;
        string proofCID;
        address handoffLeader;
        string encryptedModelCID;
    }

    /// @notice A ZKPoT block; its hash is `keccak256(abi.encode(header))`.
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
    /// @notice Thrown when chunksPerRound is zero.
    error InvalidChunkCount();
    /// @notice Thrown when a phase duration is zero.
    error InvalidPhaseDuration();
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
    /// @notice Thrown when a round already holds the maximum number of submissions.
    error SubmissionLimitReached();
    /// @notice Thrown when the number of proofs or instance vectors differs from chunksPerRound.
    error ProofCountMismatch();
    /// @notice Thrown when the verifier rejects a proof (or reverts).
    error InvalidProof();
    /// @notice Thrown when proof i does not run on the round's chunk i.
    error ChunkMismatch();
    /// @notice Thrown when the proofs of one submission carry different model commitments.
    error MixedModelCommitments();
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
    /// @notice Thrown under LEADER_MODEL when the global model is not the leader's model.
    error GlobalModelMismatch();
    /// @notice Thrown when finalising a round whose global model is not published.
    error NotPublished();
    /// @notice Thrown when claiming in a round that is not finalised.
    error RoundNotFinalised();
    /// @notice Thrown when claiming on a task without a reward pool.
    error NoRewardPool();
    /// @notice Thrown when the caller has no reward in the round.
    error NothingToClaim();
    /// @notice Thrown when the caller already claimed the round's reward.
    error AlreadyClaimed();
    /// @notice Thrown when a string CID argument is empty.
    error EmptyCID();

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
    /// @param proofCID Proofs' CID.
    event SubmissionVerified(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed participant,
        bytes32 modelCommitment,
        uint256 correct,
        string proofCID
    );

    /// @notice Emitted when a leader was selected.
    /// @param taskId Task.
    /// @param round Round.
    /// @param leader Leader.
    /// @param correct Its verified correct count.
    /// @param aggregateDeadline Its publishing deadline.
    event LeaderSelected(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed leader,
        uint256 correct,
        uint64 aggregateDeadline
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
    /// @param encryptedModelCID CID of the encrypted model.
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
    event GlobalModelPublished(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed leader,
        string globalModelCID,
        bytes32 globalModelCommitment,
        uint256 globalCorrect
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

    /// @notice Emitted when a reward was paid.
    /// @param taskId Task.
    /// @param round Round.
    /// @param account Recipient.
    /// @param amount Amount.
    event RewardClaimed(
        uint256 indexed taskId, uint256 indexed round, address indexed account, uint256 amount
    );

    /// @notice Emitted when a task was closed.
    /// @param taskId Task.
    /// @param refunded Unallocated reward returned to the publisher.
    event TaskClosed(uint256 indexed taskId, uint256 refunded);

    // -------------------------------------------------------------- functions

    /// @notice Creates a task; pulls `config.rewardPool` of `config.rewardToken` from the caller.
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

    /// @notice Whether {submit} with these arguments from `participant` would be accepted now.
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

    /// @notice Verifies one proof per chunk and records the sender's verified correct count.
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

    /// @notice A verified participant records the CID of its model encrypted to the leader.
    function handOffModel(uint256 taskId, uint256 round, string calldata encryptedModelCID) external;

    /// @notice The leader publishes the new global model with one accuracy proof per chunk.
    function publishGlobalModel(
        uint256 taskId,
        uint256 round,
        string calldata globalModelCID,
        bytes[] calldata proofs,
        uint256[][] calldata instances
    ) external;

    /// @notice Appends the round's block and allocates its rewards (anyone, once published).
    function finalise(uint256 taskId, uint256 round) external returns (bytes32 blockHash);

    /// @notice Pays the caller's reward for a finalised round.
    function claim(uint256 taskId, uint256 round) external returns (uint256 amount);

    /// @notice Publisher closes the task; unallocated reward returns to it.
    function closeTask(uint256 taskId) external;

    // ------------------------------------------------------------------ views

    /// @notice A task's configuration.
    function taskConfig(uint256 taskId) external view returns (TaskConfig memory);

    /// @notice A task's state.
    function taskState(uint256 taskId) external view returns (TaskState memory);

    /// @notice Number of tasks created.
    function taskCount() external view returns (uint256);

    /// @notice A round's record.
    function getRound(uint256 taskId, uint256 round) external view returns (Round memory);

    /// @notice A round's phase at the current block time.
    function phaseOf(uint256 taskId, uint256 round) external view returns (Phase);

    /// @notice A participant's record in a round.
    function getSubmission(uint256 taskId, uint256 round, address participant)
        external
        view
        returns (Submission memory);

    /// @notice Whether an account joined, and its encryption key.
    function participantKey(uint256 taskId, address account)
        external
        view
        returns (bool joined, bytes32 encryptionPublicKey);

    /// @notice Whether an account may take part (always true on open tasks).
    function isAllowed(uint256 taskId, address account) external view returns (bool);

    /// @notice Block number `index` of a task's chain, with its hash.
    function getBlock(uint256 taskId, uint256 index)
        external
        view
        returns (BlockHeader memory header, bytes32 blockHash);

    /// @notice Reward `account` can claim in a round now.
    function claimable(uint256 taskId, uint256 round, address account) external view returns (uint256);
}
