// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.20;

/// @title IAggregationVerifier
/// @notice Checks a proof that a global model's commitment is the commitment of the
///         weighted average of the models behind `commitments` (weights = their verified
///         correct counts), in the aggregation circuit's fixed-point arithmetic. One
///         verifier serves one accuracy circuit (its model commitment) and one slot count K.
interface IAggregationVerifier {
    /// @notice The accuracy circuit whose model commitments this circuit opens.
    function accuracyCircuitId() external view returns (bytes32);

    /// @notice The aggregation circuit's own id.
    function circuitId() external view returns (bytes32);

    /// @notice K: the most models one proof aggregates.
    function slots() external view returns (uint256);

    /// @notice True when `proof` shows that `globalCommitment` commits to the weighted
    ///         average of the models `commitments` commit to, with `weights`, in this
    ///         order. Fewer than K models are padded by the verifier (weight 0, the
    ///         circuit's all-zero padding model). False (never a revert) otherwise,
    ///         including for more than K models or mismatched lengths.
    function verifyAggregation(
        bytes calldata proof,
        bytes32[] calldata commitments,
        uint256[] calldata weights,
        bytes32 globalCommitment
    ) external view returns (bool);
}
