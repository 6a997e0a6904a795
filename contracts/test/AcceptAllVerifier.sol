// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.20;

/// @notice Test only: a malicious publisher's "Groth16 verifier" that accepts every proof
///         (answers 1 to any call), for the attack where an aggregation adapter with the
///         right ids points at it.
contract AcceptAllVerifier {
    fallback(bytes calldata) external returns (bytes memory) {
        return abi.encode(uint256(1));
    }
}
