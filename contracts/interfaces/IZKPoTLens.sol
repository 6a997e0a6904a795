// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.20;

import {IZKPoT} from "./IZKPoT.sol";

/// @title IZKPoTLens
/// @notice Read-only views of a {IZKPoT} consensus contract's records, decoded from its raw
///         storage ({IExtsload}); the consensus contract keeps no struct getters of its own.
///         Created by the consensus contract ({IZKPoT-lens}); reverts with {IZKPoT}'s errors.
interface IZKPoTLens {
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
    ///         circuit, digests, chunk count, durations, shares, limits, rewards, CIDs).
    ///         {IZKPoT-createTask} forwards its own call data here (same parameters, so the
    ///         core needs no encoder for the configuration); `allowlist` is not checked here.
    function checkConfig(IZKPoT.TaskConfig calldata config, address[] calldata allowlist) external view;

    /// @notice A round's phase at the current block time; {IZKPoT-Phase.None} for a round never opened.
    function phaseOf(uint256 taskId, uint256 round) external view returns (IZKPoT.Phase);

    /// @notice Whether an account joined a task, and its encryption key.
    function participantKey(uint256 taskId, address account)
        external
        view
        returns (bool joined, bytes32 encryptionPublicKey);

    /// @notice Whether an account may take part in a task (always true on open tasks).
    function isAllowed(uint256 taskId, address account) external view returns (bool);

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

    /// @notice The admitted submitter {IZKPoT-selectLeader} and {IZKPoT-replaceLeader} make
    ///         leader, with its count: the highest count not passed over, equal counts ordered
    ///         by `keccak256(abi.encode(tieSeed, account))`, higher first; the zero address
    ///         when none is left (the round then closes empty).
    function nextLeader(uint256 taskId, uint256 round) external view returns (address leader, uint256 count);

    /// @notice The admitted submitter a full round evicts for a better one: the lowest
    ///         {Admission-rank} (lowest count, then latest commit), the submitter before it in
    ///         the admitted list (zero: it is the head) and that rank; max for an empty list.
    function lowestAdmitted(uint256 taskId, uint256 round)
        external
        view
        returns (address account, address previous, uint256 rank);

    /// @notice Who earns a round's rewards and their verified counts: the leader first, then
    ///         (FEDAVG only) every admitted submitter that handed off to it -- inside its
    ///         hand-off window, the only time a hand-off is taken -- whether the leader
    ///         included its model or rejected it. {IZKPoT-finalise} allocates to exactly these.
    function earners(uint256 taskId, uint256 round)
        external
        view
        returns (address[] memory accounts, uint256[] memory corrects);
}
