// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.20;

import {IAccuracyVerifier} from "../interfaces/IAccuracyVerifier.sol";

/// @notice The snarkjs-template Groth16 verifier this adapter calls (generated per circuit
///         into `contracts/verifiers/`, four public signals).
interface IGroth16Verifier {
    function verifyProof(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[4] calldata pubSignals
    ) external view returns (bool);
}

/// @title Groth16AccuracyVerifier
/// @notice Verifies Groth16 proofs of accuracy of one circuit through its generated verifier.
/// @dev Proof bytes = abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c) (256 bytes, G2
///      coordinates in the EVM's order: imaginary part first). Instances = the circuit's four
///      public signals, in circom's order (outputs, then public inputs):
///      [correct, modelCommitment, testSetCommitment, submitter]. The verification key lives in
///      the verifier's code, so `vkDigest()` is the verifier's code hash.
contract Groth16AccuracyVerifier is IAccuracyVerifier {
    /// @notice Thrown when the verifier address has no code.
    error VerifierHasNoCode();
    /// @notice Thrown by `statementOf` when the proof or instances do not have this circuit's shape.
    error MalformedProof();

    uint256 private constant _PROOF_BYTES = 256;
    uint256 private constant _SIGNALS = 4;

    IGroth16Verifier private immutable _verifier;
    bytes32 private immutable _vkDigest;
    bytes32 private immutable _circuitId;
    uint256 private immutable _samples;

    /// @param verifier_ The circuit's generated Groth16 verifier.
    /// @param circuitId_ The circuit id (sha256 of its spec).
    /// @param samples Test samples per proof.
    constructor(IGroth16Verifier verifier_, bytes32 circuitId_, uint256 samples) {
        if (address(verifier_).code.length == 0) revert VerifierHasNoCode();
        _verifier = verifier_;
        _vkDigest = address(verifier_).codehash;
        _circuitId = circuitId_;
        _samples = samples;
    }

    /// @inheritdoc IAccuracyVerifier
    function circuitId() external view returns (bytes32) {
        return _circuitId;
    }

    /// @inheritdoc IAccuracyVerifier
    function samplesPerProof() external view returns (uint256) {
        return _samples;
    }

    /// @inheritdoc IAccuracyVerifier
    /// @dev The generated verifier's code hash (its code embeds the verification key).
    function vkDigest() external view returns (bytes32) {
        return _vkDigest;
    }

    /// @notice The generated Groth16 verifier this adapter calls.
    function groth16Verifier() external view returns (address) {
        return address(_verifier);
    }

    /// @inheritdoc IAccuracyVerifier
    function statementOf(bytes calldata proof, uint256[] calldata instances)
        external
        pure
        returns (Statement memory)
    {
        if (!_wellFormed(proof, instances)) revert MalformedProof();
        return _decode(instances);
    }

    /// @inheritdoc IAccuracyVerifier
    /// @dev Invalid as well: a submitter that is zero or not an address (a proof must be
    ///      bound to its sender), and a count above the samples per proof.
    function verifyAccuracy(bytes calldata proof, uint256[] calldata instances)
        external
        view
        returns (bool valid, Statement memory statement)
    {
        if (!_wellFormed(proof, instances)) return (false, statement);
        // STATICCALL: a verifier that reverts or returns garbage is a rejection, never a revert.
        if (!_pairingHolds(proof, instances)) return (false, statement);
        statement = _decode(instances);
        if (statement.correct > _samples || instances[3] == 0 || instances[3] >> 160 != 0) {
            return (false, statement);
        }
        return (true, statement);
    }

    /// @dev `verifyProof(a, b, c, signals)`: its call data is the selector, then the proof's
    ///      eight words as they are (abi.encode of a, b, c is already that layout), then the
    ///      four signals, so both are copied straight from call data (no decoding).
    function _pairingHolds(bytes calldata proof, uint256[] calldata instances) private view returns (bool ok) {
        address verifier = address(_verifier);
        bytes4 selector = IGroth16Verifier.verifyProof.selector;
        assembly ("memory-safe") {
            let data := mload(0x40)
            mstore(data, selector)
            calldatacopy(add(data, 0x04), proof.offset, 0x100)
            calldatacopy(add(data, 0x104), instances.offset, 0x80)
            ok := staticcall(gas(), verifier, data, 0x184, 0x00, 0x20)
            ok := and(ok, and(eq(returndatasize(), 0x20), eq(mload(0x00), 1)))
        }
    }

    function _wellFormed(bytes calldata proof, uint256[] calldata instances) private pure returns (bool) {
        return proof.length == _PROOF_BYTES && instances.length == _SIGNALS;
    }

    function _decode(uint256[] calldata instances) private pure returns (Statement memory statement) {
        statement.correct = instances[0];
        statement.modelCommitment = bytes32(instances[1]);
        statement.testSetCommitment = bytes32(instances[2]);
        statement.submitter = address(uint160(instances[3]));
    }
}
