"""A circuit's initial phase-2 key, derived once per machine and kept.

``snarkjs groth16 setup`` and ``snarkjs zkey verify`` both begin by deriving the circuit's
initial phase-2 key (no contribution yet) from its R1CS and the phase-1 file, and that
derivation is nearly all of their time: 24 of the 25 s of a ``zkey verify`` of the
1-sample tiny MLP on two cores, against 1.3 s for ``zkey verify init``, which checks the
same contributions against an initial key already at hand. The key is a deterministic
function of the two files (the same bytes every time), so it is kept here, named by the
R1CS's SHA-256 and the phase-1 file's BLAKE2b, and every later setup or verification of
that circuit on this machine starts from it: the publisher's own check after the beacon,
a re-keying, and every ``audit --keys`` after the first.

Trust: the folder holds only keys this machine derived itself (never a phase-2 key from a
fetched or published folder), so it is as trusted as the machine's other files; whoever
can write it could as well replace snarkjs. One file per circuit, the size of the
circuit's proving key, under ``.cache/zkpot-phase2-init/`` in the checkout (env
``ZKPOT_CACHE_DIR``: another root for the caches, or ``off`` to derive the key every
time); any file there may be deleted at any time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from zkpot import toolchain
from zkpot.proving.backend import file_sha256
from zkpot.proving.folder_lock import circuit_lock

CACHE_NAME = "zkpot-phase2-init"
"""The cache's folder under :func:`zkpot.toolchain.cache_dir`'s root."""


def cache_dir() -> Path | None:
    """Where initial keys are kept; None when the caches are switched off."""
    return toolchain.cache_dir(CACHE_NAME)


def entry_name(r1cs: Path, ptau_blake2b: str) -> str:
    """The cache file's name: the R1CS's SHA-256 and (a prefix of) phase 1's BLAKE2b."""
    return f"{file_sha256(r1cs)}-{ptau_blake2b[:64]}.zkey"


@contextmanager
def initial_key(
    r1cs: Path, ptau_blake2b: str, derive: Callable[[Path], None]
) -> Iterator[Path | None]:
    """The circuit's initial key, derived with ``derive(path)`` if this machine has none.

    Yields None when the cache is off (the caller derives as before). The entry's lock is
    held while the caller uses the file, so a concurrent first derivation of the same
    circuit waits instead of deriving it twice.
    """
    folder = cache_dir()
    if folder is None:
        yield None
        return
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / entry_name(r1cs, ptau_blake2b)
    with circuit_lock(path):
        if not path.is_file():
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            try:
                derive(tmp)
                tmp.replace(path)
            finally:
                tmp.unlink(missing_ok=True)
        yield path


__all__ = ["CACHE_NAME", "cache_dir", "entry_name", "initial_key"]
