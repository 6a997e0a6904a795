"""Deploy the ZKPoT consensus contract and record it in ``deployments/<network>.json``.

    ape run deploy --network ethereum:local:foundry --account TEST::0 \
        [--verifier 0xADAPTER] [--artifact-cid settings=bafy... --artifact-cid vk=bafy...]
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand, account_option

from zkpot.chain import ZKPoTClient, read_verifier, write_deployment
from zkpot.errors import ZkpotError


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--verifier", default=None, help="Deployed IAccuracyVerifier adapter to record.")
@click.option(
    "--artifact-cid",
    "artifact_cids",
    multiple=True,
    help="NAME=CID of a circuit artifact on IPFS (repeatable).",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory holding deployments/ (default: the repository).",
)
def cli(
    ecosystem,
    network,
    provider,
    account,
    verifier,
    artifact_cids,
    root,  # noqa: ANN001
) -> None:
    try:
        cids = {}
        for item in artifact_cids:
            name, sep, cid = item.partition("=")
            if not sep or not name or not cid:
                raise click.BadParameter(f"--artifact-cid wants NAME=CID, got {item!r}")
            cids[name] = cid
        client = ZKPoTClient.deploy(account)
        path = write_deployment(
            client,
            provider,
            str(account.address),
            root,
            verifier=read_verifier(verifier) if verifier else None,
            artifact_cids=cids,
        )
    except ZkpotError as err:
        fail(err)
    emit({"zkpot": client.address, "rewards": str(client.rewards.address), "deployment": str(path)})


def emit(payload: dict[str, object]) -> None:
    """Print one JSON object (what callers parse)."""
    click.echo(json.dumps(payload, sort_keys=True))


def fail(err: ZkpotError) -> None:
    """Report a ZkpotError as one sentence and exit non-zero."""
    raise click.ClickException(err.sentence())
