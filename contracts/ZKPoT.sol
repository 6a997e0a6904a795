// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.20;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IAccuracyVerifier} from "./interfaces/IAccuracyVerifier.sol";
import {IZKPoT} from "./interfaces/IZKPoT.sol";
import {ZKPoTRewards} from "./ZKPoTRewards.sol";
import {ZKPoTAggregation} from "./ZKPoTAggregation.sol";
import {IAggregationVerifier} from "./interfaces/IAggregationVerifier.sol";
import {Extsload} from "./libraries/Extsload.sol";
import {ZKPoTLens} from "./ZKPoTLens.sol";
import {IZKPoTAvailability} from "./availability/IZKPoTAvailability.sol";
import {ZKPoTStorage} from "./ZKPoTStorage.sol";
import {Admission} from "./libraries/Admission.sol";

/// @title ZKPoT
/// @notice Zero-Knowledge Proof of Training consensus for federated learning. The round
///         leader is the participant with the highest verified accuracy; nobody stakes.
/// @dev See {IZKPoT} for the commitment formats, rank admission and the tie-break seed.
///      Reward pools are held and paid by the {ZKPoTRewards} contract this one creates.
contract ZKPoT is IZKPoT, ZKPoTStorage, Extsload, ReentrancyGuard {
    /// @notice Cap on a task's maxSubmissions: bounds the loops of admission, leader
    ///         selection and finalisation (each at most this many storage reads).
    uint256 public constant MAX_SUBMISSIONS_PER_ROUND = 64;
    /// @notice Cap on chunksPerRound: one EZKL chunk proof costs ~2.2M gas to verify, so
    ///         12 proofs (~26.5M with calldata and bookkeeping) still fit a 30M-gas block.
    uint256 public constant MAX_CHUNKS_PER_ROUND = 12;
    /// @notice Cap on each phase duration (30 days).
    uint256 public constant MAX_PHASE_DURATION = 30 days;
    /// @notice Cap on the four phase durations together (60 days): a round, and the reward
    ///         pool behind it, cannot be locked for longer by its configuration.
    uint256 public constant MAX_ROUND_DURATION = 60 days;
    /// @notice Longest CID accepted (bytes): a CIDv1 of a sha2-256 multihash is 59 characters
    ///         in base32, 62 in base36; twice that leaves room for any real CID and for nothing
    ///         a reader must copy at length (a 2,000-byte CID per submitter once pushed
    ///         `proveAggregation` past a block's gas).
    uint256 public constant MAX_CID_BYTES = 128;
    /// @notice Most accounts one `createTask` or `setAllowed` call lists.
    uint256 public constant MAX_ALLOWLIST_BATCH = 256;

    /// @dev Highest count one chunk proof may carry (counts are stored in 32 bits).
    uint256 private constant _MAX_CHUNK_COUNT = 2 ** 28;

    /// @dev The admitted submitter a full round evicts, and the one before it in the list
    ///      (zero: it is the head).
    struct Eviction {
        address account;
        address previous;
    }

    ZKPoTRewards private immutable _rewards;
    ZKPoTAggregation private immutable _aggregation;

    ZKPoTLens private immutable _lens;
    IZKPoTAvailability private immutable _availability;

    /// @param availability_ Where Groth16 global models are posted ({IZKPoTAvailability}).
    constructor(IZKPoTAvailability availability_) {
        _availability = availability_;
        _rewards = new ZKPoTRewards();
        _lens = new ZKPoTLens();
        _aggregation = new ZKPoTAggregation();
    }

    // ------------------------------------------------------------ modifiers

    modifier onlyPublisher(uint256 taskId) {
        _requireTask(taskId);
        if (msg.sender != _states[taskId].publisher) revert NotPublisher();
        _;
    }

    // ---------------------------------------------------------------- tasks

    /// @inheritdoc IZKPoT
    function createTask(TaskConfig calldata config, address[] calldata allowlist)
        external
        nonReentrant
        returns (uint256 taskId)
    {
        // The rules a configuration must meet live in the lens (EIP-170 headroom); it reverts with IZKPoT's errors.
        _checkConfig();
        _checkBatch(allowlist.length);
        taskId = _taskCount++;
        _configs[taskId] = config;
        TaskState storage state = _states[taskId];
        state.publisher = msg.sender;
        state.samplesPerProof = config.verifier.samplesPerProof();
        state.globalModelCID = config.initialModelCID;
        state.globalModelCommitment = config.initialModelCommitment;
        _rules[taskId] = TaskRules({
            verifier: config.verifier,
            chunksPerRound: uint8(config.chunksPerRound),
            maxSubmissions: uint8(config.maxSubmissions),
            allowlistEnabled: config.allowlistEnabled,
            policy: config.policy,
            rewarded: address(config.rewardToken) != address(0),
            aggregationProven: address(config.aggregationVerifier) != address(0)
        });
        if (config.allowlistEnabled) {
            for (uint256 i = 0; i < allowlist.length; ++i) {
                _allowed[taskId][allowlist[i]] = true;
                emit AllowlistUpdated(taskId, allowlist[i], true);
            }
        }
        // The pool contract pulls the reward straight from the publisher (approve it, see {rewards}).
        uint256 funded = _rewards.fund(
            taskId, msg.sender, config.rewardToken, config.rewardPool, config.rewardPerRound, config.leaderShareBps
        );
        emit TaskCreated(
            taskId,
            msg.sender,
            config.circuitId,
            address(config.verifier),
            config.policy,
            config.chunksPerRound,
            funded,
            config.specCID
        );
    }

    /// @dev {IZKPoTLens-checkConfig} on this call's own arguments, forwarded as they are
    ///      (createTask's and checkConfig's parameters are the same), so no encoder for the
    ///      configuration is needed here; the lens's revert (an {IZKPoT} error) is passed on.
    function _checkConfig() private view {
        address lens_ = address(_lens);
        bytes4 selector = ZKPoTLens.checkConfig.selector;
        assembly ("memory-safe") {
            let data := mload(0x40)
            calldatacopy(data, 0, calldatasize())
            mstore(data, or(and(mload(data), sub(shl(224, 1), 1)), selector))
            if iszero(staticcall(gas(), lens_, data, calldatasize(), 0, 0)) {
                returndatacopy(data, 0, returndatasize())
                revert(data, returndatasize())
            }
        }
    }

    /// @dev A CID is present and no longer than any real one.
    function _checkCID(string calldata cid) private pure {
        uint256 length = bytes(cid).length;
        if (length == 0) revert EmptyCID();
        if (length > MAX_CID_BYTES) revert CIDTooLong(length, MAX_CID_BYTES);
    }

    function _checkBatch(uint256 length) private pure {
        if (length > MAX_ALLOWLIST_BATCH) revert TooManyAccounts(length, MAX_ALLOWLIST_BATCH);
    }

    /// @inheritdoc IZKPoT
    function setAllowed(uint256 taskId, address[] calldata accounts, bool allowed)
        external
        onlyPublisher(taskId)
    {
        if (!_rules[taskId].allowlistEnabled) revert AllowlistDisabled();
        _checkBatch(accounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            _allowed[taskId][accounts[i]] = allowed;
            emit AllowlistUpdated(taskId, accounts[i], allowed);
        }
    }

    /// @inheritdoc IZKPoT
    function join(uint256 taskId, bytes32 encryptionPublicKey) external {
        _requireTask(taskId);
        if (_states[taskId].closed) revert TaskIsClosed();
        if (!_isAllowed(taskId, msg.sender)) revert NotAllowed();
        if (encryptionPublicKey == bytes32(0)) revert InvalidEncryptionKey();
        if (_keys[taskId][msg.sender] != bytes32(0)) revert AlreadyJoined();
        _keys[taskId][msg.sender] = encryptionPublicKey;
        emit ParticipantJoined(taskId, msg.sender, encryptionPublicKey);
    }

    /// @inheritdoc IZKPoT
    function closeTask(uint256 taskId) external onlyPublisher(taskId) nonReentrant {
        TaskState storage state = _states[taskId];
        if (state.closed) revert TaskIsClosed();
        if (_roundInProgress(taskId)) revert RoundInProgress();
        state.closed = true;
        uint256 refund = 0;
        if (_rules[taskId].rewarded) refund = _rewards.refund(taskId, msg.sender);
        emit TaskClosed(taskId, refund);
    }

    // --------------------------------------------------------------- rounds

    /// @inheritdoc IZKPoT
    function openRound(uint256 taskId, bytes32 testSetCommitment)
        external
        onlyPublisher(taskId)
        returns (uint256 round)
    {
        TaskState storage state = _states[taskId];
        if (state.closed) revert TaskIsClosed();
        if (_roundInProgress(taskId)) revert RoundInProgress();
        if (testSetCommitment == bytes32(0)) revert InvalidTestSetCommitment();
        TaskConfig storage config = _configs[taskId];

        round = state.roundCount++;
        RoundRecord storage r = _rounds[taskId][round];
        r.status = RoundStatus.Open;
        // Durations are at most 30 days each (checkConfig): 40-bit timestamps do not overflow.
        uint40 commitDeadline = uint40(block.timestamp + config.commitDuration);
        uint40 revealDeadline = commitDeadline + uint40(config.revealDuration);
        uint40 submitDeadline = revealDeadline + uint40(config.submitDuration);
        (r.commitDeadline, r.revealDeadline, r.submitDeadline) = (commitDeadline, revealDeadline, submitDeadline);
        // Words 1, 3 and 4 non-zero from here on: the first admission updates them instead of
        // creating them (the digest and the seed are stored XOR _MASK, so zero reads as _MASK).
        r.head = _END;
        (r.maskedDigest, r.maskedRandaoSeed) = (_MASK, _MASK);
        r.openedBlock = uint40(block.number);
        r.globalModelCID = state.globalModelCID;
        r.globalModelCommitment = state.globalModelCommitment;
        r.testSetCommitment = testSetCommitment;
        emit RoundOpened(
            taskId,
            round,
            r.globalModelCID,
            r.globalModelCommitment,
            testSetCommitment,
            commitDeadline,
            revealDeadline,
            submitDeadline
        );
    }

    /// @inheritdoc IZKPoT
    function commit(uint256 taskId, uint256 round, bytes32 commitment) external {
        RoundRecord storage r = _round(taskId, round);
        if (r.status != RoundStatus.Open || block.timestamp >= r.commitDeadline) revert CommitPhaseClosed();
        if (!_isAllowed(taskId, msg.sender)) revert NotAllowed();
        if (_keys[taskId][msg.sender] == bytes32(0)) revert NotJoined();
        if (commitment == bytes32(0)) revert InvalidCommitment();
        SubmissionRecord storage s = _submissions[taskId][round][msg.sender];
        if (s.committed) revert AlreadyCommitted();
        s.commitment = commitment;
        // The record's second word is paid for here, so the submission only updates it.
        s.committed = true;
        // Commit order breaks ties at a full round's lowest count (see {_rank}); it saturates
        // rather than wraps, so a flood of commits cannot hand a later one an early place.
        uint16 order = r.commits;
        s.commitOrder = order;
        if (order != type(uint16).max) r.commits = order + 1;
        emit ModelCommitted(taskId, round, msg.sender, commitment);
    }

    /// @inheritdoc IZKPoT
    function revealTestSet(
        uint256 taskId,
        uint256 round,
        string calldata testSetCID,
        bytes32[] calldata chunkCommitments,
        bytes32 salt
    ) external onlyPublisher(taskId) {
        RoundRecord storage r = _round(taskId, round);
        if (r.status != RoundStatus.Open || block.timestamp >= r.revealDeadline) revert RevealPhaseClosed();
        if (block.timestamp < r.commitDeadline) revert RevealTooEarly();
        if (chunkCommitments.length != _rules[taskId].chunksPerRound) revert WrongChunkCount();
        _checkCID(testSetCID);
        if (keccak256(abi.encode(testSetCID, chunkCommitments, salt)) != r.testSetCommitment) {
            revert TestSetMismatch();
        }
        r.status = RoundStatus.Revealed;
        r.testSetCID = testSetCID;
        for (uint256 i = 0; i < chunkCommitments.length; ++i) {
            r.chunkCommitments[i] = chunkCommitments[i];
        }
        emit TestSetRevealed(taskId, round, testSetCID, chunkCommitments);
    }

    /// @inheritdoc IZKPoT
    function checkSubmission(
        uint256 taskId,
        uint256 round,
        address participant,
        bytes[] calldata proofs,
        uint256[][] calldata instances,
        bytes32 salt
    ) external view returns (bool accepted, bytes4 reason, bytes32 modelCommitment, uint256 correct) {
        (reason, modelCommitment, correct,) = _checkSubmission(taskId, round, participant, proofs, instances, salt);
        accepted = reason == bytes4(0);
    }

    /// @inheritdoc IZKPoT
    function submit(
        uint256 taskId,
        uint256 round,
        bytes[] calldata proofs,
        uint256[][] calldata instances,
        bytes32 salt,
        string calldata proofCID
    ) external {
        _checkCID(proofCID);
        (bytes4 reason, bytes32 model, uint256 correct, Eviction memory evict) =
            _checkSubmission(taskId, round, msg.sender, proofs, instances, salt);
        if (reason == UnknownTask.selector) revert UnknownTask(taskId);
        if (reason != bytes4(0)) _revertWith(reason);
        _admit(taskId, round, model, correct, salt, evict);
        emit SubmissionVerified(taskId, round, msg.sender, model, correct, salt, proofCID);
    }

    /// @dev Links the sender at the head of the round's admitted list (after evicting
    ///      `evict.account` when the round is full) and folds it into the digest.
    function _admit(
        uint256 taskId,
        uint256 round,
        bytes32 model,
        uint256 correct,
        bytes32 salt,
        Eviction memory evict
    ) private {
        RoundRecord storage r = _rounds[taskId][round];
        mapping(address => SubmissionRecord) storage subs = _submissions[taskId][round];
        if (evict.account != address(0)) {
            _evict(taskId, round, r, subs, evict);
        } else {
            if (r.count == 0) r.maskedRandaoSeed = bytes32(block.prevrandao) ^ _MASK;
            ++r.count;
        }
        SubmissionRecord storage s = subs[msg.sender];
        s.commitment = model;
        s.verified = true;
        s.correct = uint32(correct);
        Admission.push(r, subs, msg.sender);
        _modelUsed[taskId][round][model] = true;
        r.maskedDigest = keccak256(abi.encode(r.maskedDigest ^ _MASK, msg.sender, model, correct, salt)) ^ _MASK;
    }

    /// @dev Unlinks `evict.account` from the round: it no longer counts for the leader and
    ///      its model commitment is free again (its salt stays folded in the digest).
    function _evict(
        uint256 taskId,
        uint256 round,
        RoundRecord storage r,
        mapping(address => SubmissionRecord) storage subs,
        Eviction memory evict
    ) private {
        Admission.unlink(r, subs, evict.account, evict.previous);
        SubmissionRecord storage s = subs[evict.account];
        s.verified = false;
        s.evicted = true;
        _modelUsed[taskId][round][s.commitment] = false;
        emit SubmissionEvicted(taskId, round, evict.account, s.correct, msg.sender);
    }

    /// @inheritdoc IZKPoT
    function selectLeader(uint256 taskId, uint256 round) external {
        RoundRecord storage r = _round(taskId, round);
        if (r.status == RoundStatus.Open) {
            // Unrevealed test set: nobody can submit, the round is over at the reveal deadline.
            if (block.timestamp < r.revealDeadline) revert SubmitPhaseNotOver();
            r.status = RoundStatus.ClosedEmpty;
            emit RoundClosedEmpty(taskId, round, false);
            return;
        }
        if (r.status != RoundStatus.Revealed) revert NotAwaitingLeader();
        if (block.timestamp < r.submitDeadline) revert SubmitPhaseNotOver();
        // Everything in the seed was fixed when the submit phase ended: the block that
        // carries this call (and its prevrandao) changes nothing.
        r.tieSeed = keccak256(abi.encode(r.maskedRandaoSeed ^ _MASK, r.maskedDigest ^ _MASK));
        _installNextLeader(taskId, round, r);
    }

    /// @inheritdoc IZKPoT
    function replaceLeader(uint256 taskId, uint256 round) external {
        RoundRecord storage r = _round(taskId, round);
        if (r.status != RoundStatus.LeaderSelected) revert NotAggregating();
        if (block.timestamp < r.aggregateDeadline) revert AggregatePhaseNotOver();
        address previous = r.leader;
        _submissions[taskId][round][previous].passedOver = true;
        emit LeaderPassedOver(taskId, round, previous);
        _installNextLeader(taskId, round, r);
    }

    /// @inheritdoc IZKPoT
    function handOffModel(uint256 taskId, uint256 round, string calldata encryptedModelCID) external {
        RoundRecord storage r = _aggregatingRound(taskId, round);
        SubmissionRecord storage s = _submissions[taskId][round][msg.sender];
        if (!s.verified) revert NotVerifiedParticipant();
        if (msg.sender == r.leader) revert LeaderCannotHandOff();
        // The first half of the leader's time. (Once every other admitted submitter handed
        // off, the leader may prove at once: a hand-off then only replaces a CID, never
        // changes the set the leader accounts for.)
        if (block.timestamp >= r.handOffDeadline) revert HandOffWindowClosed();
        _checkCID(encryptedModelCID);
        uint8 epoch = r.leaderEpoch;
        if (!s.handedOff || s.handoffEpoch != epoch) {
            (s.handedOff, s.handoffEpoch) = (true, epoch);
            ++r.handOffs;
        }
        emit ModelHandedOff(taskId, round, msg.sender, r.leader, encryptedModelCID);
    }

    /// @inheritdoc IZKPoT
    function publishGlobalModel(
        uint256 taskId,
        uint256 round,
        string calldata globalModelCID,
        address[] calldata included,
        bytes[] calldata proofs,
        uint256[][] calldata instances
    ) external {
        RoundRecord storage r = _aggregatingRound(taskId, round);
        if (msg.sender != r.leader) revert NotLeader();
        _checkCID(globalModelCID);
        if (included.length >= MAX_SUBMISSIONS_PER_ROUND) {
            revert TooManyIncluded(included.length, MAX_SUBMISSIONS_PER_ROUND - 1);
        }
        bool leaderModel = _rules[taskId].policy == AggregationPolicy.LEADER_MODEL;
        if (leaderModel) {
            if (included.length > 0) revert InclusionNotAllowed();
        } else {
            // FedAvg's list rules and its wait for the hand-off window live in the lens.
            _lens.checkIncluded(taskId, round, included);
        }
        (bytes32 model, uint256 correct) = _mustVerify(taskId, r, proofs, instances);
        if (leaderModel && model != _submissions[taskId][round][msg.sender].commitment) {
            revert GlobalModelMismatch();
        }
        _checkProven(taskId, round, included, model);
        // Under LEADER_MODEL the model is the leader's own, already in its record: not
        // stored twice ({_newModel} and the lens read it there).
        if (!leaderModel) r.newModelCommitment = model;
        _published(taskId, round, r, globalModelCID, included, model, correct);
    }

    /// @dev Records the publication (status and count in one word) and announces it.
    function _published(
        uint256 taskId,
        uint256 round,
        RoundRecord storage r,
        string calldata globalModelCID,
        address[] calldata included,
        bytes32 model,
        uint256 correct
    ) private {
        // One word with the status (a count fits 32 bits: at most 12 chunks of 2^28).
        (r.status, r.newGlobalCorrect) = (RoundStatus.Published, uint32(correct));
        // Nothing to store for an empty list (LEADER_MODEL): its length word stays zero.
        if (included.length > 0) r.included = included;
        r.newModelCID = globalModelCID;
        emit GlobalModelPublished(taskId, round, msg.sender, globalModelCID, model, correct, included);
    }

    /// @dev Proven aggregation: the leader's recorded proof of exactly this list and model;
    ///      availability: a Groth16 model was posted ({IZKPoTAvailability-checkAvailable}).
    function _checkProven(uint256 taskId, uint256 round, address[] calldata included, bytes32 model) private view {
        if (
            _rules[taskId].aggregationProven
                && _aggregation.provenAggregate(taskId, round, msg.sender) != keccak256(abi.encode(included, model))
        ) revert AggregationNotProven();
        // Readable from the chain alone: a Groth16 model's elements must have been posted.
        _availability.checkAvailable(_rules[taskId].verifier, model);
    }

    /// @inheritdoc IZKPoT
    function recordBaseline(uint256 taskId, uint256 round, bytes[] calldata proofs, uint256[][] calldata instances)
        external
    {
        RoundRecord storage r = _round(taskId, round);
        RoundStatus status = r.status;
        if (status != RoundStatus.Revealed && status != RoundStatus.LeaderSelected && status != RoundStatus.Published)
        {
            revert BaselinePhaseClosed();
        }
        if (msg.sender != _states[taskId].publisher && msg.sender != r.leader) revert NotBaselineProver();
        if (r.baselineProven) revert BaselineAlreadyRecorded();
        (bytes32 model, uint256 correct) = _mustVerify(taskId, r, proofs, instances);
        if (model != r.globalModelCommitment) revert BaselineModelMismatch();
        (r.baselineProven, r.baselineCorrect) = (true, uint32(correct));
        emit BaselineRecorded(taskId, round, msg.sender, correct);
    }

    /// @inheritdoc IZKPoT
    function finalise(uint256 taskId, uint256 round) external returns (bytes32 blockHash) {
        RoundRecord storage r = _round(taskId, round);
        if (r.status != RoundStatus.Published) revert NotPublished();
        bool rewarded = _rules[taskId].rewarded;
        if (rewarded && !r.baselineProven) revert BaselineNotProven();
        TaskState storage state = _states[taskId];
        bytes32 model = _newModel(taskId, round, r);

        BlockHeader memory header = BlockHeader({
            chainId: block.chainid,
            zkpot: address(this),
            taskId: taskId,
            round: round,
            prevBlockHash: state.lastBlockHash,
            leader: r.leader,
            globalModelCID: r.newModelCID,
            globalModelCommitment: model,
            globalCorrect: r.newGlobalCorrect,
            testSetCommitment: r.testSetCommitment,
            submissionsDigest: r.maskedDigest ^ _MASK,
            timestamp: block.timestamp
        });
        blockHash = keccak256(abi.encode(header));
        // The header's fields stay where they are (the round's record): the block keeps its round.
        _blocks[taskId][state.blockCount++] = round;
        state.lastBlockHash = blockHash;
        state.globalModelCID = r.newModelCID;
        state.globalModelCommitment = model;
        state.globalCorrect = r.newGlobalCorrect;
        r.blockHash = blockHash;
        (r.status, r.finalisedAt) = (RoundStatus.Finalised, uint40(block.timestamp));
        emit BlockFinalised(taskId, round, blockHash, header);
        if (rewarded) _allocate(taskId, round, r);
    }

    /// @dev The published model: under LEADER_MODEL the leader's own (checked equal at
    ///      publication and not stored twice), else the round's new model.
    function _newModel(uint256 taskId, uint256 round, RoundRecord storage r) private view returns (bytes32) {
        if (_rules[taskId].policy == AggregationPolicy.LEADER_MODEL) {
            return _submissions[taskId][round][r.leader].commitment;
        }
        return r.newModelCommitment;
    }

    /// @dev The earners are the leader, then every participant that handed its model off to
    ///      it inside the hand-off window, included or not (see {IZKPoTLens-earners}).
    function _allocate(uint256 taskId, uint256 round, RoundRecord storage r) private {
        (address[] memory earners, uint256[] memory corrects) = _lens.earners(taskId, round);
        _rewards.allocate(taskId, round, earners, corrects, r.newGlobalCorrect, r.baselineCorrect);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IZKPoT
    function rewards() external view returns (address) {
        return address(_rewards);
    }

    /// @inheritdoc IZKPoT
    function aggregation() external view returns (address) {
        return address(_aggregation);
    }

    /// @inheritdoc IZKPoT
    function lens() external view returns (address) {
        return address(_lens);
    }

    /// @inheritdoc IZKPoT
    function availability() external view returns (address) {
        return address(_availability);
    }

    /// @inheritdoc IZKPoT
    function taskCount() external view returns (uint256) {
        return _taskCount;
    }

    // ------------------------------------------------------------ internals

    function _requireTask(uint256 taskId) private view {
        if (taskId >= _taskCount) revert UnknownTask(taskId);
    }

    function _round(uint256 taskId, uint256 round) private view returns (RoundRecord storage r) {
        _requireTask(taskId);
        r = _rounds[taskId][round];
        if (r.status == RoundStatus.None) revert UnknownRound();
    }

    function _aggregatingRound(uint256 taskId, uint256 round) private view returns (RoundRecord storage r) {
        r = _round(taskId, round);
        if (r.status != RoundStatus.LeaderSelected) revert NotAggregating();
        if (block.timestamp >= r.aggregateDeadline) revert AggregatePhaseClosed();
    }

    function _isAllowed(uint256 taskId, address account) private view returns (bool) {
        return !_rules[taskId].allowlistEnabled || _allowed[taskId][account];
    }

    function _roundInProgress(uint256 taskId) private view returns (bool) {
        uint256 count = _states[taskId].roundCount;
        // slither-disable-next-line incorrect-equality a round count, not a balance: nobody can move it
        if (count == 0) return false;
        RoundStatus last = _rounds[taskId][count - 1].status;
        return last != RoundStatus.Finalised && last != RoundStatus.ClosedEmpty;
    }

    /// @dev The single definition of "acceptable submission": {submit} reverts with the
    ///      returned selector, {checkSubmission} reports it. Zero means accepted; `evict`
    ///      names the admitted submitter to evict (zero account: none).
    function _checkSubmission(
        uint256 taskId,
        uint256 round,
        address participant,
        bytes[] calldata proofs,
        uint256[][] calldata instances,
        bytes32 salt
    ) private view returns (bytes4 reason, bytes32 model, uint256 correct, Eviction memory evict) {
        reason = _checkSubmitter(taskId, round, participant);
        if (reason != bytes4(0)) return (reason, 0, 0, evict);
        (reason, model, correct) = _checkProofs(taskId, round, participant, proofs, instances, salt);
        if (reason != bytes4(0)) return (reason, model, correct, evict);
        (reason, evict) = _rank(taskId, round, participant, correct);
    }

    /// @dev The proofs verify against the round's chunks, open the sender's commitment with
    ///      a model not used yet this round, and count more than zero.
    function _checkProofs(
        uint256 taskId,
        uint256 round,
        address participant,
        bytes[] calldata proofs,
        uint256[][] calldata instances,
        bytes32 salt
    ) private view returns (bytes4 reason, bytes32 model, uint256 correct) {
        (reason, model, correct) = _verifyProofs(taskId, _rounds[taskId][round], participant, proofs, instances);
        if (reason != bytes4(0)) return (reason, 0, 0);
        reason = _checkOpening(taskId, round, participant, model, salt);
        if (reason == bytes4(0) && correct == 0) reason = ZeroCountSubmission.selector;
    }

    /// @dev Rank admission in a full round: a submission is admitted when it ranks above the
    ///      lowest admitted one, which it evicts. Rank: the higher count, then the earlier
    ///      commit (see {Admission-rank}); so an equal count committed earlier than the
    ///      latest-committed of the lowest evicts that one, and accounts committed later
    ///      cannot push an equal earlier one out.
    function _rank(uint256 taskId, uint256 round, address participant, uint256 correct)
        private
        view
        returns (bytes4, Eviction memory evict)
    {
        RoundRecord storage r = _rounds[taskId][round];
        if (r.count < _rules[taskId].maxSubmissions) return (bytes4(0), evict);
        uint256 lowest;
        (evict.account, evict.previous, lowest) = _lens.lowestAdmitted(taskId, round);
        if (Admission.rank(correct, _submissions[taskId][round][participant].commitOrder) <= lowest) {
            return (ScoreNotAboveLowest.selector, Eviction(address(0), address(0)));
        }
        return (bytes4(0), evict);
    }

    function _checkSubmitter(uint256 taskId, uint256 round, address participant) private view returns (bytes4) {
        RoundRecord storage r = _rounds[taskId][round];
        // A round exists only in a task that exists: the task count is read only when it does not.
        if (r.status == RoundStatus.None) return taskId >= _taskCount ? UnknownTask.selector : UnknownRound.selector;
        if (r.status != RoundStatus.Revealed || block.timestamp >= r.submitDeadline) {
            return SubmitPhaseClosed.selector;
        }
        // The allowlist may have changed since the commit.
        if (!_isAllowed(taskId, participant)) return NotAllowed.selector;
        SubmissionRecord storage s = _submissions[taskId][round][participant];
        if (!s.committed) return NoCommitment.selector;
        if (s.verified || s.evicted) return AlreadySubmitted.selector;
        return bytes4(0);
    }

    function _checkOpening(uint256 taskId, uint256 round, address participant, bytes32 model, bytes32 salt)
        private
        view
        returns (bytes4)
    {
        // The commitment names the sender: a proof lifted from the mempool fails here.
        if (
            keccak256(abi.encode(taskId, round, participant, model, salt))
                != _submissions[taskId][round][participant].commitment
        ) {
            return CommitmentMismatch.selector;
        }
        if (_modelUsed[taskId][round][model]) return ModelAlreadySubmitted.selector;
        return bytes4(0);
    }

    /// @dev Verifies proof i against chunk i; all proofs must carry one model commitment,
    ///      and a proof bound to a submitter (non-zero) must be bound to `prover`.
    function _verifyProofs(
        uint256 taskId,
        RoundRecord storage r,
        address prover,
        bytes[] calldata proofs,
        uint256[][] calldata instances
    ) private view returns (bytes4, bytes32 model, uint256 correct) {
        TaskRules storage rules = _rules[taskId];
        (IAccuracyVerifier verifier, uint256 n) = (rules.verifier, rules.chunksPerRound);
        if (proofs.length != n || instances.length != n) return (ProofCountMismatch.selector, 0, 0);
        for (uint256 i = 0; i < n; ++i) {
            (bool valid, IAccuracyVerifier.Statement memory st) = _verifyOne(verifier, proofs[i], instances[i]);
            if (!valid) return (InvalidProof.selector, 0, 0);
            if (st.submitter != address(0) && st.submitter != prover) return (SubmitterMismatch.selector, 0, 0);
            if (st.testSetCommitment != r.chunkCommitments[i]) return (ChunkMismatch.selector, 0, 0);
            if (i == 0) model = st.modelCommitment;
            else if (st.modelCommitment != model) return (MixedModelCommitments.selector, 0, 0);
            // A count is stored in 32 bits; no honest verifier comes near (12 chunks of 2^28 samples).
            if (st.correct > _MAX_CHUNK_COUNT) return (InvalidProof.selector, 0, 0);
            correct += st.correct;
        }
        return (bytes4(0), model, correct);
    }

    /// @dev {_verifyProofs} against the round's chunks, reverting with the reason.
    function _mustVerify(
        uint256 taskId,
        RoundRecord storage r,
        bytes[] calldata proofs,
        uint256[][] calldata instances
    ) private view returns (bytes32 model, uint256 correct) {
        bytes4 reason;
        (reason, model, correct) = _verifyProofs(taskId, r, msg.sender, proofs, instances);
        if (reason != bytes4(0)) _revertWith(reason);
    }

    function _verifyOne(IAccuracyVerifier verifier, bytes calldata proof, uint256[] calldata instances)
        private
        view
        returns (bool, IAccuracyVerifier.Statement memory)
    {
        // A reverting verifier is treated as a rejection, never as a stuck round.
        try verifier.verifyAccuracy(proof, instances) returns (bool valid, IAccuracyVerifier.Statement memory st) {
            return (valid, st);
        } catch {
            return (false, IAccuracyVerifier.Statement(0, 0, 0, address(0)));
        }
    }

    /// @dev Makes the best not-passed-over admitted submitter leader, or closes the round
    ///      empty. Order: higher correct first; equal correct -> higher keccak(tieSeed, address).
    function _installNextLeader(uint256 taskId, uint256 round, RoundRecord storage r) private {
        (address best, uint256 bestCorrect) = _lens.nextLeader(taskId, round);
        if (best == address(0)) {
            r.status = RoundStatus.ClosedEmpty;
            r.leader = address(0);
            emit RoundClosedEmpty(taskId, round, true);
            return;
        }
        uint64 duration = _configs[taskId].aggregateDuration;
        uint64 deadline = uint64(block.timestamp) + duration;
        // Hand-offs are open for the first half of the leader's time; the leader cannot
        // shorten it (it closes early only once every other admitted submitter handed off).
        uint40 handOffDeadline = uint40(block.timestamp + duration / 2);
        r.status = RoundStatus.LeaderSelected;
        r.leader = best;
        r.handOffDeadline = handOffDeadline;
        r.aggregateDeadline = deadline;
        // A new leader starts with no hand-offs: those to a passed-over leader no longer count.
        ++r.leaderEpoch;
        r.handOffs = 0;
        emit LeaderSelected(taskId, round, best, bestCorrect, deadline, handOffDeadline);
    }

    function _revertWith(bytes4 selector) private pure {
        assembly {
            mstore(0, selector)
            revert(0, 4)
        }
    }
}
