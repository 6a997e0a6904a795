// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.20;

/// @title IZKPoTAggregation
/// @notice Proven aggregation for FEDAVG tasks that name an aggregation verifier. Before
///         publishing, the round's leader proves here that the new global model's
///         commitment is the weighted average of exactly its own model and the models it
///         lists as included, weighted by their verified correct counts; every other model
///         handed off to it must be listed as rejected, with a reason. It is accepted only
///         once the leader's hand-off window has closed, so that set is final. A rejection
///         moves no reward: every participant that handed off earns (see {IZKPoTLens-earners}). The public inputs are
///         rebuilt from the consensus contract's own records, never taken from the leader.
///         The consensus contract's {IZKPoT-publishGlobalModel} then requires that record
///         for the same included list and the commitment its accuracy proofs carry.
/// @dev Slot order of the proof: the leader's model first, then the included models in
///      ascending address order. Created by, and reading from, the consensus contract.
interface IZKPoTAggregation {
    /// @notice Why the leader left a handed-off model out (public, so auditable).
    /// @dev 0 Unavailable (not found or over its size cap), 1 Undecryptable (not sealed to
    ///      the leader's key), 2 Malformed, 3 WrongArchitecture, 4 CommitmentMismatch (not
    ///      the model its proof verified), 5 NoSlot (more hand-offs than K - 1 slots; the
    ///      lowest verified counts are left out).
    struct Rejection {
        address participant;
        uint8 reason;
    }

    /// @notice The leader proved the aggregate of `included` (and its own model).
    event AggregationProven(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed leader,
        bytes32 globalCommitment,
        address[] included,
        Rejection[] rejected
    );

    /// @notice Thrown when the task names no aggregation verifier (nothing to prove).
    error AggregationNotRequired();
    /// @notice Thrown outside the round's aggregate phase.
    error NotAggregatingRound();
    /// @notice Thrown when the sender is not the round's current leader.
    error NotRoundLeader();
    /// @notice Thrown while the leader's hand-off window is open ({IZKPoTLens-handOffsOpen}):
    ///         more hand-offs may still arrive, so none can be proven accounted for yet.
    error HandOffsOpen();
    /// @notice Thrown when an included or rejected list is not in strictly ascending order.
    error NotAscending();
    /// @notice Thrown when a listed account did not hand its verified model off to this leader.
    error NotHandedOffToLeader(address account);
    /// @notice Thrown when an account is listed both as included and as rejected.
    error IncludedAndRejected(address account);
    /// @notice Thrown when a reason code is not one of {Rejection}'s.
    error InvalidRejectionReason(address account);
    /// @notice Thrown when a model is rejected for want of a slot while a slot is free, or while
    ///         an included model verified fewer correct samples than it.
    error UnjustifiedNoSlot(address account);
    /// @notice Thrown when some model handed off to the leader is neither included nor rejected.
    error HandOffNotAccounted(uint256 handedOff, uint256 accounted);
    /// @notice Thrown when the leader's model plus the included ones exceed the circuit's K slots.
    error TooManyModels(uint256 models, uint256 slots);
    /// @notice Thrown when included + rejected list more accounts than a round can admit besides the leader.
    /// @param count Accounts listed.
    /// @param max MAX_SUBMISSIONS_PER_ROUND - 1.
    error TooManyListed(uint256 count, uint256 max);
    /// @notice Thrown when the aggregation proof does not verify for the recomputed inputs.
    error InvalidAggregationProof();

    /// @notice Verify the leader's aggregation proof against the round's records and record it.
    /// @param globalCommitment The new global model's commitment (its accuracy proofs must carry it).
    /// @param included Handed-off participants aggregated, ascending (the leader is implicit).
    /// @param rejected Every other participant that handed off to the leader, ascending, with why.
    /// @param proof abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c).
    function proveAggregation(
        uint256 taskId,
        uint256 round,
        bytes32 globalCommitment,
        address[] calldata included,
        Rejection[] calldata rejected,
        bytes calldata proof
    ) external;

    /// @notice `keccak256(abi.encode(included, globalCommitment))` of the leader's last
    ///         verified aggregation proof in the round; zero when none.
    function provenAggregate(uint256 taskId, uint256 round, address leader) external view returns (bytes32);

    /// @notice The consensus contract this one reads (and was created by).
    function zkpot() external view returns (address);
}
