// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.20;

import {IExtsload} from "../interfaces/IExtsload.sol";

/// @title Extsload
/// @notice {IExtsload} for the contract that inherits it: its whole storage is readable from
///         outside (everything on chain is public anyway; this only makes it cheap to reach).
abstract contract Extsload is IExtsload {
    /// @inheritdoc IExtsload
    function extsload(bytes32 slot) external view returns (bytes32 value) {
        assembly ("memory-safe") {
            value := sload(slot)
        }
    }

    /// @inheritdoc IExtsload
    function extsload(bytes32 startSlot, uint256 nSlots) external view returns (bytes32[] memory values) {
        values = new bytes32[](nSlots);
        assembly ("memory-safe") {
            let out := add(values, 0x20)
            for { let i := 0 } lt(i, nSlots) { i := add(i, 1) } {
                mstore(add(out, shl(5, i)), sload(add(startSlot, i)))
            }
        }
    }
}
