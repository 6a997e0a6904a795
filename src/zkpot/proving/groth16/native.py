"""The single-party development setup, native: ``native/g16setup.c`` writes a snarkjs ``.zkey``.

groth16py's own single-party setup saves its key in a format that takes minutes to load
(146 s at 751k constraints) and that snarkjs cannot read. ``g16setup`` does the same
INSECURE setup (one party draws tau, alpha, beta, delta) but writes the key exactly as
``snarkjs groth16 setup`` and its phase-2 contributions would (Lagrange-basis points, the
public-input rows, H as the odd points of the doubled domain, gamma = 1), so the key
imports with ``groth16py.import_zkey`` in about a second, proves with snarkjs too, and
exports its verification key with ``snarkjs zkey export verificationkey``.

The program is built once per source version with the system C compiler (``cc -O3
-fopenmp``, both cores) into ``.cache/zkpot-native/`` under the checkout; without a
compiler :func:`setup_binary` returns None and the caller falls back to groth16py. The
secrets travel through a private temporary file that is deleted as soon as the program
exits: they exist only in that process and this one's memory, which is exactly why the
keys are INSECURE (whoever ran the setup could keep them).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from zkpot import toolchain
from zkpot.errors import ProvingError

SOURCE = Path(__file__).with_name("native") / "g16setup.c"
"""The C source of the setup program."""

BN254_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
"""BN254's scalar field, where the setup's secrets live."""

COMPILE_TIMEOUT_SECONDS = 120.0


def _compiler() -> str | None:
    for name in (os.environ.get("CC", ""), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return name
    return None


def setup_binary() -> Path | None:
    """The compiled ``g16setup`` for this source, built on first use; None without a compiler.

    Also None when the source is not installed (a wheel without package data).
    """
    try:
        digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
    except OSError:
        return None
    target = toolchain.repo_root() / ".cache" / "zkpot-native" / f"g16setup-{digest}"
    if target.is_file() and os.access(target, os.X_OK):
        return target
    cc = _compiler()
    if cc is None:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    for flags in (["-fopenmp"], []):  # without OpenMP the program runs on one core
        try:
            done = subprocess.run(
                [cc, "-O3", *flags, "-o", str(tmp), str(SOURCE)],
                capture_output=True, text=True, check=False, timeout=COMPILE_TIMEOUT_SECONDS,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            tmp.replace(target)  # atomic: concurrent builders end with the same file
            return target
    tmp.unlink(missing_ok=True)
    return None


def draw_secret() -> int:
    """A uniformly random nonzero scalar of BN254's scalar field."""
    while True:
        value = secrets.randbits(254)
        if 0 < value < BN254_R:
            return value


def single_party_zkey(r1cs: Path, zkey: Path, *, timeout: float) -> bool:
    """Write an INSECURE single-party ``.zkey`` of ``r1cs``; False when no compiler is there.

    A ProvingError if the program fails (its one-line message is kept).
    """
    binary = setup_binary()
    if binary is None:
        return False
    fd, name = tempfile.mkstemp(prefix="zkpot-g16-secrets-")
    secret_file = Path(name)
    tmp = zkey.with_name(zkey.name + ".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(b"".join(draw_secret().to_bytes(32, "little") for _ in range(4)))
        try:
            done = subprocess.run(
                [str(binary), str(r1cs), str(tmp), str(secret_file)],
                capture_output=True, text=True, check=False, timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as error:
            raise ProvingError("the single-party setup did not finish in time",
                               "free the machine and retry") from error
        finally:
            secret_file.unlink(missing_ok=True)
        if done.returncode != 0:
            lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
            last = lines[-1][:200] if lines else f"exit status {done.returncode}"
            raise ProvingError(f"the single-party setup failed: {last}",
                               "check the circuit's .r1cs")
        tmp.replace(zkey)
    finally:
        secret_file.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    return True


__all__ = ["BN254_R", "SOURCE", "draw_secret", "setup_binary", "single_party_zkey"]
