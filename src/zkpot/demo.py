"""The end-to-end demo: a digits task with K participants for R rounds on local services.

Real parts throughout: anvil, the js-ipfs node, EZKL proofs, the compiled contracts.
Phase deadlines are crossed by moving anvil's clock (local chains only), so a round
takes as long as its training and proving, not its configured durations.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from zkpot import services, toolchain
from zkpot.aggregate import LocalTrainConfig, accuracy, plain_fedavg
from zkpot.chain import ZKPoTClient
from zkpot.data import (
    Dataset,
    LabelFlipConfig,
    PartitionConfig,
    flip_labels,
    load_digits,
    partition,
    split_holdout,
)
from zkpot.errors import ChainError, ZkpotError
from zkpot.models import architecture_by_name, build_model
from zkpot.privacy import demo_view
from zkpot.proving.circuit import BackendName
from zkpot.roles import keeper
from zkpot.roles import publisher as pub
from zkpot.roles.common import Session, fetch_checked_model
from zkpot.roles.leader import aggregate_and_publish
from zkpot.roles.participant import Participant, TrainingConfig
from zkpot.storage import IpfsConfig, IpfsStorage
from zkpot.train import train_local

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoConfig:
    """What the demo runs."""

    participants: int = 4
    """Participants; with 3 or more, #3 trains on label-flipped data; with 4, #4 is lazy."""
    rounds: int = 3
    """Rounds to run."""
    architecture: str = "mlp-64-32-10"
    """Model architecture of the task."""
    samples_per_proof: int = 16
    """Test samples per proof (16 keeps the default demo near 10 minutes on 2 cores)."""
    chunks_per_round: int = 1
    """Proofs per submission; the round's test set has ``samples_per_proof * chunks``."""
    policy: str = "fedavg"
    """Aggregation policy."""
    backend: BackendName = "groth16"
    """Proving backend of the task (``groth16`` or ``ezkl``). Groth16 by default: its
    fedavg rounds carry aggregation proofs, so every step of a round is verified."""
    aggregation_slots: int | None = None
    """K of the proven aggregation (see :class:`zkpot.roles.publisher.TaskOptions`)."""
    partition: str = "iid"
    """``iid`` or ``dirichlet``."""
    alpha: float = 0.5
    """Dirichlet concentration when ``partition`` is ``dirichlet``."""
    epochs: int = 5
    """Local epochs per round."""
    lr: float = 0.05
    """Local learning rate."""
    seed: int = 0
    """Seed of the data split and training."""
    results_dir: Path = field(default_factory=lambda: toolchain.repo_root() / ".zkpot" / "demo")
    """Where the report goes: an untracked folder by default, so a run leaves the checkout's
    tracked files alone; ``zkpot demo --results results/demo`` refreshes the committed one."""
    keep_services: bool = False
    """Leave anvil and IPFS running afterwards (for `zkpot audit`)."""


@dataclass
class ParticipantRow:
    """One participant in one round, for the report."""

    name: str
    address: str
    kind: str
    correct: int | None
    total: int
    prove_seconds: float
    submit_gas: int
    leader: bool = False


@dataclass
class RoundRow:
    """One round, for the report."""

    round: int
    leader: str
    leader_name: str
    global_correct: int
    total: int
    global_accuracy_holdout: float
    baseline_accuracy_holdout: float
    aggregated: list[str]
    rejected: list[str]
    seconds: float
    global_prove_seconds: float
    publish_gas: int
    participants: list[ParticipantRow]
    aggregation_prove_seconds: float = 0.0
    """Proven aggregation: the aggregation proof's witness + prove seconds (0: not proven)."""
    aggregation_gas: int = 0
    """Proven aggregation: gas of the leader's ``proveAggregation`` transaction."""


def _advance_clock(to_timestamp: int) -> None:
    """Mine a block at ``to_timestamp`` (local chains only)."""
    from ape import chain

    if chain.provider.network.name != "local":
        raise ZkpotError("The demo moves the clock, which only a local chain allows", "use anvil")
    if chain.pending_timestamp < to_timestamp:
        chain.mine(timestamp=to_timestamp)


def _participant_data(
    train: Dataset, config: DemoConfig
) -> list[tuple[str, Dataset, TrainingConfig]]:
    parts = partition(
        train,
        PartitionConfig(
            participants=config.participants,
            scheme="dirichlet" if config.partition == "dirichlet" else "iid",
            alpha=config.alpha,
            seed=config.seed,
        ),
    )
    out = []
    for i, part in enumerate(parts):
        kind, data, untrained = "honest", part, False
        if i == 2:
            kind, data = "label-flipped", flip_labels(part, LabelFlipConfig())
        elif i == 3:
            kind, untrained = "untrained", True
        training = TrainingConfig(
            epochs=config.epochs, lr=config.lr, seed=config.seed * 100 + i, untrained=untrained
        )
        out.append((kind, data, training))
    return out


