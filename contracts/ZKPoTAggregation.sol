// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.20;

import {IAggregationVerifier} from "./interfaces/IAggregationVerifier.sol";
import {IZKPoTAggregation} from "./interfaces/IZKPoTAggregation.sol";
import {IExtsload} from "./interfaces/IExtsload.sol";
import {IZKPoT} from "./interfaces/IZKPoT.sol";
import {ZKPoTStorage} from "./ZKPoTStorage.sol";
import {RoundWords} from "./libraries/RoundWords.sol";

/// @title ZKPoTAggregation
/// @notice Checks and records leaders' aggregation proofs for the consensus contract that
///         created it (kept apart for EIP-170: the consensus contract has no room left).
/// @dev Everything it checks is read straight from the consensus contract's storage
///      ({IExtsload}): exactly the words it needs (round words 0..2, the task's aggregation
///      verifier, words 0..1 of the leader's and of each listed account's record). Inherits
///      {ZKPoTStorage} only to compute those slots, as {ZKPoTLens} does; never writes it.
contract ZKPoTAggregation is IZKPoTAggregation, ZKPoTStorage {
    /// @dev One account's record as a proof is checked against it.
    struct HandOff {
        bytes32 modelCommitment;
        uint256 correct;
        bool handedOff; // admitted and handed off to the round's current leader
    }

    /// @dev Exactly what a leader's aggregation proof is checked against.
    struct AggregationView {
        address aggregationVerifier; // zero: aggregation not proven
        address leader;
        bool aggregating; // in the aggregate phase, before the leader's deadline
        bool handOffsOpen; // see {IZKPoTLens-handOffsOpen}
        uint256 handOffs; // hand-offs to `leader`
        bytes32 leaderModel; // aggregation slot 0
        uint256 leaderCorrect; // its weight
        HandOff[] accounts; // included then rejected, as listed
    }

    uint8 private constant _NO_SLOT = 5;
    /// @dev ZKPoT.MAX_SUBMISSIONS_PER_ROUND: the leader plus at most this many minus one hand-offs.
    uint256 private constant _MAX_SUBMISSIONS = 64;

    IExtsload private immutable _core;
    mapping(uint256 taskId => mapping(uint256 round => mapping(address leader => bytes32))) private _proven;

    constructor() {
        _core = IExtsload(msg.sender);
    }

    /// @inheritdoc IZKPoTAggregation
    function proveAggregation(
        uint256 taskId,
        uint256 round,
        bytes32 globalCommitment,
        address[] calldata included,
        Rejection[] calldata rejected,
        bytes calldata proof
    ) external {
        // Every list is bounded by the circuit's slots or a round's admissions before any read.
        _checkListed(included.length + rejected.length);
        IAggregationVerifier verifier;
        bytes32[] memory commitments;
        uint256[] memory weights;
        {
            AggregationView memory v = _view(taskId, round, included, rejected);
            verifier = IAggregationVerifier(v.aggregationVerifier);
            (commitments, weights) = _checkLists(v, included, rejected, verifier);
        }
        if (!_verify(verifier, proof, commitments, weights, globalCommitment)) revert InvalidAggregationProof();
        _proven[taskId][round][msg.sender] = keccak256(abi.encode(included, globalCommitment));
        emit AggregationProven(taskId, round, msg.sender, globalCommitment, included, rejected);
    }

    /// @dev The sender leads the round in its aggregate phase and `included` + `rejected`
    ///      account for exactly the models handed off to it; the proof's public inputs.
    function _checkLists(
        AggregationView memory v,
        address[] calldata included,
        Rejection[] calldata rejected,
        IAggregationVerifier verifier
    ) private view returns (bytes32[] memory commitments, uint256[] memory weights) {
        if (address(verifier) == address(0)) revert AggregationNotRequired();
        if (!v.aggregating) revert NotAggregatingRound();
        if (msg.sender != v.leader) revert NotRoundLeader();
        // The set of hand-offs to account for is frozen only once the window has closed.
        if (v.handOffsOpen) revert HandOffsOpen();
        uint256 noSlotBelow;
        (commitments, weights, noSlotBelow) = _inputs(v, included, verifier.slots());
        _checkRejected(v, included, rejected, noSlotBelow);
        if (v.handOffs != included.length + rejected.length) {
            revert HandOffNotAccounted(v.handOffs, included.length + rejected.length);
        }
    }

    function _checkListed(uint256 listed) private pure {
        if (listed >= _MAX_SUBMISSIONS) revert TooManyListed(listed, _MAX_SUBMISSIONS - 1);
    }

    /// @dev The round's records for the leader and every listed account (included first,
    ///      then rejected), read from the core's storage. An unknown task or round reverts
    ///      with {IZKPoT}'s error, as the core would.
    function _view(uint256 taskId, uint256 round, address[] calldata included, Rejection[] calldata rejected)
        private
        view
        returns (AggregationView memory v)
    {
        RoundRecord storage p = _rounds[taskId][round];
        IZKPoT.TaskConfig storage c = _configs[taskId];
        (uint256 base, uint256 config, uint256 count) = (0, 0, 0);
        assembly ("memory-safe") {
            base := p.slot
            config := c.slot
            count := _taskCount.slot
        }
        bytes32[] memory w = _core.extsload(bytes32(base), 3);
        if (uint8(uint256(w[0])) == uint8(IZKPoT.RoundStatus.None)) {
            // A round exists only in a task that exists: the task count is read only when it does not.
            if (taskId >= uint256(_core.extsload(bytes32(count)))) revert IZKPoT.UnknownTask(taskId);
            revert IZKPoT.UnknownRound();
        }
        // TaskConfig word 3: chunksPerRound (32 bits), policy (8), aggregationVerifier (from bit 40).
        v.aggregationVerifier = address(uint160(uint256(_core.extsload(bytes32(config + 3))) >> 40));
        v.leader = RoundWords.leader(w);
        v.aggregating = RoundWords.aggregating(w);
        v.handOffsOpen = RoundWords.handOffsOpen(w);
        v.handOffs = uint8(uint256(w[1]) >> 240);
        HandOff memory own = _record(taskId, round, v.leader, w);
        (v.leaderModel, v.leaderCorrect) = (own.modelCommitment, own.correct);
        v.accounts = new HandOff[](included.length + rejected.length);
        for (uint256 i = 0; i < included.length; ++i) {
            v.accounts[i] = _record(taskId, round, included[i], w);
        }
        for (uint256 i = 0; i < rejected.length; ++i) {
            v.accounts[included.length + i] = _record(taskId, round, rejected[i].participant, w);
        }
    }

    /// @dev `account`'s model, count, and whether it handed off to the current leader.
    function _record(uint256 taskId, uint256 round, address account, bytes32[] memory w)
        private
        view
        returns (HandOff memory h)
    {
        SubmissionRecord storage p = _submissions[taskId][round][account];
        uint256 slot;
        assembly ("memory-safe") {
            slot := p.slot
        }
        bytes32[] memory own = _core.extsload(bytes32(slot), 2);
        uint256 x = uint256(own[1]);
        (h.modelCommitment, h.correct, h.handedOff) = (own[0], RoundWords.correct(x), RoundWords.handedOffTo(x, w));
    }

    /// @dev The proof's public inputs from the chain's records: slot 0 the sender's (the
    ///      leader's) model, then the included ones; weights their verified counts. Also the
    ///      highest count a NoSlot rejection may have: the lowest included count once every
    ///      slot is taken, else 0 (no NoSlot while a slot is free).
    function _inputs(AggregationView memory v, address[] calldata included, uint256 slots)
        private
        pure
        returns (bytes32[] memory commitments, uint256[] memory weights, uint256 noSlotBelow)
    {
        uint256 n = included.length + 1;
        if (n > slots) revert TooManyModels(n, slots);
        commitments = new bytes32[](n);
        weights = new uint256[](n);
        (commitments[0], weights[0]) = (v.leaderModel, v.leaderCorrect);
        address previous = address(0);
        uint256 lowest = type(uint256).max;
        for (uint256 i = 0; i < included.length; ++i) {
            HandOff memory h = _handedOff(v.accounts[i], included[i], previous);
            (commitments[i + 1], weights[i + 1]) = (h.modelCommitment, h.correct);
            if (h.correct < lowest) lowest = h.correct;
            previous = included[i];
        }
        noSlotBelow = n == slots ? lowest : 0;
    }

    /// @inheritdoc IZKPoTAggregation
    function provenAggregate(uint256 taskId, uint256 round, address leader) external view returns (bytes32) {
        return _proven[taskId][round][leader];
    }

    /// @inheritdoc IZKPoTAggregation
    function zkpot() external view returns (address) {
        return address(_core);
    }

    /// @dev `account`'s record, which must be admitted and handed off to the leader (who
    ///      never hands off to itself), listed after `previous`.
    function _handedOff(HandOff memory h, address account, address previous)
        private
        pure
        returns (HandOff memory)
    {
        if (account <= previous) revert NotAscending();
        if (!h.handedOff) revert NotHandedOffToLeader(account);
        return h;
    }

    /// @dev Each rejected account handed off to the leader, ascending, not included, with a
    ///      known reason; NoSlot only for a count at most `noSlotBelow` (0 while slots are free).
    function _checkRejected(
        AggregationView memory v,
        address[] calldata included,
        Rejection[] calldata rejected,
        uint256 noSlotBelow
    ) private pure {
        address previous = address(0);
        uint256 j = 0;
        for (uint256 i = 0; i < rejected.length; ++i) {
            address account = rejected[i].participant;
            uint256 correct = _handedOff(v.accounts[included.length + i], account, previous).correct;
            uint8 reason = rejected[i].reason;
            if (reason > _NO_SLOT) revert InvalidRejectionReason(account);
            if (reason == _NO_SLOT && correct > noSlotBelow) revert UnjustifiedNoSlot(account);
            while (j < included.length && included[j] < account) ++j;
            if (j < included.length && included[j] == account) revert IncludedAndRejected(account);
            previous = account;
        }
    }

    function _verify(
        IAggregationVerifier verifier,
        bytes calldata proof,
        bytes32[] memory commitments,
        uint256[] memory weights,
        bytes32 globalCommitment
    ) private view returns (bool) {
        // A reverting verifier is a rejection, never a stuck round.
        try verifier.verifyAggregation(proof, commitments, weights, globalCommitment) returns (bool valid) {
            return valid;
        } catch {
            return false;
        }
    }
}
