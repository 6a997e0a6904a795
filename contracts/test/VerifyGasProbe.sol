// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.20;

import {IAccuracyVerifier} from "../interfaces/IAccuracyVerifier.sol";

/// @notice Measures what a *successful* `verifyAccuracy` costs. `verifyAccuracy` never
///         reverts (an out-of-gas verifier call just returns false), so estimating its
///         gas directly finds the cheapest *failing* call. This probe reverts unless the
///         proof verified, so `eth_estimateGas` on `probe` is the real cost.
contract VerifyGasProbe {
    /// @notice Thrown when the proof did not verify.
    error NotVerified();

    /// @notice Verifies through `verifier`; reverts with `NotVerified` unless valid.
    /// @return correct The verified count.
    function probe(IAccuracyVerifier verifier, bytes calldata proof, uint256[] calldata instances)
        external
        view
        returns (uint256 correct)
    {
        (bool valid, IAccuracyVerifier.Statement memory statement) =
            verifier.verifyAccuracy(proof, instances);
        if (!valid) revert NotVerified();
        return statement.correct;
    }
}
