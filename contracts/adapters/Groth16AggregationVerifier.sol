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
        uint256 n = commitments.length;
        uint256 k = _slots;
        if (proof.length != _PROOF_BYTES || n == 0 || n > k || weights.length != n) return false;
        // The static call data of verifyProof after the selector: the eight proof words,
        // then the 2K+1 public signals.
        uint256[] memory words = new uint256[](8 + 2 * k + 1);
        uint256[8] memory points = abi.decode(proof, (uint256[8]));
        for (uint256 i = 0; i < 8; ++i) {
            words[i] = points[i];
        }
        for (uint256 i = 0; i < k; ++i) {
            words[8 + i] = uint256(i < n ? commitments[i] : _padding);
            words[8 + k + i] = i < n ? weights[i] : 0;
        }
        words[8 + 2 * k] = uint256(globalCommitment);
        // STATICCALL: a verifier that reverts or returns garbage is a rejection.
        (bool ok, bytes memory ret) = _verifier.staticcall(abi.encodePacked(_selector, words));
        return ok && ret.length == 32 && abi.decode(ret, (uint256)) == 1;
    }
}
