// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.20;

import {IAccuracyVerifier} from "../interfaces/IAccuracyVerifier.sol";
import {IPoseidonChain} from "./IPoseidonChain.sol";
import {IZKPoTAvailability} from "./IZKPoTAvailability.sol";

/// @notice What tells a Groth16 accuracy adapter apart (EZKL's adapter has no such function).
interface IGroth16Adapter {
    function groth16Verifier() external view returns (address);
}

/// @title ZKPoTAvailability
/// @notice See {IZKPoTAvailability}.
contract ZKPoTAvailability is IZKPoTAvailability {
    /// @notice Most elements one posting holds: hashing them on chain stays well under a
    ///         30M-gas block (results/availability.json has the measured gas).
    uint256 public constant MAX_POSTED_ELEMENTS = 512;

    IPoseidonChain private immutable _poseidon;
    mapping(bytes32 commitment => uint256 blockNumber) private _postedBlock;

    /// @param poseidon_ The generated on-chain Poseidon (contracts/generated/poseidon/).
    constructor(IPoseidonChain poseidon_) {
        _poseidon = poseidon_;
    }

    /// @inheritdoc IZKPoTAvailability
    function post(uint256[] calldata elements) external returns (bytes32 commitment) {
        commitment = commitmentOf(elements);
        uint256 posted = _postedBlock[commitment];
        if (posted != 0) revert ModelAlreadyPosted(commitment, posted);
        _postedBlock[commitment] = block.number;
        emit ModelPosted(commitment, msg.sender, elements);
    }

    /// @inheritdoc IZKPoTAvailability
    function commitmentOf(uint256[] calldata elements) public view returns (bytes32) {
        uint256 count = elements.length;
        if (count == 0 || count > MAX_POSTED_ELEMENTS) revert PostingSize(count, MAX_POSTED_ELEMENTS);
        return bytes32(_poseidon.hashChain(elements));
    }

    /// @inheritdoc IZKPoTAvailability
    function postedBlock(bytes32 commitment) external view returns (uint256) {
        return _postedBlock[commitment];
    }

    /// @inheritdoc IZKPoTAvailability
    function checksPostings(IAccuracyVerifier verifier) public view returns (bool) {
        try IGroth16Adapter(address(verifier)).groth16Verifier() returns (address inner) {
            // A Groth16 adapter always names its verifier (its constructor requires code there).
            return inner != address(0);
        } catch {
            return false;
        }
    }

    /// @inheritdoc IZKPoTAvailability
    function checkAvailable(IAccuracyVerifier verifier, bytes32 model) external view {
        if (_postedBlock[model] != 0 || !checksPostings(verifier)) return;
        revert ModelNotPosted(model);
    }

    /// @inheritdoc IZKPoTAvailability
    function poseidon() external view returns (IPoseidonChain) {
        return _poseidon;
    }
}
