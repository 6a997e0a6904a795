// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.20;

import {IAggregationVerifier} from "./interfaces/IAggregationVerifier.sol";
import {IZKPoTAggregation} from "./interfaces/IZKPoTAggregation.sol";
import {IZKPoTLens} from "./interfaces/IZKPoTLens.sol";

/// @title ZKPoTAggregation
/// @notice Checks and records leaders' aggregation proofs for the consensus contract that
///         created it (kept apart for EIP-170: the consensus contract has no room left).
/// @dev Everything it checks is read from the consensus contract's storage through one
///      compact lens call ({IZKPoTLens-aggregationView}).
contract ZKPoTAggregation is IZKPoTAggregation {
    uint8 private constant _NO_SLOT = 5;
    /// @dev ZKPoT.MAX_SUBMISSIONS_PER_ROUND: the leader plus at most this many minus one hand-offs.
    uint256 private constant _MAX_SUBMISSIONS = 64;

    address private immutable _zkpot;
    IZKPoTLens private immutable _lens;
    mapping(uint256 taskId => mapping(uint256 round => mapping(address leader => bytes32))) private _proven;

    constructor(IZKPoTLens lens_) {
        _zkpot = msg.sender;
        _lens = lens_;
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
            IZKPoTLens.AggregationView memory v = _view(taskId, round, included, rejected);
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
        IZKPoTLens.AggregationView memory v,
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

    /// @dev The round's records for the leader and every listed account, in one lens call
    ///      (included first, then rejected).
    function _view(uint256 taskId, uint256 round, address[] calldata included, Rejection[] calldata rejected)
        private
        view
        returns (IZKPoTLens.AggregationView memory)
    {
        address[] memory accounts = new address[](included.length + rejected.length);
        for (uint256 i = 0; i < included.length; ++i) {
            accounts[i] = included[i];
        }
        for (uint256 i = 0; i < rejected.length; ++i) {
            accounts[included.length + i] = rejected[i].participant;
        }
        return _lens.aggregationView(taskId, round, accounts);
    }

    /// @dev The proof's public inputs from the chain's records: slot 0 the sender's (the
    ///      leader's) model, then the included ones; weights their verified counts. Also the
    ///      highest count a NoSlot rejection may have: the lowest included count once every
    ///      slot is taken, else 0 (no NoSlot while a slot is free).
    function _inputs(IZKPoTLens.AggregationView memory v, address[] calldata included, uint256 slots)
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
            IZKPoTLens.HandOff memory h = _handedOff(v.accounts[i], included[i], previous);
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
        return _zkpot;
    }

    /// @dev `account`'s record, which must be admitted and handed off to the leader (who
    ///      never hands off to itself), listed after `previous`.
    function _handedOff(IZKPoTLens.HandOff memory h, address account, address previous)
        private
        pure
        returns (IZKPoTLens.HandOff memory)
    {
        if (account <= previous) revert NotAscending();
        if (!h.handedOff) revert NotHandedOffToLeader(account);
        return h;
    }

    /// @dev Each rejected account handed off to the leader, ascending, not included, with a
    ///      known reason; NoSlot only for a count at most `noSlotBelow` (0 while slots are free).
    function _checkRejected(
        IZKPoTLens.AggregationView memory v,
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
