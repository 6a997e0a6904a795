// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.20;

/// @title IExtsload
/// @notice Raw reads of a contract's storage, the way Uniswap v4's PoolManager exposes its
///         state: the core keeps no struct getters (they cost code size), and a periphery
///         contract (a lens) computes slots and decodes them.
interface IExtsload {
    /// @notice The word stored at `slot`.
    function extsload(bytes32 slot) external view returns (bytes32 value);

    /// @notice `nSlots` consecutive words starting at `startSlot`.
    function extsload(bytes32 startSlot, uint256 nSlots) external view returns (bytes32[] memory values);
}
