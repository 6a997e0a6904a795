// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.20;

/// @title IPoseidonChain
/// @notice circomlib's Poseidon on chain, alone and chained the way the Groth16 model
///         commitment chains it (src/zkpot/proving/groth16/packing.py `poseidon_chain`).
/// @dev Implemented by the generated `contracts/generated/poseidon/PoseidonChain.sol`.
interface IPoseidonChain {
    /// @notice Thrown when a Poseidon call would take `inputs` inputs (only 1 to 12 are generated),
    ///         or a chain is empty (`inputs` 0).
    error PoseidonArity(uint256 inputs);
    /// @notice Thrown when input `index` is `value`, not below the BN254 scalar field's modulus.
    error NotAFieldElement(uint256 index, uint256 value);

    /// @notice circomlib's `Poseidon(inputs.length)` of `inputs` (1 to 12 field elements).
    function hash(uint256[] calldata inputs) external view returns (uint256);

    /// @notice The Poseidon chain of `elements`: the first call takes up to 12 elements,
    ///         every later call the previous digest and up to 11 more.
    function hashChain(uint256[] calldata elements) external view returns (uint256);

    /// @notice The data contracts that hold the round constants and MDS matrices.
    function dataContracts() external view returns (address[] memory);
}
