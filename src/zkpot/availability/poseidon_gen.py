"""Generate the on-chain Poseidon chain: circomlib's constants in data contracts + the hasher.

``python -m zkpot.availability.poseidon_gen`` rewrites ``contracts/generated/poseidon/``
(never edit those files by hand). The constants are circomlib's reference ones
(``node_modules/circomlib/circuits/poseidon_constants_old.circom``, GPL-3.0 like this
project): for each width ``t = inputs + 1`` from 2 to 13, ``t * (8 + R_P(t))`` round
constants and the ``t x t`` MDS matrix. They total 7,116 words (228 KB): as ``PUSH32``
code no contract could hold them under EIP-170, so they are concatenated into one blob
and cut into data contracts of at most :data:`DATA_BYTES` bytes (runtime code = a
``STOP`` byte, then the data); ``PoseidonChain`` copies what a width needs into memory
with ``EXTCODECOPY`` and runs the unoptimised permutation (the one circomlib's
``poseidon_old.circom`` and circomlibjs's ``poseidon_reference`` compute; the optimised
one gives the same digests with 2x the constants).

:func:`permutation_reference` is this module's own Python rendering of the same
algorithm; the tests check it and the contract against ``light-poseidon`` for every width.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from zkpot.proving.curve import SCALAR_MODULUS

MIN_T = 2
MAX_T = 13
"""Widths generated: Poseidon of 1 to 12 inputs (the chain's POSEIDON_ARITY)."""

ROUNDS_F = 8
ROUNDS_P = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68]
"""circomlib's partial rounds, indexed by ``t - 2``."""

DATA_BYTES = 19_659
"""Data bytes per data contract: with the STOP byte 19,660, 20 % under EIP-170."""

SOURCE = Path("node_modules/circomlib/circuits/poseidon_constants.circom")
OUT_DIR = Path("contracts/generated/poseidon")


@dataclass(frozen=True)
class Constants:
    """circomlib's optimised constants of one width (``poseidon.circom``'s C, S, M, P)."""

    t: int
    c: list[int]
    """``t * 8 + R_P`` round constants."""
    s: list[int]
    """``(2t - 1) * R_P`` sparse-matrix entries of the partial rounds."""
    m: list[list[int]]
    """The MDS matrix as circomlib indexes it (``Mix``: ``out[i] = sum_j m[j][i] * in[j]``)."""
    p: list[list[int]]
    """The pre-sparse matrix applied once, before the partial rounds."""

    @property
    def partial(self) -> int:
        """Partial rounds."""
        return ROUNDS_P[self.t - 2]


@dataclass(frozen=True)
class Width:
    """Where one width's constants start in the concatenated blob (word offsets)."""

    t: int
    partial: int
    c_offset: int
    s_offset: int
    m_offset: int
    p_offset: int
    end: int


def _function_blocks(text: str, name: str) -> dict[int, list[int]]:
    start = text.index(f"function {name}(t)")
    end = text.find("function ", start + 1)
    body = text[start : end if end > 0 else len(text)]
    blocks: dict[int, list[int]] = {}
    for match in re.finditer(r"t\s*==\s*(\d+)\)\s*\{\s*return\s*(\[.*?\])\s*;", body, re.S):
        numbers = re.findall(r"0x[0-9a-fA-F]+|\d+", match.group(2))
        blocks[int(match.group(1))] = [int(n, 0) for n in numbers]
    return blocks