def _baseline(
    config: DemoConfig,
    arch_name: str,
    clients: list[tuple[str, Dataset, TrainingConfig]],
    evaluation: Dataset,
) -> tuple[list[float], nn.Module]:
    """Plain FedAvg without proofs on the same data (poisoned and lazy clients included).

    Returns its accuracy after each round and its last global model.
    """
    arch = architecture_by_name(arch_name)
    lazy = [data for kind, data, _ in clients if kind == "untrained"]

    def train_fn(
        model: nn.Module, X: Any, y: Any, *, epochs: int, lr: float, batch_size: int, seed: int
    ) -> nn.Module:
        if any(X is d.X for d in lazy):
            return build_model(arch, seed=seed + 1)
        return train_local(model, X, y, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed)

    result = plain_fedavg(
        lambda: build_model(arch, 0),
        [data for _, data, _ in clients],
        [evaluation] * config.rounds,
        local=LocalTrainConfig(epochs=config.epochs, lr=config.lr),
        seed=config.seed,
        weighting="samples",
        train_fn=train_fn,
    )
    final = build_model(arch, 0)
    final.load_state_dict(result.final_state)
    return list(result.accuracies), final.eval()


def run_demo(config: DemoConfig, progress: Progress = print) -> list[RoundRow]:
    """Run the whole demo and write its report; return the per-round rows."""
    started_services = [s for s in services.services() if not s.answers()]
    services.up()
    try:
        return _run(config, progress)
    finally:
        if not config.keep_services:
            for service in reversed(started_services):
                service.stop()


def _run(config: DemoConfig, progress: Progress) -> list[RoundRow]:
    from ape import accounts, networks

    wall = time.perf_counter()
    with networks.parse_network_choice("ethereum:local:foundry"):
        publisher = accounts.test_accounts[0]
        storage = IpfsStorage(IpfsConfig())
        progress("deploying the ZKPoT contract")
        client = ZKPoTClient.deploy(publisher)
        session = Session(client=client, storage=storage)
        digits = load_digits()
        train, pool = split_holdout(digits, 0.3, seed=config.seed)
        clients = _participant_data(train, config)
        options = pub.TaskOptions(
            architecture=config.architecture,
            samples_per_proof=config.samples_per_proof,
            chunks_per_round=config.chunks_per_round,
            policy=config.policy,
            backend=config.backend,
            aggregation_slots=config.aggregation_slots,
            training={"epochs": float(config.epochs), "lr": config.lr, "batch_size": 32.0},
        )
        progress("building the circuit and creating the task (first run: keys take a while)")
        task_id = pub.create_task(session, publisher, options, pool)
        run_tag = f"demo-{client.address[2:10].lower()}"
        people = [
            Participant(
                session,
                accounts.test_accounts[i + 1],
                f"{run_tag}-p{i + 1}",
                progress=progress,
            )
            for i in range(config.participants)
        ]
        for person in people:
            person.join(task_id)
        # Accuracy on a fixed evaluation set: a sample of the pool (nobody trains on the
        # pool; rounds draw their test sets from it without replacement, with the
        # publisher's own secret seed).
        evaluation = _evaluation_set(pool, 256, config.seed)
        progress("running plain FedAvg (no proofs) on the same data for comparison")
        baseline, baseline_model = _baseline(config, config.architecture, clients, evaluation)
        rows: list[RoundRow] = []
        global_model: nn.Module | None = None
        for round_ in range(config.rounds):
            row, global_model = _round(
                session,
                publisher,
                task_id,
                round_,
                people,
                clients,
                pool,
                config,
                evaluation,
                baseline[round_],
                progress,
            )
            rows.append(row)
        progress("privacy: the loss attack on the participants' and the global models")
        privacy = _privacy(people, clients, rows, task_id, pool, global_model, baseline_model)
        progress(f"demo finished in {time.perf_counter() - wall:.0f} s")
        _report(config, rows, time.perf_counter() - wall, client.address, task_id, privacy)
    return rows


@dataclass(frozen=True)
class DemoPrivacy:
    """The privacy section of the report (see :mod:`zkpot.privacy.demo_view`)."""

    rows: list[demo_view.DemoPrivacyRow]
    zkpot_accuracy: float
    plain_accuracy: float


