"""Where the project's toolchain lives, and the environment that makes it visible.

Kept free of heavy imports: a ``.pth`` file in the project's virtual environment
calls :func:`activate` at interpreter start, so that ``ape``, ``pytest`` and
``zkpot`` all find the project's anvil and Solidity compiler without touching
the user's home directory.
"""

from __future__ import annotations

import os
from pathlib import Path

SOLC_VERSION = "0.8.20"
"""The one Solidity compiler version: EZKL's verifier generator requires it."""


def repo_root() -> Path:
    """Return the project checkout this package belongs to.

    ``ZKPOT_ROOT`` wins; otherwise the package's own location (editable install).
    """
    env = os.environ.get("ZKPOT_ROOT")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[2]


def toolchain_dir() -> Path:
    """Project-scoped directory for generated tool shims (git-ignored)."""
    return repo_root() / ".toolchain"


def node_bin_dir() -> Path:
    """``node_modules/.bin``: anvil and jsipfs."""
    return repo_root() / "node_modules" / ".bin"


def solcx_dir() -> Path:
    """Directory py-solc-x reads through ``SOLCX_BINARY_PATH``."""
    return toolchain_dir() / "solcx"


def solc_shim() -> Path:
    """The native-looking ``solc`` executable that forwards to solc-js."""
    return solcx_dir() / f"solc-v{SOLC_VERSION}"


def ezkl_home() -> Path:
    """A ``HOME`` for EZKL's verifier generation.

    EZKL looks for ``$HOME/.svm/<version>/solc-<version>`` and ignores PATH, so
    the project gives it a home of its own instead of writing into the user's.
    """
    return toolchain_dir() / "home"


CACHE_ENV = "ZKPOT_CACHE_DIR"
"""Root of the local caches of derived files, or ``off``; unset: ``.cache/`` in the checkout."""


def cache_dir(name: str) -> Path | None:
    """The local cache ``name``: files derived from others and named by their content.

    ``.cache/<name>/`` in the checkout (env ``ZKPOT_CACHE_DIR``: another root, or ``off``
    to derive everything every time: None). As trusted as the machine's other files; any
    file there may be deleted at any time.
    """
    chosen = os.environ.get(CACHE_ENV, "").strip()
    if chosen.lower() == "off":
        return None
    return (Path(chosen) if chosen else repo_root() / ".cache") / name


def state_dir() -> Path:
    """Root of local state: service run files, participant stores, results."""
    env = os.environ.get("ZKPOT_STATE_DIR")
    return Path(env).resolve() if env else repo_root() / ".zkpot"


def activate() -> None:
    """Expose the project's tools to this process and its children (idempotent)."""
    bin_dir = str(node_bin_dir())
    path = os.environ.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + path
    os.environ.setdefault("SOLCX_BINARY_PATH", str(solcx_dir()))
    # ape keeps accounts and caches in ~/.ape unless told otherwise.
    os.environ.setdefault("APE_DATA_FOLDER", str(toolchain_dir() / "ape"))
    # ape-config.yaml reads the chain URL from here, so the port is configurable.
    port = os.environ.get("ZKPOT_ANVIL_PORT", "8545")
    os.environ.setdefault("ZKPOT_ANVIL_URL", f"http://127.0.0.1:{port}")