def read_constants(root: Path) -> dict[int, Constants]:
    """Every generated width's constants, checked for shape and range."""
    text = (root / SOURCE).read_text()
    blocks = {name: _function_blocks(text, f"POSEIDON_{name}") for name in "CSMP"}
    out: dict[int, Constants] = {}
    for t in range(MIN_T, MAX_T + 1):
        partial = ROUNDS_P[t - 2]
        c, s, m, p = (blocks[name][t] for name in "CSMP")
        shape = (t * ROUNDS_F + partial, (2 * t - 1) * partial, t * t, t * t)
        if (len(c), len(s), len(m), len(p)) != shape:
            raise ValueError(f"unexpected constant counts for t={t}")
        if not all(0 <= v < SCALAR_MODULUS for v in (*c, *s, *m, *p)):
            raise ValueError(f"constant outside the field for t={t}")
        out[t] = Constants(t, c, s, _rows(m, t), _rows(p, t))
    return out


def _rows(flat: list[int], t: int) -> list[list[int]]:
    return [flat[i * t : (i + 1) * t] for i in range(t)]


def _mix(matrix: Sequence[Sequence[int]], state: list[int]) -> list[int]:
    t = len(state)
    return [sum(matrix[j][i] * state[j] for j in range(t)) % SCALAR_MODULUS for i in range(t)]


def permutation_reference(inputs: Sequence[int], k: Constants) -> int:
    """The circomlib ``Poseidon(len(inputs))``, step by step as ``poseidon.circom`` computes it."""
    q = SCALAR_MODULUS
    t, half = k.t, ROUNDS_F // 2
    state = [(x + k.c[i]) % q for i, x in enumerate([0, *inputs])]
    for r in range(half):
        state = [pow(x, 5, q) for x in state]
        state = [(x + k.c[(r + 1) * t + i]) % q for i, x in enumerate(state)]
        state = _mix(k.p if r == half - 1 else k.m, state)
    for r in range(k.partial):
        first = (pow(state[0], 5, q) + k.c[(half + 1) * t + r]) % q
        row = k.s[(2 * t - 1) * r : (2 * t - 1) * (r + 1)]
        new0 = (first * row[0] + sum(row[i] * state[i] for i in range(1, t))) % q
        state = [new0, *[(state[i] + first * row[t + i - 1]) % q for i in range(1, t)]]
    for r in range(half - 1):
        state = [pow(x, 5, q) for x in state]
        base = (half + 1) * t + k.partial + r * t
        state = _mix(k.m, [(x + k.c[base + i]) % q for i, x in enumerate(state)])
    state = [pow(x, 5, q) for x in state]
    return sum(k.m[j][0] * state[j] for j in range(t)) % q


def layout(constants: dict[int, Constants]) -> tuple[list[Width], list[int]]:
    """The widths' offsets and the concatenated words.

    Per width: C, S, then M and P *transposed* (row ``i`` holds the coefficients of
    output ``i``), so that the contract reads each output's row contiguously.
    """
    widths: list[Width] = []
    words: list[int] = []
    for t in range(MIN_T, MAX_T + 1):
        k = constants[t]
        c_offset = len(words)
        words += k.c
        s_offset = len(words)
        words += k.s
        m_offset = len(words)
        words += [k.m[j][i] for i in range(t) for j in range(t)]
        p_offset = len(words)
        words += [k.p[j][i] for i in range(t) for j in range(t)]
        widths.append(Width(t, k.partial, c_offset, s_offset, m_offset, p_offset, len(words)))
    return widths, words


HEADER = (
    "// SPDX-License-Identifier: GPL-3.0-or-later\n"
    "// GENERATED by `python -m zkpot.availability.poseidon_gen` from circomlib's\n"
    "// circuits/poseidon_constants_old.circom (GPL-3.0). Do not edit by hand.\n"
    "pragma solidity 0.8.20;\n\n"
)


def data_contract(index: int, data: bytes) -> str:
    """A contract whose runtime code is ``STOP`` then ``data`` (read with EXTCODECOPY)."""
    return (
        HEADER
        + f"/// @title PoseidonData{index}\n"
        + "/// @notice Poseidon constants, part "
        + f"{index}: its runtime code is a STOP byte, then {len(data)} data bytes.\n"
        + f"contract PoseidonData{index} {{\n"
        + "    constructor() {\n"
        + f'        bytes memory code = hex"00{data.hex()}";\n'
        + "        assembly {\n"
        + "            return(add(code, 32), mload(code))\n"
        + "        }\n"
        + "    }\n"
        + "}\n"
    )


