// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.20;

import {IZKPoT} from "./IZKPoT.sol";

/// @title IZKPoTLens
/// @notice Read-only views of a {IZKPoT} consensus contract's records, decoded from its raw
///         storage ({IExtsload}); the consensus contract keeps no struct getters of its own.
///         Created by the consensus contract ({IZKPoT-lens}); reverts with {IZKPoT}'s errors.
interface IZKPoTLens {
    /// @notice One account's record as {IZKPoTAggregation} needs it.
    /// @param modelCommitment Model commitment its verified proofs carried.
    /// @param correct Its verified correct count.
    /// @param handedOff True when it is admitted and handed its model off to the round's current leader.
    struct HandOff {
        bytes32 modelCommitment;
        uint256 correct;
        bool handedOff;
    }

    /// @notice Exactly what a leader's aggregation proof is checked against.
    /// @param aggregationVerifier The task's aggregation verifier (zero: aggregation not proven).
    /// @param leader The round's current leader.
    /// @param aggregating True while the round is in its aggregate phase (before the leader's deadline).
    /// @param handOffsOpen True while the leader's hand-off window is open (see {handOffsOpen}).
    /// @param handOffs How many admitted participants handed their model off to `leader`.
    /// @param leaderModel The leader's model commitment (aggregation slot 0).
    /// @param leaderCorrect The leader's verified count (its weight).
    /// @param accounts The asked accounts' records, in the order asked.
    struct AggregationView {
        address aggregationVerifier;
        address leader;
        bool aggregating;
        bool handOffsOpen;
        uint256 handOffs;
        bytes32 leaderModel;
        uint256 leaderCorrect;
        HandOff[] accounts;
    }

    /// @notice The consensus contract this lens reads.
    function zkpot() external view returns (address);

    /// @notice A task's configuration; reverts {IZKPoT-UnknownTask} for an unknown task.
    function taskConfig(uint256 taskId) external view returns (IZKPoT.TaskConfig memory);

    /// @notice A task's state; reverts {IZKPoT-UnknownTask} for an unknown task.
    function taskState(uint256 taskId) external view returns (IZKPoT.TaskState memory);

    /// @notice A round's record; reverts {IZKPoT-UnknownRound} for a round never opened.
    function getRound(uint256 taskId, uint256 round) external view returns (IZKPoT.Round memory);

    /// @notice A participant's record in a round; reverts {IZKPoT-UnknownRound} for a round never opened.
    function getSubmission(uint256 taskId, uint256 round, address participant)
        external
        view
        returns (IZKPoT.Submission memory);

    /// @notice Block number `index` of a task's chain, with its hash; reverts {IZKPoT-UnknownBlock} past the end.
    function getBlock(uint256 taskId, uint256 index)
        external
        view
        returns (IZKPoT.BlockHeader memory header, bytes32 blockHash);

    /// @notice Reverts with {IZKPoT}'s error for the first rule `config` breaks (verifier,
    ///         circuit, digests, chunk count, durations, shares, limits, rewards, CIDs);
    ///         {IZKPoT-createTask} calls it before recording a task.
    function checkConfig(IZKPoT.TaskConfig calldata config) external view;

    /// @notice A round's phase at the current block time; {IZKPoT-Phase.None} for a round never opened.
    function phaseOf(uint256 taskId, uint256 round) external view returns (IZKPoT.Phase);

    /// @notice Whether an account joined a task, and its encryption key.
    function participantKey(uint256 taskId, address account)
        external
        view
        returns (bool joined, bytes32 encryptionPublicKey);

    /// @notice Whether an account may take part in a task (always true on open tasks).
    function isAllowed(uint256 taskId, address account) external view returns (bool);

    /// @notice The compact view {IZKPoTAggregation-proveAggregation} checks a proof against.
    /// @param accounts Included then rejected accounts, as the leader lists them.
    function aggregationView(uint256 taskId, uint256 round, address[] calldata accounts)
        external
        view
        returns (AggregationView memory view_);

    /// @notice Whether the round's FEDAVG leader must still wait before proving or publishing:
    ///         it leads the round, its hand-off deadline has not passed, and some other
    ///         admitted submitter has not handed off to it yet (the set may still grow).
    function handOffsOpen(uint256 taskId, uint256 round) external view returns (bool);

    /// @notice Whether the round's leader may publish `included` now, else reverts with why:
    ///         under LEADER_MODEL {IZKPoT-InclusionNotAllowed} for a non-empty list; under
    ///         FEDAVG {IZKPoT-HandOffsOpen} while the hand-off window is open,
    ///         {IZKPoT-IncludedNotAscending} unless `included` ascends strictly, and
    ///         {IZKPoT-NotHandedOff} for the first account that is not admitted and handed off
    ///         to the round's current leader. {IZKPoT-publishGlobalModel} calls it.
    function checkIncluded(uint256 taskId, uint256 round, address[] calldata included) external view;

    /// @notice Who earns a round's rewards and their verified counts: the leader first, then
    ///         (FEDAVG only) every admitted submitter that handed off to it -- inside its
    ///         hand-off window, the only time a hand-off is taken -- whether the leader
    ///         included its model or rejected it. {IZKPoT-finalise} allocates to exactly these.
    function earners(uint256 taskId, uint256 round)
        external
        view
        returns (address[] memory accounts, uint256[] memory corrects);
}
