// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.20;

import {IAccuracyVerifier} from "./interfaces/IAccuracyVerifier.sol";
import {IAggregationVerifier} from "./interfaces/IAggregationVerifier.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IExtsload} from "./interfaces/IExtsload.sol";
import {IZKPoT} from "./interfaces/IZKPoT.sol";
import {IZKPoTLens} from "./interfaces/IZKPoTLens.sol";
import {ZKPoTStorage} from "./ZKPoTStorage.sol";

/// @title ZKPoTLens
/// @notice {IZKPoTLens}: the consensus contract's records decoded from its raw storage.
/// @dev Inherits {ZKPoTStorage} only to let the compiler compute mapping slots; its own
///      copy of those variables is never written. Struct field offsets (word index, bit
///      shift) follow the declarations in {IZKPoT}; the contract tests read every field
///      back after the action that wrote it.
contract ZKPoTLens is IZKPoTLens, ZKPoTStorage {
    IExtsload private immutable _core;

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
        (uint256 base, bytes32[] memory w) = _roundWords(taskId, round, 20);
        uint256 x = uint256(w[0]);
        r.status = IZKPoT.RoundStatus(uint8(x));
        (r.commitDeadline, r.revealDeadline, r.submitDeadline) = (uint64(x >> 8), uint64(x >> 72), uint64(x >> 136));
        r.aggregateDeadline = uint64(uint256(w[1]));
        r.globalModelCID = _string(base + 2);
        r.globalModelCommitment = w[3];
        (r.baselineProven, r.baselineCorrect) = (uint8(uint256(w[4])) != 0, uint256(w[5]));
        r.testSetCommitment = w[6];
        r.testSetCID = _string(base + 7);
        r.chunkCommitments = _words(base + 8);
        r.submitters = _addresses(base + 9);
        (r.submissionsDigest, r.randaoSeed, r.saltMix, r.tieSeed) = (w[10], w[11], w[12], w[13]);
        r.leader = _address(w[14], 0);
        r.included = _addresses(base + 15);
        r.newModelCID = _string(base + 16);
        (r.newModelCommitment, r.newGlobalCorrect, r.blockHash) = (w[17], uint256(w[18]), w[19]);
    }

    /// @inheritdoc IZKPoTLens
    function getSubmission(uint256 taskId, uint256 round, address participant)
        external
        view
        returns (IZKPoT.Submission memory s)
    {
        _roundWords(taskId, round, 1);
        uint256 base = _submissionSlot(taskId, round, participant);
        bytes32[] memory w = _core.extsload(bytes32(base), 8);
        (s.commitment, s.modelCommitment, s.correct) = (w[0], w[1], uint256(w[2]));
        uint256 flags = uint256(w[3]);
        (s.verified, s.evicted, s.passedOver) = (uint8(flags) != 0, uint8(flags >> 8) != 0, uint8(flags >> 16) != 0);
        s.salt = w[4];
        s.proofCID = _string(base + 5);
        s.handoffLeader = _address(w[6], 0);
        s.encryptedModelCID = _string(base + 7);
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
        IZKPoT.BlockHeader storage p = _blocks[taskId][index];
        uint256 base;
        assembly ("memory-safe") {
            base := p.slot
        }
        bytes32[] memory w = _core.extsload(bytes32(base), 12);
        (h.chainId, h.zkpot, h.taskId, h.round) = (uint256(w[0]), _address(w[1], 0), uint256(w[2]), uint256(w[3]));
        (h.prevBlockHash, h.leader) = (w[4], _address(w[5], 0));
        h.globalModelCID = _string(base + 6);
        (h.globalModelCommitment, h.globalCorrect, h.testSetCommitment) = (w[7], uint256(w[8]), w[9]);
        (h.submissionsDigest, h.timestamp) = (w[10], uint256(w[11]));
        blockHash = keccak256(abi.encode(h));
    }

    /// @inheritdoc IZKPoTLens
    function aggregationView(uint256 taskId, uint256 round, address[] calldata accounts)
        external
        view
        returns (AggregationView memory v)
    {
        (uint256 base, bytes32[] memory w) = _roundWords(taskId, round, 2);
        v.aggregationVerifier = _address(_core.extsload(bytes32(_configSlot(taskId) + 3)), 40);
        v.leader = _address(_core.extsload(bytes32(base + 14)), 0);
        v.aggregating = uint8(uint256(w[0])) == uint8(IZKPoT.RoundStatus.LeaderSelected)
            && block.timestamp < uint64(uint256(w[1]));
        HandOff memory own = _handOff(taskId, round, v.leader, v.leader);
        (v.leaderModel, v.leaderCorrect) = (own.modelCommitment, own.correct);
        v.accounts = new HandOff[](accounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            v.accounts[i] = _handOff(taskId, round, accounts[i], v.leader);
        }
        address[] memory submitters = _addresses(base + 9);
        for (uint256 i = 0; i < submitters.length; ++i) {
            if (submitters[i] != v.leader && _handOff(taskId, round, submitters[i], v.leader).handedOff) {
                ++v.handOffs;
            }
        }
    }

    // ------------------------------------------------------------ internals

    function _handOff(uint256 taskId, uint256 round, address account, address leader)
        private
        view
        returns (HandOff memory h)
    {
        bytes32[] memory w = _core.extsload(bytes32(_submissionSlot(taskId, round, account)), 7);
        (h.modelCommitment, h.correct) = (w[1], uint256(w[2]));
        h.handedOff = uint8(uint256(w[3])) != 0 && _address(w[6], 0) == leader;
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
        IZKPoT.Round storage p = _rounds[taskId][round];
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
        IZKPoT.Submission storage p = _submissions[taskId][round][account];
        assembly ("memory-safe") {
            base := p.slot
        }
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
