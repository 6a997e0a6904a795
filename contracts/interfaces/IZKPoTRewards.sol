// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IZKPoTRewards
/// @notice Reward pools of ZKPoT tasks, paid by pull ({claim}). Only the consensus contract
///         that created this one opens pools, allocates rounds and refunds closed tasks.
/// @dev Reward rule: each finalised round allocates `R = min(rewardPerRound, unallocated)`.
///      The leader gets `R * leaderShareBps / 10000` only when the global model it published
///      beats the baseline (the previous global model's count proven on this round's own
///      test set); otherwise that share stays unallocated. The rest `P` is split among the
///      earners -- the leader and the participants the leader listed as included, each of
///      whom handed off its model to it on chain -- in proportion to their improvement
///      `correct - baseline` (only positive improvements count). Shares are floored; the
///      dust and `P` when nobody improved stay unallocated and return to the publisher when
///      the task is closed. Evicted or non-included submitters earn nothing; a copy of the
///      previous global model has improvement zero on the same test set, so it earns nothing.
interface IZKPoTRewards {
    /// @notice A task's reward pool.
    /// @param token ERC-20 paid out (zero: the task has no pool).
    /// @param funded Tokens received at creation.
    /// @param unallocated Tokens not yet allocated to any round.
    /// @param perRound Amount each finalised round allocates at most.
    /// @param leaderShareBps Leader's share, basis points.
    struct Pool {
        IERC20 token;
        uint256 funded;
        uint256 unallocated;
        uint256 perRound;
        uint16 leaderShareBps;
    }

    /// @notice What a finalised round allocated.
    /// @param allocated True once the round's rewards were allocated.
    /// @param leader The round's leader.
    /// @param baseline The previous global model's count on this round's test set.
    /// @param leaderReward Allocated to the leader.
    /// @param participantPool Shared by improvement among the earners.
    /// @param totalImprovement Sum of the earners' positive improvements.
    struct RoundRewards {
        bool allocated;
        address leader;
        uint256 baseline;
        uint256 leaderReward;
        uint256 participantPool;
        uint256 totalImprovement;
    }

    /// @notice Thrown when a pool operation does not come from the consensus contract.
    error NotConsensus();
    /// @notice Thrown when claiming on a task without a reward pool.
    error NoRewardPool();
    /// @notice Thrown when claiming in a round whose rewards are not allocated (not finalised).
    error RoundNotFinalised();
    /// @notice Thrown when the caller has no reward in the round.
    error NothingToClaim();
    /// @notice Thrown when the caller already claimed the round's reward.
    error AlreadyClaimed();

    /// @notice Emitted when a finalised round's rewards were allocated.
    /// @param taskId Task.
    /// @param round Round.
    /// @param leader Leader.
    /// @param baseline Baseline count the improvements are measured from.
    /// @param leaderReward Leader's allocation.
    /// @param participantPool Pool shared by improvement.
    /// @param totalImprovement Sum of the earners' improvements.
    event RewardsAllocated(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed leader,
        uint256 baseline,
        uint256 leaderReward,
        uint256 participantPool,
        uint256 totalImprovement
    );

    /// @notice Emitted when a reward was paid.
    /// @param taskId Task.
    /// @param round Round.
    /// @param account Recipient.
    /// @param amount Amount.
    event RewardClaimed(uint256 indexed taskId, uint256 indexed round, address indexed account, uint256 amount);

    /// @notice The consensus contract allowed to open, allocate and refund.
    function consensus() external view returns (address);

    /// @notice Consensus only: opens a task's pool by pulling `amount` of `token` from the
    ///         publisher (who approved this contract); no-op for a zero token.
    /// @return funded The amount that actually arrived.
    function fund(uint256 taskId, address publisher, IERC20 token, uint256 amount, uint256 perRound, uint16 leaderShareBps)
        external
        returns (uint256 funded);

    /// @notice Consensus only: allocates a finalised round's rewards.
    /// @param earners The leader first, then the included participants.
    /// @param corrects Their verified counts on the round's test set.
    /// @param globalCorrect The published global model's count on that test set.
    /// @param baseline The previous global model's count on that test set.
    function allocate(
        uint256 taskId,
        uint256 round,
        address[] calldata earners,
        uint256[] calldata corrects,
        uint256 globalCorrect,
        uint256 baseline
    ) external;

    /// @notice Consensus only: sends the unallocated rest of a closed task's pool to `to`.
    function refund(uint256 taskId, address to) external returns (uint256 amount);

    /// @notice Pays the caller's reward for a finalised round.
    function claim(uint256 taskId, uint256 round) external returns (uint256 amount);

    /// @notice A task's pool.
    function pool(uint256 taskId) external view returns (Pool memory);

    /// @notice What a round allocated.
    function roundRewards(uint256 taskId, uint256 round) external view returns (RoundRewards memory);

    /// @notice An account's positive improvement in a round (zero when it did not earn).
    function improvementOf(uint256 taskId, uint256 round, address account) external view returns (uint256);

    /// @notice Whether an account claimed its reward of a round.
    function claimed(uint256 taskId, uint256 round, address account) external view returns (bool);

    /// @notice Reward `account` can claim in a round now.
    function claimable(uint256 taskId, uint256 round, address account) external view returns (uint256);
}
