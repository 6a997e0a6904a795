// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.20;

import {ZKPoTStorage} from "../ZKPoTStorage.sol";
import {Admission} from "./Admission.sol";

/// @title Leadership
/// @notice Who leads a round: the admitted submitter with the highest verified count that
///         was not passed over; equal counts are ordered by `keccak256(abi.encode(seed,
///         account))`, higher first, with `seed` fixed before the submit phase ended.
library Leadership {
    /// @notice The best candidate and its count; the zero address when none is left.
    function best(
        ZKPoTStorage.RoundRecord storage r,
        mapping(address => ZKPoTStorage.SubmissionRecord) storage subs,
        bytes32 seed
    ) internal view returns (address leader, uint256 count) {
        uint256 bestKey = 0;
        for (address candidate = r.head; candidate != Admission.END; candidate = subs[candidate].next) {
            ZKPoTStorage.SubmissionRecord storage s = subs[candidate];
            if (s.passedOver) continue;
            uint256 key = uint256(keccak256(abi.encode(seed, candidate)));
            if (leader == address(0) || s.correct > count || (s.correct == count && key > bestKey)) {
                (leader, count, bestKey) = (candidate, s.correct, key);
            }
        }
    }
}
