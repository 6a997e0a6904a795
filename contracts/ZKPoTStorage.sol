// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.20;

import {IZKPoT} from "./interfaces/IZKPoT.sol";

/// @title ZKPoTStorage
/// @notice The consensus contract's storage layout, in one place.
/// @dev {ZKPoT} inherits it first, so these variables start at slot 0; {ZKPoTLens} inherits
///      it too and never writes it: there the declarations only let the compiler compute
///      the slot of a mapping path (`_rounds[taskId][round].slot`), which the lens then
///      reads from the core through {IExtsload}. Field offsets inside a struct are fixed by
///      the struct's declaration in {IZKPoT} and listed in {ZKPoTLens}.
abstract contract ZKPoTStorage {
    // slither-disable-start uninitialized-state ZKPoT writes these; ZKPoTLens only computes their slots
    uint256 internal _taskCount;
    mapping(uint256 taskId => IZKPoT.TaskConfig) internal _configs;
    mapping(uint256 taskId => IZKPoT.TaskState) internal _states;
    mapping(uint256 taskId => mapping(address account => bool)) internal _allowed;
    mapping(uint256 taskId => mapping(address account => bytes32)) internal _keys;
    mapping(uint256 taskId => mapping(uint256 round => IZKPoT.Round)) internal _rounds;
    mapping(uint256 taskId => mapping(uint256 round => mapping(address account => IZKPoT.Submission)))
        internal _submissions;
    mapping(uint256 taskId => mapping(uint256 round => mapping(bytes32 model => bool))) internal _modelUsed;
    mapping(uint256 taskId => mapping(uint256 index => IZKPoT.BlockHeader)) internal _blocks;
    // slither-disable-end uninitialized-state

}