def _privacy(
    people: list[Participant],
    clients: list[tuple[str, Dataset, TrainingConfig]],
    rows: list[RoundRow],
    task_id: int,
    pool: Dataset,
    global_model: nn.Module | None,
    baseline_model: nn.Module,
) -> DemoPrivacy | None:
    """The loss attack on the last round's local models and both global models."""
    if global_model is None or not rows:
        return None
    last = rows[-1]
    participants = [
        demo_view.DemoParticipant(
            name=row.name,
            kind=kind,
            members=data,
            local_model=person.model(task_id, last.round),
            seen_by_leader=row.submit_gas > 0 and not row.leader,
        )
        for person, (kind, data, _), row in zip(people, clients, last.participants, strict=True)
    ]
    return DemoPrivacy(
        rows=demo_view.demo_privacy(participants, global_model, baseline_model, pool),
        zkpot_accuracy=last.global_accuracy_holdout,
        plain_accuracy=last.baseline_accuracy_holdout,
    )


def _evaluation_set(pool: Dataset, size: int, seed: int) -> Dataset:
    """A fixed sample of ``size`` pool samples (the same for every run with ``seed``)."""
    rng = np.random.default_rng([seed, 0xE7A1])
    indices = np.sort(rng.choice(len(pool), size=min(size, len(pool)), replace=False))
    return pool.subset(indices, "demo:evaluation")


def _round(
    session: Session,
    publisher: Any,
    task_id: int,
    round_: int,
    people: list[Participant],
    clients: list[tuple[str, Dataset, TrainingConfig]],
    pool: Dataset,
    config: DemoConfig,
    evaluation: Dataset,
    baseline_accuracy: float,
    progress: Progress,
) -> tuple[RoundRow, nn.Module]:
    """Run one round; return its report row and the global model the chain commits to."""
    client = session.client
    started = time.perf_counter()
    progress(f"round {round_}: opening with a committed, hidden test set")
    pub.open_round(session, publisher, task_id, pool)
    for person, (_, data, training) in zip(people, clients, strict=True):
        person.train(task_id, round_, data, training)
        person.commit(task_id, round_)
    info = client.round(task_id, round_)
    _advance_clock(info.commit_deadline)
    progress(f"round {round_}: revealing the test set")
    pub.reveal(session, publisher, task_id, round_, pool)
    rows: list[ParticipantRow] = []
    submitted: list[Participant] = []
    for person, (kind, _, _) in zip(people, clients, strict=True):
        person.prove(task_id, round_)
        try:
            person.submit(task_id, round_)
            submitted.append(person)
        except ChainError as error:
            # A model that classifies nothing correctly is never admitted (no Sybil can
            # fill the round with zero counts); the demo shows it and goes on.
            if "ZeroCountSubmission" not in error.message:
                raise
            progress(f"round {round_}: {person.name} proved 0 correct; not admitted")
        rows.append(
            ParticipantRow(
                name=person.name.rsplit("-", 1)[-1],
                address=person.address,
                kind=kind,
                correct=client.submission(task_id, round_, person.address).correct,
                total=config.samples_per_proof * config.chunks_per_round,
                prove_seconds=person.last_prove_seconds,
                submit_gas=person.last_gas if person in submitted else 0,
            )
        )
    info = client.round(task_id, round_)
    _advance_clock(info.submit_deadline)
    leader_address = keeper.select_leader(client, task_id, round_, publisher).leader
    if leader_address is None:
        raise ZkpotError(f"Round {round_} closed without a valid submission", "check the proofs")
    leader = next(p for p in people if p.address.lower() == leader_address.lower())
    for row in rows:
        row.leader = row.address.lower() == leader_address.lower()
    progress(f"round {round_}: leader is {leader.name}; models are sealed to its key")
    for person in submitted:
        if person is not leader:
            person.send_model(task_id, round_)
    if client.hand_offs_open(task_id, round_):
        # Someone admitted did not hand off: the leader waits out the hand-off window.
        _advance_clock(client.round(task_id, round_).hand_off_deadline)
    result = aggregate_and_publish(leader, task_id, round_)
    keeper.finalise(client, task_id, round_, publisher)
    # The model evaluated is the one the chain commits to (next round's participants
    # check it again before training on it).
    global_model = fetch_checked_model(
        session,
        session.task(task_id)[1],
        result.global_model_cid,
        client.round(task_id, round_).new_model_commitment,
        task_id=task_id,
        round_=round_ + 1,
    )
    names = {p.address.lower(): p.name.rsplit("-", 1)[-1] for p in people}
    return RoundRow(
        round=round_,
        leader=leader_address,
        leader_name=leader.name.rsplit("-", 1)[-1],
        global_correct=result.global_correct,
        total=config.samples_per_proof * config.chunks_per_round,
        global_accuracy_holdout=accuracy(global_model, evaluation),
        baseline_accuracy_holdout=baseline_accuracy,
        aggregated=[names.get(a.lower(), a) for a in result.used],
        rejected=[
            f"{names.get(r.participant.lower(), r.participant)} ({r.code}): {r.reason}"
            for r in result.rejected
        ],
        seconds=time.perf_counter() - started,
        global_prove_seconds=result.prove_seconds,
        publish_gas=result.gas_used,
        participants=rows,
        aggregation_prove_seconds=result.aggregation_prove_seconds,
        aggregation_gas=result.aggregation_gas,
    ), global_model


