// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.20;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Malicious ERC-20 for tests: it takes part in a task through {execute} and, when
///         the consensus contract pays it, calls back into the contract (`reentryTarget`
///         with `reentryData`) before the transfer completes, recording the outcome.
contract ReentrantToken is ERC20 {
    address public reentryTarget;
    bytes public reentryData;
    uint256 public reentryAttempts;
    bool public reentrySucceeded;
    bytes public reentryRevertData;

    constructor() ERC20("Reentrant", "REE") {}

    /// @notice Mints `amount` to `to`.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the hook: on the next transfer to this contract, call `target` with `data`.
    function arm(address target, bytes calldata data) external {
        reentryTarget = target;
        reentryData = data;
    }

    /// @notice Calls `target` with `data` as this contract (lets the token act as a participant).
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory ret) = target.call(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (to == address(this) && reentryTarget != address(0)) {
            address target = reentryTarget;
            reentryTarget = address(0);
            reentryAttempts += 1;
            (bool ok, bytes memory ret) = target.call(reentryData);
            reentrySucceeded = ok;
            reentryRevertData = ret;
        }
        super._update(from, to, value);
    }
}
