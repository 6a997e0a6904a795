// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.20;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @notice Toolchain smoke contract: proves solc-js, OpenZeppelin imports and anvil work together.
contract Counter is Ownable {
    uint256 public count;

    event Incremented(address indexed by, uint256 count);

    constructor() Ownable(msg.sender) {}

    function increment() external onlyOwner {
        count += 1;
        emit Incremented(msg.sender, count);
    }
}
