"""Create a ZKPoT task on the deployed contract; prints ``{"task_id": N}``.

    ape run create_task --network ethereum:local:foundry --account TEST::0 \
        --chunks 1 --policy leader-model --spec-cid bafy... \
        --initial-model-cid bafy... --initial-model-commitment 0x...
"""

from __future__ import annotations

import json

import click
from ape.cli import ConnectedProviderCommand, account_option

from zkpot.chain import (
    AggregationPolicy,
    TaskSpec,
    client_for_network,
    parse_bytes32,
    read_verifier,
)
from zkpot.errors import ChainError, ZkpotError


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--zkpot", "address", default=None, help="ZKPoT address (default: deployment).")
@click.option("--verifier", default=None, help="Verifier adapter (default: deployment's).")
@click.option("--vk-digest", default=None, help="VK artifact digest (default: adapter's).")
@click.option("--chunks", type=int, default=1, show_default=True, help="Proofs per submission.")
@click.option(
    "--policy", type=click.Choice(["fedavg", "leader-model"]), default="fedavg", show_default=True
)
@click.option("--commit-duration", type=int, default=3600, show_default=True)
@click.option("--reveal-duration", type=int, default=3600, show_default=True)
@click.option("--submit-duration", type=int, default=3600, show_default=True)
@click.option("--aggregate-duration", type=int, default=3600, show_default=True)
@click.option("--allow", multiple=True, help="Allowlisted account (repeatable; none = open).")
@click.option("--reward-token", default=None)
@click.option("--reward-pool", type=int, default=0)
@click.option("--reward-per-round", type=int, default=0)
@click.option("--leader-share-bps", type=int, default=0)
@click.option("--max-submissions", type=int, default=64, show_default=True)
@click.option("--spec-cid", required=True)
@click.option("--initial-model-cid", required=True)
@click.option("--initial-model-commitment", required=True)
def cli(  # noqa: PLR0913
    ecosystem,
    network,
    provider,
    account,
    address,
    verifier,
    vk_digest,
    chunks,
    policy,  # noqa: ANN001
    commit_duration,
    reveal_duration,
    submit_duration,
    aggregate_duration,
    allow,  # noqa: ANN001
    reward_token,
    reward_pool,
    reward_per_round,
    leader_share_bps,
    max_submissions,
    spec_cid,  # noqa: ANN001
    initial_model_cid,
    initial_model_commitment,  # noqa: ANN001
) -> None:
    try:
        client, deployment = client_for_network(provider, address)
        if verifier is None:
            if deployment is None or deployment.verifier is None:
                raise ChainError(
                    "No verifier given and none recorded in the deployment",
                    "pass --verifier or deploy with --verifier",
                )
            verifier = deployment.verifier.address
        record = read_verifier(verifier)
        # The contract refuses a task whose digest differs from the verifier's own.
        digest = vk_digest or "0x" + client.verifier_vk_digest(verifier).hex()
        if reward_token and reward_pool:
            from ape import Contract

            # The pool contract pulls the reward at creation.
            Contract(reward_token).approve(client.rewards.address, reward_pool, sender=account)
        spec = TaskSpec(
            circuit_id=parse_bytes32(record.circuit_id),
            verifier=verifier,
            vk_digest=parse_bytes32(digest),
            chunks_per_round=chunks,
            spec_cid=spec_cid,
            initial_model_cid=initial_model_cid,
            initial_model_commitment=parse_bytes32(initial_model_commitment),
            policy=AggregationPolicy.FEDAVG
            if policy == "fedavg"
            else AggregationPolicy.LEADER_MODEL,
            commit_duration=commit_duration,
            reveal_duration=reveal_duration,
            submit_duration=submit_duration,
            aggregate_duration=aggregate_duration,
            allowlist=tuple(allow) if allow else None,
            reward_token=reward_token,
            reward_pool=reward_pool,
            reward_per_round=reward_per_round,
            leader_share_bps=leader_share_bps,
            max_submissions=max_submissions,
        )
        task_id = client.create_task(spec, account)
    except ZkpotError as err:
        fail(err)
    emit({"task_id": task_id, "zkpot": client.address})


def emit(payload: dict[str, object]) -> None:
    """Print one JSON object (what callers parse)."""
    click.echo(json.dumps(payload, sort_keys=True))


def fail(err: ZkpotError) -> None:
    """Report a ZkpotError as one sentence and exit non-zero."""
    raise click.ClickException(err.sentence())
