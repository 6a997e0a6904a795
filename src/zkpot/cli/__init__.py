"""The ``zkpot`` command line: one group per role, errors as one sentence.

Every command that touches the chain takes ``--network`` (an ape network choice,
default the local anvil) and ``--contract`` (default: ``deployments/<network>.json``);
every command that touches IPFS takes ``--ipfs-url`` (default: the local node).

:mod:`~zkpot.cli.app` holds the group and the entry point; importing a command module
registers its commands on it. Libraries that take seconds to load (ape, torch, EZKL) are
imported inside the commands, so ``zkpot --help`` stays fast.
"""

from __future__ import annotations

from zkpot.cli import (  # noqa: F401 - each registers its commands on the group
    audit,
    circuit,
    demo,
    deploy,
    node,
    participant,
    rounds,
    status,
    task,
)
from zkpot.cli.app import cli, main
from zkpot.privacy.command import privacy as privacy_command

cli.add_command(privacy_command)

__all__ = ["cli", "main"]
