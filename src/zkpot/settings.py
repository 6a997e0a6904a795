"""Defaults a user sets once: ``zkpot.toml`` and ``ZKPOT_*`` environment variables.

A value is taken, as foundry and ape users expect, from the command line first, then
from its environment variable, then from the project file, then from the built-in
default. The project file is ``./zkpot.toml`` (or the file ``ZKPOT_CONFIG`` names; an
empty ``ZKPOT_CONFIG`` means none), flat keys only::

    network = "https://sepolia.example/rpc"   # an ape network choice or an RPC URL
    contract = "0x…"                         # the ZKPoT address
    ipfs_url = "http://127.0.0.1:5001"
    account = "alice"                        # an ape keystore alias (never test:N off a devnet)
    name = "alice"                           # the participant's local state name
    task = 3
    confirmations = 2                        # blocks before a transaction counts as done
    max_fee_gwei = 30.0                      # never pay more per gas than this
    replace_after = 120                      # seconds pending before a fee-bumped replacement
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkpot.errors import ZkpotError

CONFIG_FILE = "zkpot.toml"
CONFIG_ENV = "ZKPOT_CONFIG"


@dataclass(frozen=True)
class Setting:
    """One value a user may set once instead of typing it on every command."""

    key: str
    """The key in ``zkpot.toml``."""
    envvar: str
    """The environment variable (beats the file, loses to the flag)."""
    kind: type
    """``str``, ``int`` or ``float`` (a whole number is a float too)."""


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting("network", "ZKPOT_NETWORK", str),
        Setting("contract", "ZKPOT_CONTRACT", str),
        Setting("ipfs_url", "ZKPOT_IPFS_URL", str),
        Setting("account", "ZKPOT_ACCOUNT", str),
        Setting("name", "ZKPOT_NAME", str),
        Setting("task", "ZKPOT_TASK", int),
        Setting("confirmations", "ZKPOT_CONFIRMATIONS", int),
        Setting("max_fee_gwei", "ZKPOT_MAX_FEE_GWEI", float),
        Setting("replace_after", "ZKPOT_REPLACE_AFTER", int),
    )
}


class ConfigError(ZkpotError):
    """``zkpot.toml`` cannot be read or holds a key or value zkpot does not know."""


_loaded: dict[str, Any] = {}
"""The project file's values for the command being run (filled by :func:`load`)."""


def config_path() -> Path | None:
    """The project file in use, or ``None`` when there is none."""
    named = os.environ.get(CONFIG_ENV)
    if named is not None:
        return Path(named) if named else None
    local = Path.cwd() / CONFIG_FILE
    return local if local.is_file() else None


def load() -> dict[str, Any]:
    """Read the project file (if any) into the defaults of this command; its values.

    Raises :class:`ConfigError` for a file that is missing (when named), is not TOML,
    or holds an unknown key or a value of the wrong type.
    """
    _loaded.clear()
    path = config_path()
    if path is None:
        return {}
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"The config file {path} does not exist",
                          f"create it or unset {CONFIG_ENV}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"The config file {path} is not readable TOML ({error})",
                          "fix the line it names") from None
    for key, value in values.items():
        setting = SETTINGS.get(key)
        if setting is None:
            raise ConfigError(f"The config file {path} has an unknown key {key!r}",
                              f"use only {', '.join(SETTINGS)}")
        negative = isinstance(value, int | float) and value < 0
        kind_ok = type(value) is setting.kind or (setting.kind is float and type(value) is int)
        if not kind_ok or negative:
            wanted = {int: "a whole number ≥ 0", float: "a number ≥ 0"}.get(
                setting.kind, "a string"
            )
            raise ConfigError(f"{key} in {path} must be {wanted}, not {value!r}",
                              "fix the value")
    _loaded.update(values)
    return dict(values)


def default(key: str, fallback: Any = None) -> Any:
    """The project file's value for ``key``, else ``fallback`` (read after :func:`load`)."""
    return _loaded.get(key, fallback)


def source(key: str) -> str:
    """Where a user sets ``key`` instead of typing it: for help texts and error hints."""
    return f"also {SETTINGS[key].envvar} or `{key}` in {CONFIG_FILE}"
