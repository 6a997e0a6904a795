// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.20;

/// @title Leadership
/// @notice Who leads a round: the admitted submitter with the highest verified count that
///         was not passed over; equal counts are ordered by {tieKey}, higher first, with
///         `seed` fixed before the submit phase ended. {ZKPoTLens-nextLeader} walks the
///         admitted list with it (off the core, for EIP-170 headroom); {ZKPoT} installs the result.
library Leadership {
    /// @notice The key that orders equal counts: `keccak256(abi.encode(seed, account))`.
    function tieKey(bytes32 seed, address account) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, account)));
    }
}