def chain_contract(widths: list[Width], parts: int) -> str:
    """The hasher: Poseidon chains over calldata elements, constants read from the parts."""
    assigns = "\n".join(f"        _data{i} = data[{i}];" for i in range(parts))
    immutables = "\n".join(f"    address private immutable _data{i};" for i in range(parts))
    cases = "\n".join(f"        if (index == {i}) return _data{i};" for i in range(parts))
    table = "\n".join(
        f"        if (t == {w.t}) return ({w.partial}, {w.c_offset}, {w.end});" for w in widths
    )
    return HEADER + f"""import {{IPoseidonChain}} from "../../availability/IPoseidonChain.sol";

/// @title PoseidonChain
/// @notice circomlib's Poseidon (widths 2..13) over calldata, chained as
///         src/zkpot/proving/groth16/packing.py's `poseidon_chain`: the first call takes up
///         to 12 elements, every later one the previous digest and up to 11 more.
/// @dev The optimised permutation of circomlib's poseidon.circom (full rounds with the MDS
///      matrix, the pre-sparse matrix P before the partial rounds, sparse matrices S in
///      them). Its constants live in {parts} data contracts (see zkpot.availability.poseidon_gen);
///      a width's constants are copied into memory once per chain.
contract PoseidonChain is IPoseidonChain {{
    uint256 private constant _P = {SCALAR_MODULUS};
    uint256 private constant _PART_BYTES = {DATA_BYTES};
    uint256 private constant _PARTS = {parts};

{immutables}

    /// @param data The data contracts, in order (PoseidonData0, PoseidonData1, ...).
    constructor(address[{parts}] memory data) {{
{assigns}
    }}

    /// @inheritdoc IPoseidonChain
    function dataContracts() external view returns (address[] memory parts) {{
        parts = new address[](_PARTS);
        for (uint256 i = 0; i < _PARTS; ++i) parts[i] = _part(i);
    }}

    /// @inheritdoc IPoseidonChain
    function hash(uint256[] calldata inputs) external view returns (uint256) {{
        uint256 n = inputs.length;
        if (n == 0 || n > 12) revert PoseidonArity(n);
        uint256[] memory state = new uint256[](n + 1);
        for (uint256 i = 0; i < n; ++i) state[i + 1] = _field(inputs[i], i);
        (uint256 base, uint256 roundsP) = _load(n + 1);
        return _permute(state, base, roundsP);
    }}

    /// @inheritdoc IPoseidonChain
    function hashChain(uint256[] calldata elements) external view returns (uint256 digest) {{
        uint256 n = elements.length;
        if (n == 0) revert PoseidonArity(0);
        uint256 first = n < 12 ? n : 12;
        uint256[] memory state = new uint256[](first + 1);
        for (uint256 i = 0; i < first; ++i) state[i + 1] = _field(elements[i], i);
        (uint256 base, uint256 roundsP) = _load(first + 1);
        digest = _permute(state, base, roundsP);
        uint256 loaded = first + 1;
        uint256[] memory link = state;
        for (uint256 start = first; start < n; ) {{
            uint256 size = n - start < 11 ? n - start : 11;
            if (size + 2 != loaded) {{
                loaded = size + 2;
                (base, roundsP) = _load(loaded);
                link = new uint256[](loaded);
            }}
            link[0] = 0;
            link[1] = digest;
            for (uint256 i = 0; i < size; ++i) link[i + 2] = _field(elements[start + i], start + i);
            digest = _permute(link, base, roundsP);
            start += size;
        }}
    }}

    function _field(uint256 value, uint256 index) private pure returns (uint256) {{
        if (value >= _P) revert NotAFieldElement(index, value);
        return value;
    }}

    /// @dev Width t's roundsP rounds and its constants' first and end word in the blob.
    function _widthOf(uint256 t)
        private
        pure
        returns (uint256 roundsP, uint256 first, uint256 end)
    {{
{table}
        revert PoseidonArity(t - 1);
    }}

    function _part(uint256 index) private view returns (address) {{
{cases}
        revert PoseidonArity(index);
    }}

    /// @dev Copies width t's constants (C, S, M^T, P^T) into fresh memory; returns where.
    function _load(uint256 t) private view returns (uint256 base, uint256 roundsP) {{
        uint256 first;
        uint256 end;
        (roundsP, first, end) = _widthOf(t);
        assembly {{
            base := mload(0x40)
            mstore(0x40, add(base, mul(sub(end, first), 32)))
        }}
        uint256 pos = first * 32;
        uint256 stop = end * 32;
        uint256 at = base;
        while (pos < stop) {{
            uint256 within = pos % _PART_BYTES;
            uint256 take = _PART_BYTES - within;
            if (take > stop - pos) take = stop - pos;
            address data = _part(pos / _PART_BYTES);
            assembly {{
                extcodecopy(data, at, add(within, 1), take)
            }}
            pos += take;
            at += take;
        }}
    }}

    /// @dev The permutation of `state` (capacity element first); returns its output.
    function _permute(uint256[] memory state, uint256 base, uint256 roundsP)
        private
        pure
        returns (uint256)
    {{
        if (state.length == {UNROLLED_T}) return _permuteUnrolled(state, base);
        return _permuteAny(state, base, roundsP);
    }}

{unrolled(UNROLLED_T)}
    /// @dev Any width, with loops.
    function _permuteAny(uint256[] memory state, uint256 base, uint256 roundsP)
        private
        pure
        returns (uint256 out)
    {{
        assembly {{
            function sbox(x) -> y {{
                let x2 := mulmod(x, x, _P)
                y := mulmod(mulmod(x2, x2, _P), x, _P)
            }}
            // s <- rows(mat) . s, through tmp (row i of mat: output i's coefficients)
            function mix(s, tb, mat, tmp) {{
                for {{ let i := 0 }} lt(i, tb) {{ i := add(i, 32) }} {{
                    let acc := 0
                    for {{ let j := 0 }} lt(j, tb) {{ j := add(j, 32) }} {{
                        acc := addmod(acc, mulmod(mload(add(mat, j)), mload(add(s, j)), _P), _P)
                    }}
                    mstore(add(tmp, i), acc)
                    mat := add(mat, tb)
                }}
                for {{ let i := 0 }} lt(i, tb) {{ i := add(i, 32) }} {{
                    mstore(add(s, i), mload(add(tmp, i)))
                }}
            }}
            // s <- sbox(s) + c, every lane
            function fullSbox(s, tb, c) {{
                for {{ let i := 0 }} lt(i, tb) {{ i := add(i, 32) }} {{
                    mstore(add(s, i), addmod(sbox(mload(add(s, i))), mload(add(c, i)), _P))
                }}
            }}
            function partialRounds(s, tb, c, sp, rounds) {{
                let rowBytes := sub(mul(tb, 2), 32)
                for {{ let r := 0 }} lt(r, rounds) {{ r := add(r, 1) }} {{
                    let first := addmod(sbox(mload(s)), mload(add(c, mul(r, 32))), _P)
                    let row := add(sp, mul(r, rowBytes))
                    let acc := mulmod(first, mload(row), _P)
                    let tail := add(row, sub(tb, 32))
                    for {{ let i := 32 }} lt(i, tb) {{ i := add(i, 32) }} {{
                        let si := mload(add(s, i))
                        acc := addmod(acc, mulmod(mload(add(row, i)), si, _P), _P)
                        mstore(add(s, i), addmod(si, mulmod(first, mload(add(tail, i)), _P), _P))
                    }}
                    mstore(s, acc)
                }}
            }}
            let t := mload(state)
            let tb := mul(t, 32)
            let s := add(state, 32)
            let tmp := mload(0x40)
            let sp := add(base, mul(add(mul(t, 8), roundsP), 32))
            let m := add(sp, mul(mul(sub(mul(t, 2), 1), roundsP), 32))
            let c := base
            for {{ let i := 0 }} lt(i, tb) {{ i := add(i, 32) }} {{
                mstore(add(s, i), addmod(mload(add(s, i)), mload(add(c, i)), _P))
            }}
            for {{ let r := 0 }} lt(r, 4) {{ r := add(r, 1) }} {{
                c := add(c, tb)
                fullSbox(s, tb, c)
                switch r
                case 3 {{ mix(s, tb, add(m, mul(tb, t)), tmp) }}
                default {{ mix(s, tb, m, tmp) }}
            }}
            c := add(c, tb)
            partialRounds(s, tb, c, sp, roundsP)
            c := add(c, mul(roundsP, 32))
            for {{ let r := 0 }} lt(r, 3) {{ r := add(r, 1) }} {{
                fullSbox(s, tb, c)
                mix(s, tb, m, tmp)
                c := add(c, tb)
            }}
            let acc := 0
            for {{ let j := 0 }} lt(j, tb) {{ j := add(j, 32) }} {{
                acc := addmod(acc, mulmod(mload(add(m, j)), sbox(mload(add(s, j))), _P), _P)
            }}
            out := acc
        }}
    }}
}}
"""


