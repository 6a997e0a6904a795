// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.20;

import {IZKPoT} from "../interfaces/IZKPoT.sol";

/// @title RoundWords
/// @notice Decodes the raw words of a round's record and of a submission's record (layout in
///         {ZKPoTStorage}) read through {IExtsload}: one definition for every reader of the
///         core's storage ({ZKPoTLens}, {ZKPoTAggregation}).
library RoundWords {
    /// @notice Round words 0..2 (`w`) say the current leader's hand-off window is open: the
    ///         round is in LeaderSelected, before the hand-off deadline, and fewer than all
    ///         other admitted submitters (count - 1) handed off.
    function handOffsOpen(bytes32[] memory w) internal view returns (bool) {
        uint256 x = uint256(w[1]);
        return uint8(uint256(w[0])) == uint8(IZKPoT.RoundStatus.LeaderSelected)
            && block.timestamp < uint40(uint256(w[2]) >> 200) && uint256(uint8(x >> 240)) + 1 < uint8(x >> 224);
    }

    /// @notice A submission record's word 1 (`x`) says it is admitted and handed off in the
    ///         current leader's epoch (round word 1, bits 232..239).
    function handedOffTo(uint256 x, bytes32[] memory w) internal pure returns (bool) {
        uint8 epoch = uint8(uint256(w[1]) >> 232);
        return uint8(x >> 8) != 0 && uint8(x >> 32) != 0 && uint8(x >> 40) == epoch;
    }

    /// @notice The round is in its aggregate phase: LeaderSelected, before the leader's deadline.
    function aggregating(bytes32[] memory w) internal view returns (bool) {
        return uint8(uint256(w[0])) == uint8(IZKPoT.RoundStatus.LeaderSelected)
            && block.timestamp < uint64(uint256(w[1]) >> 160);
    }

    /// @notice The current leader (round word 2, bits 0..159).
    function leader(bytes32[] memory w) internal pure returns (address) {
        return address(uint160(uint256(w[2])));
    }

    /// @notice A submission record's verified count (word 1, bits 48..79).
    function correct(uint256 x) internal pure returns (uint256) {
        return uint32(x >> 48);
    }
}
