// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.20;

import {ZKPoTStorage} from "../ZKPoTStorage.sol";

/// @title Admission
/// @notice A round's admitted submitters: a singly linked list threaded through the
///         submission records (`next`), headed in the round's word 1 and ended by `END`.
///         Admission is by rank: a full round only admits a submission ranked above its
///         lowest: a higher count, or an equal count committed earlier ({ZKPoTLens-lowestAdmitted}
///         finds the lowest, off the core for EIP-170 headroom).
library Admission {
    /// @dev ZKPoTStorage._END: the list's terminator.
    address internal constant END = address(1);

    /// @notice Links `account` at the head of the list.
    function push(
        ZKPoTStorage.RoundRecord storage r,
        mapping(address => ZKPoTStorage.SubmissionRecord) storage subs,
        address account
    ) internal {
        subs[account].next = r.head;
        r.head = account;
    }

    /// @notice Unlinks `account`, which follows `previous` (zero: `account` is the head).
    function unlink(
        ZKPoTStorage.RoundRecord storage r,
        mapping(address => ZKPoTStorage.SubmissionRecord) storage subs,
        address account,
        address previous
    ) internal {
        address next = subs[account].next;
        if (previous == address(0)) r.head = next;
        else subs[previous].next = next;
    }

    /// @notice A submission's rank: higher counts first, then earlier commits (a lower
    ///        `commitOrder`), as one number; two submissions never rank equal unless more
    ///        than 65,535 commits saturated the order.
    function rank(uint256 correct, uint16 commitOrder) internal pure returns (uint256) {
        return (correct << 16) | (type(uint16).max - commitOrder);
    }
}
