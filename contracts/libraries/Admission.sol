// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.20;

import {ZKPoTStorage} from "../ZKPoTStorage.sol";

/// @title Admission
/// @notice A round's admitted submitters: a singly linked list threaded through the
///         submission records (`next`), headed in the round's word 1 and ended by `END`.
///         Admission is by rank: a full round only admits a count strictly above its lowest.
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

    /// @notice The admitted submitter with the lowest count (the first found from the head)
    ///         and the one before it (zero: it is the head); `lowest` is max for an empty list.
    function lowest(
        ZKPoTStorage.RoundRecord storage r,
        mapping(address => ZKPoTStorage.SubmissionRecord) storage subs
    ) internal view returns (address account, address previous, uint256 count) {
        count = type(uint256).max;
        address before = address(0);
        for (address a = r.head; a != END; a = subs[a].next) {
            uint256 c = subs[a].correct;
            if (c < count) (count, account, previous) = (c, a, before);
            before = a;
        }
    }
}
