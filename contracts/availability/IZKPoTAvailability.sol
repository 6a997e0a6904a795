// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.20;

import {IAccuracyVerifier} from "../interfaces/IAccuracyVerifier.sol";
import {IPoseidonChain} from "./IPoseidonChain.sol";

/// @title IZKPoTAvailability
/// @notice Keeps Groth16 global models available: whoever holds a model's packed field
///         elements posts them here in calldata; the contract recomputes their Poseidon chain
///         (the Groth16 model commitment) on chain, records the block of the first posting
///         under that commitment and emits the elements in an event. A posted commitment's
///         model can therefore always be read back from the chain, by anyone, from the one
///         block {postedBlock} names. The consensus contract refuses to publish a global model
///         whose commitment was never posted ({checkAvailable}).
/// @dev Content-addressed and task-agnostic: a posting proves only "these elements hash to
///      this commitment", which is all a reader needs, so it may serve any task, round or
///      consensus contract, and whoever posts first pays.
interface IZKPoTAvailability {
    /// @notice Elements whose Poseidon chain is `commitment` were posted by `poster`.
    /// @param commitment The Poseidon chain of `elements` (a Groth16 model commitment).
    /// @param poster The account that posted them.
    /// @param elements The packed field elements (weights, biases, blinding; see packing.py).
    event ModelPosted(bytes32 indexed commitment, address indexed poster, uint256[] elements);

    /// @notice Thrown when a posting holds `count` elements: none, or more than `max`.
    error PostingSize(uint256 count, uint256 max);
    /// @notice Thrown when `commitment` was already posted, in block `postedBlock`.
    error ModelAlreadyPosted(bytes32 commitment, uint256 postedBlock);
    /// @notice Thrown by {checkAvailable} when the model committed as `commitment` was never posted.
    error ModelNotPosted(bytes32 commitment);

    /// @notice Posts a model's packed elements; returns their commitment (Poseidon chain).
    function post(uint256[] calldata elements) external returns (bytes32 commitment);

    /// @notice The commitment a posting of `elements` would record (reverts as {post} would,
    ///         except for {ModelAlreadyPosted}).
    function commitmentOf(uint256[] calldata elements) external view returns (bytes32);

    /// @notice The block of the posting of `commitment`; 0 if it was never posted.
    function postedBlock(bytes32 commitment) external view returns (uint256);

    /// @notice Whether the models behind `verifier` must be posted: true for a Groth16 adapter
    ///         (its model commitment is the Poseidon chain this contract recomputes), false
    ///         for others (EZKL's commitment is another hash: not enforced, a known limit).
    function checksPostings(IAccuracyVerifier verifier) external view returns (bool);

    /// @notice Reverts {ModelNotPosted} when `verifier`'s models must be posted and `model` was not.
    function checkAvailable(IAccuracyVerifier verifier, bytes32 model) external view;

    /// @notice The on-chain Poseidon this contract recomputes commitments with.
    function poseidon() external view returns (IPoseidonChain);
}
