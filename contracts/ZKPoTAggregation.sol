// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.20;

import {IAggregationVerifier} from "./interfaces/IAggregationVerifier.sol";
import {IZKPoT} from "./interfaces/IZKPoT.sol";
import {IZKPoTAggregation} from "./interfaces/IZKPoTAggregation.sol";

/// @title ZKPoTAggregation
/// @notice Checks and records leaders' aggregation proofs for the consensus contract that
///         created it (kept apart for EIP-170: the consensus contract has no room left).
/// @dev Everything it checks is read from the consensus contract's public views.
contract ZKPoTAggregation is IZKPoTAggregation {
    uint8 private constant _NO_SLOT = 5;

    IZKPoT private immutable _zkpot;
    mapping(uint256 taskId => mapping(uint256 round => mapping(address leader => bytes32))) private _proven;

    constructor() {
        _zkpot = IZKPoT(msg.sender);
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
        IAggregationVerifier verifier = _zkpot.taskConfig(taskId).aggregationVerifier;
        if (address(verifier) == address(0)) revert AggregationNotRequired();
        (bytes32[] memory commitments, uint256[] memory weights) =
            _checkLists(taskId, round, included, rejected, verifier.slots());
        if (!_verify(verifier, proof, commitments, weights, globalCommitment)) revert InvalidAggregationProof();
        _proven[taskId][round][msg.sender] = keccak256(abi.encode(included, globalCommitment));
        emit AggregationProven(taskId, round, msg.sender, globalCommitment, included, rejected);
    }

    /// @dev The sender leads the round in its aggregate phase and `included` + `rejected`
    ///      account for exactly the models handed off to it; the proof's public inputs.
    function _checkLists(
        uint256 taskId,
        uint256 round,
        address[] calldata included,
        Rejection[] calldata rejected,
        uint256 slots
    ) private view returns (bytes32[] memory commitments, uint256[] memory weights) {
        if (_zkpot.phaseOf(taskId, round) != IZKPoT.Phase.Aggregate) revert NotAggregatingRound();
        IZKPoT.Round memory r = _zkpot.getRound(taskId, round);
        if (msg.sender != r.leader) revert NotRoundLeader();
        uint256 noSlotBelow;
        (commitments, weights, noSlotBelow) = _inputs(taskId, round, included, slots);
        _checkRejected(taskId, round, included, rejected, noSlotBelow);
        uint256 handedOff = _handOffs(taskId, round, r.submitters);
        if (handedOff != included.length + rejected.length) {
            revert HandOffNotAccounted(handedOff, included.length + rejected.length);
        }
    }

    /// @dev The proof's public inputs from the chain's records: slot 0 the sender's (the
    ///      leader's) model, then the included ones; weights their verified counts. Also the
    ///      highest count a NoSlot rejection may have: the lowest included count once every
    ///      slot is taken, else 0 (no NoSlot while a slot is free).
    function _inputs(uint256 taskId, uint256 round, address[] calldata included, uint256 slots)
        private
        view
        returns (bytes32[] memory commitments, uint256[] memory weights, uint256 noSlotBelow)
    {
        uint256 n = included.length + 1;
        if (n > slots) revert TooManyModels(n, slots);
        commitments = new bytes32[](n);
        weights = new uint256[](n);
        IZKPoT.Submission memory s = _zkpot.getSubmission(taskId, round, msg.sender);
        (commitments[0], weights[0]) = (s.modelCommitment, s.correct);
        address previous = address(0);
        uint256 lowest = type(uint256).max;
        for (uint256 i = 0; i < included.length; ++i) {
            s = _handedOff(taskId, round, included[i], previous);
            (commitments[i + 1], weights[i + 1]) = (s.modelCommitment, s.correct);
            if (s.correct < lowest) lowest = s.correct;
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
        return address(_zkpot);
    }

    /// @dev `account`'s submission, which must be verified and handed off to the sender
    ///      (the leader, who never hands off to itself), listed after `previous`.
    function _handedOff(uint256 taskId, uint256 round, address account, address previous)
        private
        view
        returns (IZKPoT.Submission memory s)
    {
        if (account <= previous) revert NotAscending();
        s = _zkpot.getSubmission(taskId, round, account);
        if (!s.verified || s.handoffLeader != msg.sender) revert NotHandedOffToLeader(account);
    }

    /// @dev Each rejected account handed off to the sender, ascending, not included, with a
    ///      known reason; NoSlot only for a count at most `noSlotBelow` (0 while slots are free).
    function _checkRejected(
        uint256 taskId,
        uint256 round,
        address[] calldata included,
        Rejection[] calldata rejected,
        uint256 noSlotBelow
    ) private view {
        address previous = address(0);
        uint256 j = 0;
        for (uint256 i = 0; i < rejected.length; ++i) {
            address account = rejected[i].participant;
            uint256 correct = _handedOff(taskId, round, account, previous).correct;
            uint8 reason = rejected[i].reason;
            if (reason > _NO_SLOT) revert InvalidRejectionReason(account);
            if (reason == _NO_SLOT && correct > noSlotBelow) revert UnjustifiedNoSlot(account);
            while (j < included.length && included[j] < account) ++j;
            if (j < included.length && included[j] == account) revert IncludedAndRejected(account);
            previous = account;
        }
    }

    /// @dev How many admitted submitters handed their model off to the sender.
    function _handOffs(uint256 taskId, uint256 round, address[] memory submitters)
        private
        view
        returns (uint256 count)
    {
        for (uint256 i = 0; i < submitters.length; ++i) {
            IZKPoT.Submission memory s = _zkpot.getSubmission(taskId, round, submitters[i]);
            if (s.verified && s.handoffLeader == msg.sender && submitters[i] != msg.sender) ++count;
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
