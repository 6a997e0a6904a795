// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.20;

/// @title IAccuracyVerifier
/// @notice Checks a proof that a committed model classifies `correct` of the samples of
///         a committed test-set chunk correctly (EZKL/Halo2 or Groth16 behind an adapter).
///         One verifier serves one circuit (architecture + chunk shape); the consensus
///         contract calls it.
interface IAccuracyVerifier {
    /// @notice The public statement a proof of accuracy makes.
    /// @param modelCommitment Hiding commitment to the model's weights, read from the proof.
    /// @param testSetCommitment Commitment to the test-set chunk the proof ran on, read from the proof.
    /// @param correct Number of the chunk's samples the model classified correctly.
    /// @param submitter The account the proof is bound to (a public input of the proof);
    ///        address(0) when the proof system binds none (the consensus contract then
    ///        relies on the commit-reveal opening alone).
    struct Statement {
        bytes32 modelCommitment;
        bytes32 testSetCommitment;
        uint256 correct;
        address submitter;
    }

    /// @notice The circuit this verifier serves (architecture and chunk shape).
    function circuitId() external view returns (bytes32);

    /// @notice Samples in one test-set chunk, i.e. covered by one proof.
    function samplesPerProof() external view returns (uint256);

    /// @notice Digest of the verification-key artifact this verifier checks proofs against.
    /// @dev A task's `vkDigest` must equal it (checked at task creation), so the key a
    ///      publisher names in the task document is the key the chain uses.
    function vkDigest() external view returns (bytes32);

    /// @notice Decodes the statement a proof claims, without checking the proof.
    function statementOf(bytes calldata proof, uint256[] calldata instances)
        external
        view
        returns (Statement memory);

    /// @notice Verifies the proof; `valid` is false (never a revert) for a proof that
    ///         does not verify or is malformed. The statement is only meaningful when valid.
    function verifyAccuracy(bytes calldata proof, uint256[] calldata instances)
        external
        view
        returns (bool valid, Statement memory statement);
}
