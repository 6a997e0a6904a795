// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.20;

import {IAccuracyVerifier} from "../interfaces/IAccuracyVerifier.sol";

/// @notice FAKE verifier for one failure a real verifier cannot be made to produce: it
///         reverts on every verification. Tests use it only to show that a reverting
///         verifier counts as a rejected proof; it never stands in for acceptance.
contract RevertingVerifier is IAccuracyVerifier {
    error VerifierExploded();

    bytes32 public immutable circuitId;
    uint256 public immutable samplesPerProof;
    /// @notice A fixed, recognisable VK digest (this fake has no key).
    bytes32 public constant vkDigest = keccak256("RevertingVerifier");

    constructor(bytes32 circuitId_, uint256 samplesPerProof_) {
        circuitId = circuitId_;
        samplesPerProof = samplesPerProof_;
    }

    function statementOf(bytes calldata, uint256[] calldata) external pure returns (Statement memory) {
        revert VerifierExploded();
    }

    function verifyAccuracy(bytes calldata, uint256[] calldata)
        external
        pure
        returns (bool, Statement memory)
    {
        revert VerifierExploded();
    }
}
