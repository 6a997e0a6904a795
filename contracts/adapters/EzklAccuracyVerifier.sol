// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.20;

import {IAccuracyVerifier} from "../interfaces/IAccuracyVerifier.sol";

/// @notice The part of EZKL's generated reusable Halo2 verifier this adapter calls.
interface IHalo2VerifierReusable {
    function registerVka(bytes32[] memory vka) external returns (bytes32 digest);

    function verifyProof(bytes calldata proof, uint256[] calldata instances, bytes32[] memory vka)
        external
        returns (bool success, bytes32 digest, int256[] memory rescaledInstances);
}

/// @title EzklAccuracyVerifier
/// @notice Verifies proofs of accuracy of one circuit through EZKL's reusable verifier.
/// @dev The proof starts with the KZG commitments of the committed ("polycommit") inputs:
///      first `testSetPoints` G1 points for the test chunk (features, labels), then
///      `modelPoints` for the weights. EZKL's verifier accepts whatever commitments the
///      proof carries, so the statement exposes their keccak256 digests and the caller
///      (the consensus contract) compares them with the published ones. With a hashed
///      model binding (`modelPoints == 0`) the model commitment is instance 0 instead.
///      The VK artifact is kept as the code of a data contract (read by EXTCODECOPY),
///      which costs far less gas per call than storage or calldata. EZKL proofs bind no
///      submitter: `Statement.submitter` stays address(0).
contract EzklAccuracyVerifier is IAccuracyVerifier {
    /// @notice Thrown when the VK artifact given to the constructor is empty.
    error EmptyVerificationKey();
    /// @notice Thrown when the VK artifact does not fit in a contract's code (EIP-170,
    ///         24,575 bytes of data): the circuit has too many columns for this adapter.
    error VerificationKeyTooLarge(uint256 bytesLength);
    /// @notice Thrown when the constructor's layout cannot hold a count instance.
    error InvalidLayout();
    /// @notice Thrown by `statementOf` when the proof or instances do not have this circuit's shape.
    error MalformedProof();

    IHalo2VerifierReusable private immutable _halo2;
    address private immutable _vkaStore;
    uint256 private immutable _vkaWords;
    bytes32 private immutable _vkaDigest;
    bytes32 private immutable _circuitId;
    uint256 private immutable _samples;
    uint256 private immutable _testSetPoints;
    uint256 private immutable _modelPoints;
    uint256 private immutable _numInstances;
    uint256 private immutable _countScale;

    /// @param halo2 The deployed `Halo2VerifierReusable`.
    /// @param vka The circuit's VK artifact words (EZKL `create_evm_vka`).
    /// @param circuitId_ The circuit id (sha256 of its spec).
    /// @param samples Test samples per proof.
    /// @param testSetPoints G1 points committing to the test chunk at the proof's start.
    /// @param modelPoints G1 points committing to the weights after those (0: hashed model).
    /// @param numInstances Public instances per proof; the last one is the count.
    /// @param countScale Fixed-point bits of the count instance.
    constructor(
        IHalo2VerifierReusable halo2,
        bytes32[] memory vka,
        bytes32 circuitId_,
        uint256 samples,
        uint256 testSetPoints,
        uint256 modelPoints,
        uint256 numInstances,
        uint256 countScale
    ) {
        if (vka.length == 0) revert EmptyVerificationKey();
        if (numInstances == 0 || (modelPoints == 0 && numInstances < 2)) revert InvalidLayout();
        _halo2 = halo2;
        _circuitId = circuitId_;
        _samples = samples;
        _testSetPoints = testSetPoints;
        _modelPoints = modelPoints;
        _numInstances = numInstances;
        _countScale = countScale;
        _vkaWords = vka.length;
        _vkaDigest = halo2.registerVka(vka);
        _vkaStore = _store(vka);
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
    /// @dev keccak256 of the VK artifact words, as registered with the reusable verifier.
    function vkDigest() external view returns (bytes32) {
        return _vkaDigest;
    }

    /// @notice The reusable verifier this adapter calls.
    function halo2Verifier() external view returns (address) {
        return address(_halo2);
    }

    /// @notice keccak256 of the VK artifact words, as registered with the reusable verifier.
    function vkaDigest() external view returns (bytes32) {
        return _vkaDigest;
    }

    /// @notice The VK artifact words, as passed to the reusable verifier on every call.
    function vka() public view returns (bytes32[] memory words) {
        words = new bytes32[](_vkaWords);
        address store = _vkaStore;
        uint256 size = _vkaWords * 32;
        assembly {
            // The data contract's code is a STOP byte followed by the words.
            extcodecopy(store, add(words, 0x20), 1, size)
        }
    }

    /// @inheritdoc IAccuracyVerifier
    function statementOf(bytes calldata proof, uint256[] calldata instances)
        public
        view
        returns (Statement memory statement)
    {
        if (!_wellFormed(proof, instances)) revert MalformedProof();
        return _decode(proof, instances);
    }

    /// @inheritdoc IAccuracyVerifier
    function verifyAccuracy(bytes calldata proof, uint256[] calldata instances)
        external
        view
        returns (bool valid, Statement memory statement)
    {
        if (!_wellFormed(proof, instances)) return (false, statement);
        // verifyProof is not declared view, but only reads: STATICCALL keeps this a view
        // and turns any revert inside the verifier into `false`.
        (bool ok, bytes memory ret) = address(_halo2).staticcall(
            abi.encodeCall(IHalo2VerifierReusable.verifyProof, (proof, instances, vka()))
        );
        if (!ok || ret.length < 96) return (false, statement);
        (bool success, bytes32 digest) = abi.decode(ret, (bool, bytes32));
        if (!success || digest != _vkaDigest) return (false, statement);
        statement = _decode(proof, instances);
        if (statement.correct > _samples) return (false, statement);
        return (true, statement);
    }

    function _wellFormed(bytes calldata proof, uint256[] calldata instances) private view returns (bool) {
        return instances.length == _numInstances && proof.length >= 64 * (_testSetPoints + _modelPoints);
    }

    function _decode(bytes calldata proof, uint256[] calldata instances)
        private
        view
        returns (Statement memory statement)
    {
        uint256 split = 64 * _testSetPoints;
        if (split > 0) statement.testSetCommitment = keccak256(proof[0:split]);
        if (_modelPoints > 0) {
            statement.modelCommitment = keccak256(proof[split:split + 64 * _modelPoints]);
        } else {
            statement.modelCommitment = bytes32(instances[0]);
        }
        statement.correct = instances[instances.length - 1] >> _countScale;
    }

    /// @dev Deploys `words` as the code of a data contract (SSTORE2 layout: STOP, then data).
    function _store(bytes32[] memory words) private returns (address store) {
        bytes memory data = abi.encodePacked(words);
        // PUSH4 len, DUP1, PUSH1 14, PUSH1 0, CODECOPY, PUSH1 0, RETURN: returns the
        // `len` bytes that follow this 14-byte header as the new contract's code.
        bytes memory init = abi.encodePacked(hex"63", uint32(data.length + 1), hex"80600e6000396000f3", hex"00", data);
        assembly {
            store := create(0, add(init, 0x20), mload(init))
        }
        if (store == address(0)) revert VerificationKeyTooLarge(data.length);
    }
}
