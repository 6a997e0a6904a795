// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IZKPoTRewards} from "./interfaces/IZKPoTRewards.sol";

/// @title ZKPoTRewards
/// @notice Holds the reward pools of the ZKPoT tasks and pays them by pull. Created by the
///         consensus contract, which alone funds, allocates and refunds (see {IZKPoTRewards}).
/// @dev Split from the consensus contract to keep both under EIP-170's code size limit.
contract ZKPoTRewards is IZKPoTRewards, ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint256 private constant _BPS = 10_000;

    /// @inheritdoc IZKPoTRewards
    address public immutable consensus;

    mapping(uint256 taskId => Pool) private _pools;
    mapping(uint256 taskId => mapping(uint256 round => RoundRewards)) private _rounds;
    mapping(uint256 taskId => mapping(uint256 round => mapping(address account => uint256))) private _improvement;
    mapping(uint256 taskId => mapping(uint256 round => mapping(address account => bool))) private _claimed;

    modifier onlyConsensus() {
        if (msg.sender != consensus) revert NotConsensus();
        _;
    }

    constructor() {
        consensus = msg.sender;
    }

    /// @inheritdoc IZKPoTRewards
    function fund(uint256 taskId, address publisher, IERC20 token, uint256 amount, uint256 perRound, uint16 leaderShareBps)
        external
        onlyConsensus
        returns (uint256 funded)
    {
        if (address(token) == address(0)) return 0;
        // Count what arrived, so a fee-taking token cannot make the pool promise more than it holds.
        uint256 before = token.balanceOf(address(this));
        // `publisher` is the createTask caller, passed by the consensus contract (the only
        // caller): nobody can pull from an account that did not create the task itself.
        // slither-disable-next-line arbitrary-send-erc20
        token.safeTransferFrom(publisher, address(this), amount);
        funded = token.balanceOf(address(this)) - before;
        _pools[taskId] = Pool(token, funded, funded, perRound, leaderShareBps);
    }

    /// @inheritdoc IZKPoTRewards
    function allocate(
        uint256 taskId,
        uint256 round,
        address[] calldata earners,
        uint256[] calldata corrects,
        uint256 globalCorrect,
        uint256 baseline
    ) external onlyConsensus {
        mapping(address => uint256) storage improvement = _improvement[taskId][round];
        uint256 sum = 0;
        for (uint256 i = 0; i < earners.length; ++i) {
            if (corrects[i] > baseline) {
                improvement[earners[i]] = corrects[i] - baseline;
                sum += corrects[i] - baseline;
            }
        }
        // The leader's share pays for a global model better than the one it replaces.
        (uint256 leaderReward, uint256 participants) = _split(_pools[taskId], globalCorrect > baseline, sum);
        uint256 allocated = leaderReward;
        for (uint256 i = 0; sum > 0 && i < earners.length; ++i) {
            allocated += participants * improvement[earners[i]] / sum;
        }
        _rounds[taskId][round] = RoundRewards(true, earners[0], baseline, leaderReward, participants, sum);
        // Floors never sum above the pool, so unallocated cannot underflow.
        _pools[taskId].unallocated -= allocated;
        emit RewardsAllocated(taskId, round, earners[0], baseline, leaderReward, participants, sum);
    }

    /// @dev This round's allocation `min(perRound, unallocated)`, split into the leader's share
    ///      (zero unless the global model improved) and the participants' pool (zero unless
    ///      someone improved).
    function _split(Pool storage p, bool globalImproved, uint256 sumImprovement)
        private
        view
        returns (uint256 leaderReward, uint256 participants)
    {
        uint256 total = p.perRound < p.unallocated ? p.perRound : p.unallocated;
        uint256 share = total * p.leaderShareBps / _BPS;
        leaderReward = globalImproved ? share : 0;
        participants = sumImprovement > 0 ? total - share : 0;
    }

    /// @inheritdoc IZKPoTRewards
    function refund(uint256 taskId, address to) external onlyConsensus nonReentrant returns (uint256 amount) {
        Pool storage p = _pools[taskId];
        amount = p.unallocated;
        p.unallocated = 0;
        if (amount > 0) p.token.safeTransfer(to, amount);
    }

    /// @inheritdoc IZKPoTRewards
    function claim(uint256 taskId, uint256 round) external nonReentrant returns (uint256 amount) {
        IERC20 token = _pools[taskId].token;
        if (address(token) == address(0)) revert NoRewardPool();
        if (!_rounds[taskId][round].allocated) revert RoundNotFinalised();
        if (_claimed[taskId][round][msg.sender]) revert AlreadyClaimed();
        amount = _owed(taskId, round, msg.sender);
        if (amount == 0) revert NothingToClaim();
        _claimed[taskId][round][msg.sender] = true;
        emit RewardClaimed(taskId, round, msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IZKPoTRewards
    function pool(uint256 taskId) external view returns (Pool memory) {
        return _pools[taskId];
    }

    /// @inheritdoc IZKPoTRewards
    function roundRewards(uint256 taskId, uint256 round) external view returns (RoundRewards memory) {
        return _rounds[taskId][round];
    }

    /// @inheritdoc IZKPoTRewards
    function improvementOf(uint256 taskId, uint256 round, address account) external view returns (uint256) {
        return _improvement[taskId][round][account];
    }

    /// @inheritdoc IZKPoTRewards
    function claimed(uint256 taskId, uint256 round, address account) external view returns (bool) {
        return _claimed[taskId][round][account];
    }

    /// @inheritdoc IZKPoTRewards
    function claimable(uint256 taskId, uint256 round, address account) external view returns (uint256) {
        if (!_rounds[taskId][round].allocated || _claimed[taskId][round][account]) return 0;
        return _owed(taskId, round, account);
    }

    function _owed(uint256 taskId, uint256 round, address account) private view returns (uint256 amount) {
        RoundRewards storage r = _rounds[taskId][round];
        if (account == r.leader) amount = r.leaderReward;
        if (r.totalImprovement > 0) {
            amount += r.participantPool * _improvement[taskId][round][account] / r.totalImprovement;
        }
    }
}
