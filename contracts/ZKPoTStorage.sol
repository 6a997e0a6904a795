// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.20;

import {IAccuracyVerifier} from "./interfaces/IAccuracyVerifier.sol";
import {IZKPoT} from "./interfaces/IZKPoT.sol";

/// @title ZKPoTStorage
/// @notice The consensus contract's storage layout, in one place.
/// @dev {ZKPoT} inherits it first, so these variables start at slot 0; {ZKPoTLens} inherits
///      it too and never writes it: there the declarations only let the compiler compute
///      the slot of a mapping path (`_rounds[taskId][round].slot`), which the lens then
///      reads from the core through {IExtsload}. The word and bit offsets inside each
///      record are listed beside its fields (the lens decodes them).
///
///      Compact by design: CIDs that only readers need (a submission's proofs, a hand-off)
///      live in events, not storage; what a submission changes is packed so that it
///      updates words that are already non-zero (written at commit or at opening).
abstract contract ZKPoTStorage {
    /// @dev End of a round's admitted list (never an account that can send a transaction).
    address internal constant _END = address(1);
    /// @dev What a masked round word (the digest, the randao seed) holds while its value is zero.
    bytes32 internal constant _MASK = bytes32(uint256(1));

    /// @dev What every submission reads about its task, in one word.
    struct TaskRules {
        IAccuracyVerifier verifier; //     bits   0..159
        uint8 chunksPerRound; //                160..167
        uint8 maxSubmissions; //                168..175
        bool allowlistEnabled; //               176..183
        IZKPoT.AggregationPolicy policy; //     184..191
        bool rewarded; //                       192..199
        bool aggregationProven; //              200..207
    }

    /// @dev A round (see {IZKPoT-Round} for the meaning of each field).
    struct RoundRecord {
        // word 0: read by every call of the round; the two counts are written with the status
        IZKPoT.RoundStatus status; //        bits   0..7
        uint40 commitDeadline; //                   8..47
        uint40 revealDeadline; //                  48..87
        uint40 submitDeadline; //                  88..127
        bool baselineProven; //                   128..135
        uint16 commits; //                        136..151 (commits so far: the next commit's order)
        uint32 newGlobalCorrect; //               152..183 (published with the status)
        uint32 baselineCorrect; //                184..215 (recorded with baselineProven)
        uint40 finalisedAt; //                    216..255 (the block's timestamp, written with the status)
        // word 1: the admitted list and the current leader's hand-offs; non-zero from opening
        address head; //                     bits   0..159 (first admitted submitter, or _END)
        uint64 aggregateDeadline; //              160..223
        uint8 count; //                           224..231 (admitted submitters)
        uint8 leaderEpoch; //                     232..239 (leaders installed so far)
        uint8 handOffs; //                        240..247 (hand-offs to the current leader)
        // word 2
        address leader; //                   bits   0..159
        uint40 openedBlock; //                    160..199 (block number of openRound: log reads start here)
        uint40 handOffDeadline; //                200..239 (the current leader's hand-off window ends)
        // words 3 and 4 hold their value XOR _MASK, so that openRound makes them non-zero and
        // the round's first submission updates them instead of creating them.
        bytes32 maskedDigest; //             word 3 (submissionsDigest ^ _MASK)
        bytes32 maskedRandaoSeed; //         word 4 (randaoSeed ^ _MASK)
        bytes32 tieSeed; //                  word 5
        bytes32 globalModelCommitment; //    word 6
        bytes32 testSetCommitment; //        word 7
        bytes32 newModelCommitment; //       word 8
        bytes32 blockHash; //                word 9
        string globalModelCID; //            word 10
        string testSetCID; //                word 11
        string newModelCID; //               word 12
        address[] included; //               word 13
        bytes32[12] chunkCommitments; //     words 14..25 (MAX_CHUNKS_PER_ROUND; chunksPerRound used)
    }

    /// @dev One participant in one round.
    struct SubmissionRecord {
        // word 0: the commit-phase commitment; replaced by the model commitment once submitted
        bytes32 commitment;
        // word 1: written at commit, so admission updates a non-zero word
        bool committed; //                   bits   0..7
        bool verified; //                           8..15
        bool evicted; //                           16..23
        bool passedOver; //                        24..31
        bool handedOff; //                         32..39
        uint8 handoffEpoch; //                     40..47 (leaderEpoch it handed off in)
        uint32 correct; //                         48..79
        address next; //                           80..239 (next admitted submitter, or _END)
        uint16 commitOrder; //                    240..255 (commits before this one in the round)
    }

    // slither-disable-start uninitialized-state ZKPoT writes these; ZKPoTLens and ZKPoTAggregation only compute their slots
    uint256 internal _taskCount;
    mapping(uint256 taskId => IZKPoT.TaskConfig) internal _configs;
    mapping(uint256 taskId => TaskRules) internal _rules;
    mapping(uint256 taskId => IZKPoT.TaskState) internal _states;
    mapping(uint256 taskId => mapping(address account => bool)) internal _allowed;
    mapping(uint256 taskId => mapping(address account => bytes32)) internal _keys;
    mapping(uint256 taskId => mapping(uint256 round => RoundRecord)) internal _rounds;
    mapping(uint256 taskId => mapping(uint256 round => mapping(address account => SubmissionRecord)))
        internal _submissions;
    /// @dev Model uniqueness: one word per model commitment used in a round.
    mapping(uint256 taskId => mapping(uint256 round => mapping(bytes32 model => bool))) internal _modelUsed;
    /// @dev Block `index` of a task: the round it finalised. Every other header field is in
    ///      that round's record (and the previous block's round for `prevBlockHash`), from
    ///      which {ZKPoTLens-getBlock} rebuilds the header and its hash.
    mapping(uint256 taskId => mapping(uint256 index => uint256 round)) internal _blocks;
    // slither-disable-end uninitialized-state

}