def _report(
    config: DemoConfig,
    rows: list[RoundRow],
    seconds: float,
    contract: str,
    task_id: int,
    privacy: DemoPrivacy | None = None,
) -> Path:
    """Write ``report.md``, ``rounds.json`` and the plots; return the report path."""
    out = config.results_dir
    out.mkdir(parents=True, exist_ok=True)
    (out / "rounds.json").write_text(
        json.dumps(
            {
                "config": {
                    k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()
                },
                "contract": contract,
                "task_id": task_id,
                "wall_seconds": round(seconds, 1),
                "rounds": [asdict(r) for r in rows],
                "privacy": None if privacy is None else asdict(privacy),
            },
            indent=2,
        )
    )
    _plots(rows, out)
    lines = [
        "# ZKPoT demo report",
        "",
        f"{config.participants} participants, {config.rounds} rounds, architecture "
        f"`{config.architecture}`, {config.samples_per_proof * config.chunks_per_round} "
        f"test samples per round ({config.chunks_per_round} proof(s) of "
        f"{config.samples_per_proof}), policy `{config.policy}`, proving backend "
        f"`{config.backend}`. Wall time {seconds:.0f} s.",
        f"Contract {contract}, task {task_id}.",
        "",
        "| round | participant | kind | verified correct | proof s | submit gas | leader |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        for p in r.participants:
            correct = "-" if p.correct is None else f"{p.correct}/{p.total}"
            lines.append(
                f"| {r.round} | {p.name} | {p.kind} | {correct} | {p.prove_seconds:.1f} | "
                f"{p.submit_gas:,} | {'yes' if p.leader else ''} |"
            )
    lines += [
        "",
        "| round | leader | global correct (round test set) | global accuracy (evaluation set) "
        "| plain FedAvg accuracy | global proof s | publish gas | aggregation proof s "
        "| aggregation gas | round s | models rejected |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.round} | {r.leader_name} | {r.global_correct}/{r.total} | "
            f"{r.global_accuracy_holdout:.3f} | {r.baseline_accuracy_holdout:.3f} | "
            f"{r.global_prove_seconds:.1f} | {r.publish_gas:,} | "
            f"{r.aggregation_prove_seconds:.1f} | {r.aggregation_gas:,} | {r.seconds:.0f} | "
            f"{'; '.join(r.rejected) or '-'} |"
        )
    lines += ["", "![accuracy](accuracy.png) ![proof time](proof_time.png) ![gas](gas.png)", ""]
    if privacy is not None:
        lines += demo_view.markdown(privacy.rows, privacy.zkpot_accuracy, privacy.plain_accuracy)
        demo_view.plot(
            privacy.rows, privacy.zkpot_accuracy, privacy.plain_accuracy, out / "privacy.png"
        )
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def _plots(rows: list[RoundRow], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rounds = [r.round for r in rows]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(rounds, [r.global_accuracy_holdout for r in rows], "o-", label="ZKPoT (verified)")
    ax.plot(rounds, [r.baseline_accuracy_holdout for r in rows], "s--", label="plain FedAvg")
    ax.set_xlabel("round")
    ax.set_ylabel("global accuracy")
    ax.set_xticks(rounds)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "accuracy.png", dpi=120)
    plt.close(fig)
    names = sorted({p.name for r in rows for p in r.participants})
    for metric, label, fname in (
        ("prove_seconds", "proof time (s)", "proof_time.png"),
        ("submit_gas", "submit gas", "gas.png"),
    ):
        fig, ax = plt.subplots(figsize=(5, 3.2))
        width = 0.8 / max(len(names), 1)
        for i, name in enumerate(names):
            values = [
                float(next((getattr(p, metric) for p in r.participants if p.name == name), 0))
                for r in rows
            ]
            ax.bar(np.array(rounds) + i * width, values, width, label=name)
        ax.set_xlabel("round")
        ax.set_ylabel(label)
        ax.set_xticks(np.array(rounds) + width * (len(names) - 1) / 2, [str(r) for r in rounds])
        ax.legend(fontsize="small")
        fig.tight_layout()
        fig.savefig(out / fname, dpi=120)
        plt.close(fig)