UNROLLED_T = 13
"""The width every full link of the chain uses: its permutation is generated loop-free."""


def _sum_mod(terms: list[str], indent: str) -> str:
    """Yul statements leaving the sum of ``terms`` (each < p) mod p in ``acc``.

    Plain ADDs, an ADDMOD every third term: the accumulator stays below 3p < 2**256
    (p < 2**254), so no ADD overflows; one statement per term keeps the stack shallow.
    """
    lines = [f"{indent}let acc := {terms[0]}"]
    for k, term in enumerate(terms[1:], start=1):
        op = f"addmod(acc, {term}, p)" if k % 3 == 0 else f"add(acc, {term})"
        lines.append(f"{indent}acc := {op}")
    lines.append(f"{indent}acc := mod(acc, p)")
    return "\n".join(lines)


def w(i: int) -> str:
    """The byte offset of word ``i``, as a Yul literal."""
    return f"0x{32 * i:x}"


def unrolled(t: int) -> str:
    """A Yul permutation of width ``t`` with every lane loop unrolled (offsets as constants)."""
    partial = ROUNDS_P[t - 2]
    sbox_ark = "\n".join(
        f"                mstore(add(s, {w(i)}), addmod(sbox(mload(add(s, {w(i)})), p), "
        f"mload(add(c, {w(i)})), p))"
        for i in range(t)
    )
    mix_rows = []
    for i in range(t):
        terms = [
            f"mulmod(mload(add(m, {w(i * t + j)})), mload(add(s, {w(j)})), p)" for j in range(t)
        ]
        mix_rows.append(
            "                {\n" + _sum_mod(terms, "                    ")
            + f"\n                    mstore(add(tmp, {w(i)}), acc)\n                }}"
        )
    copy = "\n".join(
        f"                mstore(add(s, {w(i)}), mload(add(tmp, {w(i)})))" for i in range(t)
    )
    lanes = []
    for i in range(1, t):
        product = f"mulmod(mload(add(row, {w(i)})), v, p)"
        # acc < p after an ADDMOD, < 3p after two ADDs: reduce every third lane.
        update = f"addmod(acc, {product}, p)" if i % 3 == 0 else f"add(acc, {product})"
        lanes.append(
            f"                    {{ let v := mload(add(s, {w(i)})) acc := {update} "
            f"mstore(add(s, {w(i)}), addmod(v, mulmod(first, "
            f"mload(add(row, {w(t + i - 1)})), p), p)) }}"
        )
    last_terms = [
        f"mulmod(mload(add(m, {w(j)})), sbox(mload(add(s, {w(j)})), p), p)" for j in range(t)
    ]
    ark0 = "\n".join(
        f"            mstore(add(s, {w(i)}), addmod(mload(add(s, {w(i)})), "
        f"mload(add(c, {w(i)})), p))"
        for i in range(t)
    )
    mix_body = "\n".join(mix_rows)
    lane_body = "\n".join(lanes)
    return f"""    /// @dev Width {t}, generated loop-free over the lanes (constant offsets,
    ///      deferred reductions).
    function _permuteUnrolled(uint256[] memory state, uint256 base)
        private
        pure
        returns (uint256 out)
    {{
        assembly {{
            function sbox(x, p) -> y {{
                let x2 := mulmod(x, x, p)
                y := mulmod(mulmod(x2, x2, p), x, p)
            }}
            function sboxArk(s, c, p) {{
{sbox_ark}
            }}
            function mix(s, m, tmp, p) {{
{mix_body}
{copy}
            }}
            function partialRounds(s, c, sp, p) {{
                for {{ let r := 0 }} lt(r, {partial}) {{ r := add(r, 1) }} {{
                    let first := addmod(sbox(mload(s), p), mload(add(c, mul(r, 32))), p)
                    let row := add(sp, mul(r, {w(2 * t - 1)}))
                    let acc := mulmod(first, mload(row), p)
{lane_body}
                    mstore(s, mod(acc, p))
                }}
            }}
            let p := _P
            let s := add(state, 32)
            let tmp := mload(0x40)
            let c := base
            let sp := add(base, {w(t * ROUNDS_F + partial)})
            let m := add(sp, {w((2 * t - 1) * partial)})
{ark0}
            for {{ let r := 0 }} lt(r, 4) {{ r := add(r, 1) }} {{
                c := add(c, {w(t)})
                sboxArk(s, c, p)
                switch r
                case 3 {{ mix(s, add(m, {w(t * t)}), tmp, p) }}
                default {{ mix(s, m, tmp, p) }}
            }}
            c := add(c, {w(t)})
            partialRounds(s, c, sp, p)
            c := add(c, {w(partial)})
            for {{ let r := 0 }} lt(r, 3) {{ r := add(r, 1) }} {{
                sboxArk(s, c, p)
                mix(s, m, tmp, p)
                c := add(c, {w(t)})
            }}
{_sum_mod(last_terms, "            ")}
            out := acc
        }}
    }}
"""


def generate(root: Path) -> list[Path]:
    """Rewrite the generated folder under ``root``; returns the files written."""
    constants = read_constants(root)
    widths, words = layout(constants)
    blob = b"".join(w.to_bytes(32, "big") for w in words)
    pieces = [blob[i : i + DATA_BYTES] for i in range(0, len(blob), DATA_BYTES)]
    out = root / OUT_DIR
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.sol"):
        old.unlink()
    written = []
    for i, piece in enumerate(pieces):
        path = out / f"PoseidonData{i}.sol"
        path.write_text(data_contract(i, piece))
        written.append(path)
    path = out / "PoseidonChain.sol"
    path.write_text(chain_contract(widths, len(pieces)))
    written.append(path)
    return written


def data_parts(root: Path) -> int:
    """How many data contracts the generated hasher takes (its constructor's arity)."""
    return len(list((root / OUT_DIR).glob("PoseidonData*.sol")))


def main() -> None:
    """Entry point of ``python -m zkpot.availability.poseidon_gen``."""
    from zkpot import toolchain

    for path in generate(toolchain.repo_root()):
        print(path)


if __name__ == "__main__":
    main()
