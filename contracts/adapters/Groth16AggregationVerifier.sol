// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.20;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {IAggregationVerifier} from "../interfaces/IAggregationVerifier.sol";

/// @title Groth16AggregationVerifier
/// @notice Verifies Groth16 proofs of one aggregation circuit through its generated
///         snarkjs verifier (`verifyProof(uint[2], uint[2][2], uint[2], uint[2K+1])`).
/// @dev Proof bytes = abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c) (256 bytes).
///      Public signals, in circom's order: [commitment[0..K-1], weight[0..K-1],
///      globalCommitment]; slots past the given models carry `paddingCommitment` and
///      weight 0. `vkDigest()` is the generated verifier's code hash.
contract Groth16AggregationVerifier is IAggregationVerifier {
    /// @notice Thrown when the verifier address has no code.
    error VerifierHasNoCode();
    /// @notice Thrown when K is 0 or above 64.
    error InvalidSlots();

    uint256 private constant _PROOF_BYTES = 256;

    address private immutable _verifier;
    bytes32 private immutable _circuitId;
    bytes32 private immutable _accuracyCircuitId;
    uint256 private immutable _slots;
    bytes32 private immutable _padding;
    bytes4 private immutable _selector;

    /// @param verifier_ The aggregation circuit's generated Groth16 verifier.
    /// @param circuitId_ The aggregation circuit's id.
    /// @param accuracyCircuitId_ The accuracy circuit whose commitments it opens.
    /// @param slots_ K.
    /// @param paddingCommitment_ The empty slot's commitment (all-zero model and blinding).
    constructor(
        address verifier_,
        bytes32 circuitId_,
        bytes32 accuracyCircuitId_,
        uint256 slots_,
        bytes32 paddingCommitment_
    ) {
        if (verifier_.code.length == 0) revert VerifierHasNoCode();
        if (slots_ == 0 || slots_ > 64) revert InvalidSlots();
        _verifier = verifier_;
        _circuitId = circuitId_;
        _accuracyCircuitId = accuracyCircuitId_;
        _slots = slots_;
        _padding = paddingCommitment_;
        _selector = bytes4(
            keccak256(
                abi.encodePacked(
                    "verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[",
                    Strings.toString(2 * slots_ + 1),
                    "])"
                )
            )
        );
    }

    /// @inheritdoc IAggregationVerifier
    function accuracyCircuitId() external view returns (bytes32) {
        return _accuracyCircuitId;
    }

    /// @inheritdoc IAggregationVerifier
    function circuitId() external view returns (bytes32) {
        return _circuitId;
    }

    /// @inheritdoc IAggregationVerifier
    function slots() external view returns (uint256) {
        return _slots;
    }

    /// @notice The empty slot's commitment.
    function paddingCommitment() external view returns (bytes32) {
        return _padding;
    }

    /// @notice The generated verifier's code hash (its code embeds the verification key).
    function vkDigest() external view returns (bytes32) {
        return _verifier.codehash;
    }

    /// @notice The generated Groth16 verifier this adapter calls.
    function groth16Verifier() external view returns (address) {
        return _verifier;
    }

    /// @inheritdoc IAggregationVerifier
    function verifyAggregation(
        bytes calldata proof,
        bytes32[] calldata commitments,
        uint256[] calldata weights,
        bytes32 globalCommitment
    ) external view returns (bool) {
        uint256 k = _slots;
        uint256 n = commitments.length;
        if (proof.length != _PROOF_BYTES || n == 0 || n > k || weights.length != n) return false;
        // verifyProof's call data, written once: the selector and the proof's eight words as
        // they are, then the 2K+1 public signals (slots past the given models padded).
        uint256 data = _head(proof, 0x124 + 64 * k);
        bytes32 padding = _padding;
        assembly ("memory-safe") {
            let signals := add(data, 0x104)
            for { let i := 0 } lt(i, k) { i := add(i, 1) } {
                let c := padding
                let w := 0
                if lt(i, n) {
                    c := calldataload(add(commitments.offset, shl(5, i)))
                    w := calldataload(add(weights.offset, shl(5, i)))
                }
                mstore(add(signals, shl(5, i)), c)
                mstore(add(signals, shl(5, add(k, i))), w)
            }
            mstore(add(signals, shl(6, k)), globalCommitment)
        }
        return _holds(data, 0x124 + 64 * k);
    }

    /// @dev Claims `size` bytes of memory for the call data and writes the selector and the
    ///      proof's words there.
    function _head(bytes calldata proof, uint256 size) private view returns (uint256 data) {
        bytes4 selector = _selector;
        assembly ("memory-safe") {
            data := mload(0x40)
            mstore(0x40, add(data, and(add(size, 0x1f), not(0x1f))))
            mstore(data, selector)
            calldatacopy(add(data, 0x04), proof.offset, 0x100)
        }
    }

    /// @dev STATICCALL: a verifier that reverts or returns garbage is a rejection.
    function _holds(uint256 data, uint256 size) private view returns (bool ok) {
        address verifier = _verifier;
        assembly ("memory-safe") {
            ok := staticcall(gas(), verifier, data, size, 0x00, 0x20)
            ok := and(ok, and(eq(returndatasize(), 0x20), eq(mload(0x00), 1)))
        }
    }
}
