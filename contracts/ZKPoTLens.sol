// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.20;

import {IAccuracyVerifier} from "./interfaces/IAccuracyVerifier.sol";
import {IAggregationVerifier} from "./interfaces/IAggregationVerifier.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IExtsload} from "./interfaces/IExtsload.sol";
import {IZKPoT} from "./interfaces/IZKPoT.sol";
import {IZKPoTLens} from "./interfaces/IZKPoTLens.sol";
import {ZKPoTStorage} from "./ZKPoTStorage.sol";
import {Admission} from "./libraries/Admission.sol";
import {Leadership} from "./libraries/Leadership.sol";
import {RoundWords} from "./libraries/RoundWords.sol";

/// @title ZKPoTLens
/// @notice {IZKPoTLens}: the consensus contract's records decoded from its raw storage.
/// @dev Inherits {ZKPoTStorage} only to let the compiler compute mapping slots; its own
///      copy of those variables is never written. Word and bit offsets follow the records
///      in {ZKPoTStorage} (TaskConfig, TaskState, BlockHeader: the {IZKPoT} structs); the
///      contract tests read every field back after the action that wrote it.
contract ZKPoTLens is IZKPoTLens, ZKPoTStorage {
    IExtsload private immutable _core;
    // The consensus contract's limits (ZKPoT's public constants of the same names).
    uint256 private constant _MAX_SUBMISSIONS_PER_ROUND = 64;
    uint256 private constant _MAX_CHUNKS_PER_ROUND = 12;
    uint256 private constant _MAX_PHASE_DURATION = 30 days;
    uint256 private constant _MAX_ROUND_DURATION = 60 days;
    uint256 private constant _MAX_CID_BYTES = 128;

    constructor() {
        _core = IExtsload(msg.sender);
    }

    /// @inheritdoc IZKPoTLens
    function zkpot() external view returns (address) {
        return address(_core);
    }

    /// @inheritdoc IZKPoTLens
    function taskConfig(uint256 taskId) external view returns (IZKPoT.TaskConfig memory c) {
        _requireTask(taskId);
        uint256 base = _configSlot(taskId);
        bytes32[] memory w = _core.extsload(bytes32(base), 12);
        c.circuitId = w[0];
        c.verifier = IAccuracyVerifier(_address(w[1], 0));
        c.vkDigest = w[2];
        uint256 x = uint256(w[3]);
        c.chunksPerRound = uint32(x);
        c.policy = IZKPoT.AggregationPolicy(uint8(x >> 32));
        c.aggregationVerifier = IAggregationVerifier(_address(w[3], 40));
        x = uint256(w[4]);
        (c.commitDuration, c.revealDuration) = (uint64(x), uint64(x >> 64));
        (c.submitDuration, c.aggregateDuration) = (uint64(x >> 128), uint64(x >> 192));
        c.allowlistEnabled = uint8(uint256(w[5])) != 0;
        c.rewardToken = IERC20(_address(w[5], 8));
        (c.rewardPool, c.rewardPerRound) = (uint256(w[6]), uint256(w[7]));
        (c.leaderShareBps, c.maxSubmissions) = (uint16(uint256(w[8])), uint16(uint256(w[8]) >> 16));
        c.specCID = _string(base + 9);
        c.initialModelCID = _string(base + 10);
        c.initialModelCommitment = w[11];
    }

    /// @inheritdoc IZKPoTLens
    function taskState(uint256 taskId) external view returns (IZKPoT.TaskState memory s) {
        _requireTask(taskId);
        IZKPoT.TaskState storage p = _states[taskId];
        uint256 base;
        assembly ("memory-safe") {
            base := p.slot
        }
        bytes32[] memory w = _core.extsload(bytes32(base), 8);
        s.publisher = _address(w[0], 0);
        s.closed = uint8(uint256(w[0]) >> 160) != 0;
        (s.samplesPerProof, s.roundCount, s.blockCount) = (uint256(w[1]), uint256(w[2]), uint256(w[3]));
        s.globalModelCID = _string(base + 4);
        (s.globalModelCommitment, s.globalCorrect, s.lastBlockHash) = (w[5], uint256(w[6]), w[7]);
    }

    /// @inheritdoc IZKPoTLens
    function getRound(uint256 taskId, uint256 round) external view returns (IZKPoT.Round memory r) {
        (uint256 base, bytes32[] memory w) = _roundWords(taskId, round, 10);
        uint256 x = uint256(w[0]);
        r.status = IZKPoT.RoundStatus(uint8(x));
        (r.commitDeadline, r.revealDeadline, r.submitDeadline) = (uint40(x >> 8), uint40(x >> 48), uint40(x >> 88));
        r.baselineProven = uint8(x >> 128) != 0;
        (r.newGlobalCorrect, r.baselineCorrect) = (uint32(x >> 152), uint32(x >> 184));
        r.aggregateDeadline = uint64(uint256(w[1]) >> 160);
        r.handOffs = uint8(uint256(w[1]) >> 240);
        (r.leader, r.openedBlock) = (_address(w[2], 0), uint40(uint256(w[2]) >> 160));
        r.handOffDeadline = uint40(uint256(w[2]) >> 200);
        (r.submissionsDigest, r.randaoSeed, r.tieSeed) = (w[3] ^ _MASK, w[4] ^ _MASK, w[5]);
        (r.globalModelCommitment, r.testSetCommitment) = (w[6], w[7]);
        r.blockHash = w[9];
        r.globalModelCID = _string(base + 10);
        r.testSetCID = _string(base + 11);
        r.newModelCID = _string(base + 12);
        r.included = _addresses(base + 13);
        if (r.status != IZKPoT.RoundStatus.Open) {
            uint256 chunks = uint8(uint256(_core.extsload(bytes32(_rulesSlot(taskId)))) >> 160);
            r.chunkCommitments = _core.extsload(bytes32(base + 14), chunks);
        }
        r.submitters = _submitters(taskId, round, _address(w[1], 0));
        r.newModelCommitment = _newModel(taskId, round, w);
    }

    /// @inheritdoc IZKPoTLens
    function getSubmission(uint256 taskId, uint256 round, address participant)
        external
        view
        returns (IZKPoT.Submission memory s)
    {
        (, bytes32[] memory w) = _roundWords(taskId, round, 3);
        bytes32[] memory own = _core.extsload(bytes32(_submissionSlot(taskId, round, participant)), 2);
        uint256 x = uint256(own[1]);
        (s.verified, s.evicted, s.passedOver) = (uint8(x >> 8) != 0, uint8(x >> 16) != 0, uint8(x >> 24) != 0);
        // Word 0 holds the commitment until the submission, the model commitment after it.
        if (s.verified || s.evicted) s.modelCommitment = own[0];
        else s.commitment = own[0];
        s.correct = uint32(x >> 48);
        if (RoundWords.handedOffTo(x, w)) s.handoffLeader = _address(w[2], 0);
    }

    /// @inheritdoc IZKPoTLens
    function getBlock(uint256 taskId, uint256 index)
        external
        view
        returns (IZKPoT.BlockHeader memory h, bytes32 blockHash)
    {
        _requireTask(taskId);
        IZKPoT.TaskState storage state = _states[taskId];
        uint256 stateBase;
        assembly ("memory-safe") {
            stateBase := state.slot
        }
        if (index >= uint256(_core.extsload(bytes32(stateBase + 3)))) revert IZKPoT.UnknownBlock(index);
        // A block is its round's record at finalisation (see ZKPoTStorage._blocks).
        (h.chainId, h.zkpot, h.taskId, h.round) = (block.chainid, address(_core), taskId, _blockRound(taskId, index));
        if (index > 0) h.prevBlockHash = _roundWord(taskId, _blockRound(taskId, index - 1), 9);
        (uint256 base, bytes32[] memory w) = _roundWords(taskId, h.round, 10);
        uint256 x = uint256(w[0]);
        h.leader = _address(w[2], 0);
        h.globalModelCID = _string(base + 12);
        (h.globalModelCommitment, h.globalCorrect) = (_newModel(taskId, h.round, w), uint32(x >> 152));
        (h.testSetCommitment, h.submissionsDigest, h.timestamp) = (w[7], w[3] ^ _MASK, uint40(x >> 216));
        blockHash = keccak256(abi.encode(h));
    }

    /// @inheritdoc IZKPoTLens
    function checkConfig(IZKPoT.TaskConfig calldata config, address[] calldata) external view {
        address verifier = address(config.verifier);
        if (verifier == address(0) || verifier.code.length == 0) revert IZKPoT.InvalidVerifier();
        if (config.verifier.circuitId() != config.circuitId) revert IZKPoT.CircuitMismatch();
        bytes32 digest = config.verifier.vkDigest();
        if (digest != config.vkDigest) revert IZKPoT.VkDigestMismatch(digest, config.vkDigest);
        IAggregationVerifier aggregator = config.aggregationVerifier;
        if (
            address(aggregator) != address(0)
                && (config.policy != IZKPoT.AggregationPolicy.FEDAVG || aggregator.accuracyCircuitId() != config.circuitId)
        ) revert IZKPoT.AggregationVerifierMismatch();
        if (config.chunksPerRound == 0) revert IZKPoT.InvalidChunkCount();
        if (config.chunksPerRound > _MAX_CHUNKS_PER_ROUND) {
            revert IZKPoT.TooManyChunks(config.chunksPerRound, _MAX_CHUNKS_PER_ROUND);
        }
        uint64[4] memory durations =
            [config.commitDuration, config.revealDuration, config.submitDuration, config.aggregateDuration];
        uint256 total = 0;
        for (uint256 i = 0; i < 4; ++i) {
            if (durations[i] == 0) revert IZKPoT.InvalidPhaseDuration();
            if (durations[i] > _MAX_PHASE_DURATION) revert IZKPoT.PhaseDurationTooLong(durations[i], _MAX_PHASE_DURATION);
            total += durations[i];
        }
        if (total > _MAX_ROUND_DURATION) revert IZKPoT.RoundDurationTooLong(total, _MAX_ROUND_DURATION);
        if (config.leaderShareBps > 10_000) revert IZKPoT.InvalidLeaderShare();
        if (config.maxSubmissions == 0 || config.maxSubmissions > _MAX_SUBMISSIONS_PER_ROUND) {
            revert IZKPoT.InvalidSubmissionLimit();
        }
        bool hasToken = address(config.rewardToken) != address(0);
        if (hasToken != (config.rewardPool > 0) || hasToken != (config.rewardPerRound > 0)) {
            revert IZKPoT.InvalidRewardConfig();
        }
        if (config.initialModelCommitment == bytes32(0)) revert IZKPoT.InvalidModelCommitment();
        _checkCID(config.initialModelCID);
        _checkCID(config.specCID);
    }

    /// @inheritdoc IZKPoTLens
    function phaseOf(uint256 taskId, uint256 round) external view returns (IZKPoT.Phase) {
        _requireTask(taskId);
        RoundRecord storage p = _rounds[taskId][round];
        uint256 base;
        assembly ("memory-safe") {
            base := p.slot
        }
        bytes32[] memory w = _core.extsload(bytes32(base), 2);
        uint256 x = uint256(w[0]);
        IZKPoT.RoundStatus status = IZKPoT.RoundStatus(uint8(x));
        uint256 t = block.timestamp;
        if (status == IZKPoT.RoundStatus.None) return IZKPoT.Phase.None;
        if (status == IZKPoT.RoundStatus.Open) {
            if (t < uint40(x >> 8)) return IZKPoT.Phase.Commit;
            if (t < uint40(x >> 48)) return IZKPoT.Phase.Reveal;
            return IZKPoT.Phase.LeaderSelection;
        }
        if (status == IZKPoT.RoundStatus.Revealed) {
            return t < uint40(x >> 88) ? IZKPoT.Phase.Submit : IZKPoT.Phase.LeaderSelection;
        }
        if (status == IZKPoT.RoundStatus.LeaderSelected) {
            return t < uint64(uint256(w[1]) >> 160) ? IZKPoT.Phase.Aggregate : IZKPoT.Phase.LeaderExpired;
        }
        if (status == IZKPoT.RoundStatus.Published) return IZKPoT.Phase.Published;
        if (status == IZKPoT.RoundStatus.Finalised) return IZKPoT.Phase.Finalised;
        return IZKPoT.Phase.ClosedEmpty;
    }

    /// @inheritdoc IZKPoTLens
    function participantKey(uint256 taskId, address account)
        external
        view
        returns (bool joined, bytes32 encryptionPublicKey)
    {
        _requireTask(taskId);
        mapping(address => bytes32) storage keys = _keys[taskId];
        encryptionPublicKey = _core.extsload(_entry(keys, account));
        joined = encryptionPublicKey != bytes32(0);
    }

    /// @inheritdoc IZKPoTLens
    function isAllowed(uint256 taskId, address account) external view returns (bool) {
        _requireTask(taskId);
        if (uint8(uint256(_core.extsload(bytes32(_rulesSlot(taskId)))) >> 176) == 0) return true;
        mapping(address => bool) storage allowed = _allowed[taskId];
        uint256 slot;
        assembly ("memory-safe") {
            slot := allowed.slot
        }
        return _core.extsload(keccak256(abi.encode(account, slot))) != bytes32(0);
    }

    /// @inheritdoc IZKPoTLens
    function handOffsOpen(uint256 taskId, uint256 round) external view returns (bool) {
        (, bytes32[] memory w) = _roundWords(taskId, round, 3);
        return RoundWords.handOffsOpen(w);
    }

    /// @inheritdoc IZKPoTLens
    function checkIncluded(uint256 taskId, uint256 round, address[] calldata included) external view {
        (, bytes32[] memory w) = _roundWords(taskId, round, 3);
        if (_policy(taskId) == IZKPoT.AggregationPolicy.LEADER_MODEL) {
            if (included.length > 0) revert IZKPoT.InclusionNotAllowed();
            return;
        }
        // FedAvg waits for the hand-off window: every participant had its chance to hand off.
        if (RoundWords.handOffsOpen(w)) revert IZKPoT.HandOffsOpen();
        address previous = address(0);
        for (uint256 i = 0; i < included.length; ++i) {
            address a = included[i];
            if (a <= previous) revert IZKPoT.IncludedNotAscending();
            if (!RoundWords.handedOffTo(_word1(taskId, round, a), w)) revert IZKPoT.NotHandedOff(a);
            previous = a;
        }
    }

    /// @inheritdoc IZKPoTLens
    function earners(uint256 taskId, uint256 round)
        external
        view
        returns (address[] memory accounts, uint256[] memory corrects)
    {
        (, bytes32[] memory w) = _roundWords(taskId, round, 3);
        address leader = _address(w[2], 0);
        // Under LEADER_MODEL nothing is handed off for use: the leader alone earns.
        bool fedAvg = _policy(taskId) == IZKPoT.AggregationPolicy.FEDAVG;
        accounts = new address[](_MAX_SUBMISSIONS_PER_ROUND);
        corrects = new uint256[](_MAX_SUBMISSIONS_PER_ROUND);
        accounts[0] = leader;
        uint256 n = 1;
        for (address a = _address(w[1], 0); a != _END && a != address(0);) {
            uint256 x = _word1(taskId, round, a);
            if (a == leader) {
                corrects[0] = uint32(x >> 48);
            } else if (fedAvg && RoundWords.handedOffTo(x, w)) {
                (accounts[n], corrects[n]) = (a, uint32(x >> 48));
                ++n;
            }
            a = address(uint160(x >> 80));
        }
        assembly ("memory-safe") {
            mstore(accounts, n)
            mstore(corrects, n)
        }
    }

    /// @inheritdoc IZKPoTLens
    function nextLeader(uint256 taskId, uint256 round) external view returns (address leader, uint256 count) {
        (, bytes32[] memory w) = _roundWords(taskId, round, 6);
        bytes32 seed = w[5];
        uint256 bestKey = 0;
        for (address a = _address(w[1], 0); a != _END && a != address(0);) {
            uint256 x = _word1(taskId, round, a);
            if (uint8(x >> 24) == 0) {
                // not passed over
                (uint256 correct, uint256 key) = (uint32(x >> 48), Leadership.tieKey(seed, a));
                if (leader == address(0) || correct > count || (correct == count && key > bestKey)) {
                    (leader, count, bestKey) = (a, correct, key);
                }
            }
            a = address(uint160(x >> 80));
        }
    }

    /// @inheritdoc IZKPoTLens
    function lowestAdmitted(uint256 taskId, uint256 round)
        external
        view
        returns (address account, address previous, uint256 rank)
    {
        (, bytes32[] memory w) = _roundWords(taskId, round, 2);
        rank = type(uint256).max;
        address before = address(0);
        for (address a = _address(w[1], 0); a != _END && a != address(0);) {
            uint256 x = _word1(taskId, round, a);
            uint256 k = Admission.rank(uint32(x >> 48), uint16(x >> 240));
            if (k < rank) (rank, account, previous) = (k, a, before);
            before = a;
            a = address(uint160(x >> 80));
        }
    }

    // ------------------------------------------------------------ internals

    /// @dev The round's published model (zero before publication): under LEADER_MODEL the
    ///      leader's own, kept in its submission record only; else round word 8.
    function _newModel(uint256 taskId, uint256 round, bytes32[] memory w) private view returns (bytes32) {
        uint8 status = uint8(uint256(w[0]));
        if (
            (status == uint8(IZKPoT.RoundStatus.Published) || status == uint8(IZKPoT.RoundStatus.Finalised))
                && _policy(taskId) == IZKPoT.AggregationPolicy.LEADER_MODEL
        ) return _core.extsload(bytes32(_submissionSlot(taskId, round, _address(w[2], 0))));
        return w[8];
    }

    /// @dev The round block `index` of a task finalised.
    function _blockRound(uint256 taskId, uint256 index) private view returns (uint256) {
        mapping(uint256 => uint256) storage blocks = _blocks[taskId];
        uint256 slot;
        assembly ("memory-safe") {
            slot := blocks.slot
        }
        return uint256(_core.extsload(keccak256(abi.encode(index, slot))));
    }

    /// @dev Word `i` of a round's record.
    function _roundWord(uint256 taskId, uint256 round, uint256 i) private view returns (bytes32) {
        RoundRecord storage p = _rounds[taskId][round];
        uint256 base;
        assembly ("memory-safe") {
            base := p.slot
        }
        return _core.extsload(bytes32(base + i));
    }

    function _policy(uint256 taskId) private view returns (IZKPoT.AggregationPolicy) {
        return IZKPoT.AggregationPolicy(uint8(uint256(_core.extsload(bytes32(_rulesSlot(taskId)))) >> 184));
    }

    /// @dev Word 1 of `account`'s submission record (flags, count, next link, commit order).
    function _word1(uint256 taskId, uint256 round, address account) private view returns (uint256) {
        return uint256(_core.extsload(bytes32(_submissionSlot(taskId, round, account) + 1)));
    }

    /// @dev The admitted list, walked from `head` through each record's `next` link.
    function _submitters(uint256 taskId, uint256 round, address head) private view returns (address[] memory out) {
        out = new address[](64);
        uint256 n = 0;
        for (address a = head; a != _END && a != address(0); ++n) {
            out[n] = a;
            a = address(uint160(uint256(_core.extsload(bytes32(_submissionSlot(taskId, round, a) + 1))) >> 80));
        }
        assembly ("memory-safe") {
            mstore(out, n)
        }
    }

    /// @dev Slot of `map[account]`: keccak256(account . slot of the mapping).
    function _entry(mapping(address => bytes32) storage map, address account) private pure returns (bytes32) {
        uint256 slot;
        assembly ("memory-safe") {
            slot := map.slot
        }
        return keccak256(abi.encode(account, slot));
    }

    function _rulesSlot(uint256 taskId) private view returns (uint256 slot) {
        TaskRules storage p = _rules[taskId];
        assembly ("memory-safe") {
            slot := p.slot
        }
    }

    function _requireTask(uint256 taskId) private view {
        uint256 slot;
        assembly ("memory-safe") {
            slot := _taskCount.slot
        }
        if (taskId >= uint256(_core.extsload(bytes32(slot)))) revert IZKPoT.UnknownTask(taskId);
    }

    /// @dev The round's base slot and its first `n` words; reverts for an unknown task or round.
    function _roundWords(uint256 taskId, uint256 round, uint256 n)
        private
        view
        returns (uint256 base, bytes32[] memory w)
    {
        _requireTask(taskId);
        RoundRecord storage p = _rounds[taskId][round];
        assembly ("memory-safe") {
            base := p.slot
        }
        w = _core.extsload(bytes32(base), n);
        if (uint8(uint256(w[0])) == uint8(IZKPoT.RoundStatus.None)) revert IZKPoT.UnknownRound();
    }

    function _configSlot(uint256 taskId) private view returns (uint256 base) {
        IZKPoT.TaskConfig storage p = _configs[taskId];
        assembly ("memory-safe") {
            base := p.slot
        }
    }

    function _submissionSlot(uint256 taskId, uint256 round, address account) private view returns (uint256 base) {
        SubmissionRecord storage p = _submissions[taskId][round][account];
        assembly ("memory-safe") {
            base := p.slot
        }
    }

    function _checkCID(string calldata cid) private pure {
        uint256 length = bytes(cid).length;
        if (length == 0) revert IZKPoT.EmptyCID();
        if (length > _MAX_CID_BYTES) revert IZKPoT.CIDTooLong(length, _MAX_CID_BYTES);
    }

    function _address(bytes32 word, uint256 shift) private pure returns (address) {
        return address(uint160(uint256(word) >> shift));
    }

    /// @dev A storage `string` at `slot`: short (< 32 bytes) inline with length * 2 in the
    ///      lowest byte, long as length * 2 + 1 with the data from keccak256(slot).
    function _string(uint256 slot) private view returns (string memory) {
        uint256 v = uint256(_core.extsload(bytes32(slot)));
        if (v & 1 == 0) {
            bytes memory short = new bytes((v & 0xff) >> 1);
            if (short.length > 0) {
                assembly ("memory-safe") {
                    mstore(add(short, 0x20), and(v, not(0xff)))
                }
            }
            return string(short);
        }
        uint256 length = v >> 1;
        bytes32[] memory data = _core.extsload(keccak256(abi.encode(slot)), (length + 31) >> 5);
        bytes memory out = new bytes(length);
        for (uint256 i = 0; i < data.length; ++i) {
            bytes32 word = data[i];
            assembly ("memory-safe") {
                mstore(add(add(out, 0x20), shl(5, i)), word)
            }
        }
        return string(out);
    }

    /// @dev A storage `bytes32[]` at `slot`: its length there, its elements from keccak256(slot).
    function _words(uint256 slot) private view returns (bytes32[] memory) {
        uint256 length = uint256(_core.extsload(bytes32(slot)));
        return _core.extsload(keccak256(abi.encode(slot)), length);
    }

    /// @dev A storage `address[]` at `slot` (one address per word).
    function _addresses(uint256 slot) private view returns (address[] memory out) {
        bytes32[] memory words = _words(slot);
        out = new address[](words.length);
        for (uint256 i = 0; i < words.length; ++i) {
            out[i] = address(uint160(uint256(words[i])));
        }
    }
}
