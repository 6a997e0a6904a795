"""The three systems, simulated on the same participants and data, and attacked.

What each observer holds after R rounds of K participants:

* **plain FedAvg** — the aggregator receives every participant's local model every
  round; everyone receives the global models.
* **DP-SGD FedAvg** — the same, but each participant trains with DP-SGD (opacus:
  per-sample clipping to ``max_grad_norm``, Gaussian noise ``noise_multiplier`` times
  that, Poisson sampling); ε from opacus's RDP accountant over all R rounds.
* **ZKPoT** — the same local training (SGD, same seeds); each round every model's
  correct count on the round's test set (drawn from held-out data) is proven and
  published, the best count leads, the other admitted models are sealed to the leader
  alone, and the global model is the FedAvg of the admitted models weighted by their
  counts. The leader of round r holds the other K − 1 local models of round r;
  everyone else holds only the global models, the counts and the commitments (hiding
  Poseidon commitments and zero-knowledge proofs, which reveal nothing beyond the
  counts under their cryptographic assumptions; no attack here can test that).

Data are split once: the participants' private data (attacked: members), a non-member
pool of the same distribution (never trained on), the attacker's auxiliary data (for
shadow models; disjoint from both) and a test pool (accuracy and ZKPoT's round test
sets). Everything is deterministic given the seed.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import nn

from zkpot.aggregate import FedAvg, ModelUpdate
from zkpot.data import DataError, Dataset
from zkpot.models import Architecture, build_model
from zkpot.privacy import attacks
from zkpot.privacy.metrics import AttackScore, evaluate
from zkpot.train import count_correct, train_local

StateDict = dict[str, torch.Tensor]
Progress = Callable[[str], None]

FRACTIONS = (0.4, 0.2, 0.3, 0.1)
"""Shares of the data: participants' private data, non-members, attacker's auxiliary
data, test pool."""

ATTACKS = ("loss", "lira")
"""Attack keys: the loss threshold and offline LiRA."""


@dataclass(frozen=True)
class PrivacyConfig:
    """What the comparison runs (defaults: a few minutes on 2 cores for digits)."""

    participants: int = 4
    """K, participants (all honest, IID parts of equal size)."""
    rounds: int = 3
    """Federated rounds."""
    epochs: int = 5
    """Local epochs per round (the demo's default)."""
    lr: float = 0.05
    """Local learning rate (SGD with momentum 0.9, as ``zkpot.train``)."""
    batch_size: int = 32
    """Mini-batch size (DP-SGD: expected Poisson batch size)."""
    hidden: tuple[int, ...] = (32,)
    """MLP hidden widths: (32,) is the default 64-32-10 MLP on digits."""
    shadows: int = 16
    """Shadow federations the LiRA attacker trains on its auxiliary data (each gives K
    local shadow models and one global shadow model)."""
    noise_multipliers: tuple[float, ...] = (0.5, 1.0, 2.0)
    """DP-SGD noise levels (σ); an empty tuple skips DP-SGD."""
    max_grad_norm: float = 1.0
    """DP-SGD per-sample clipping norm C."""
    dp_lr: float = 0.2
    """DP-SGD learning rate: clipped, noised gradients need a larger step than ``lr``
    (on digits 0.2 gives the best accuracy of 0.05, 0.2 and 0.5 across the σ used)."""
    delta: float = 1e-5
    """δ of the reported (ε, δ)."""
    samples_per_round: int = 16
    """ZKPoT: test samples each round's proofs count (the demo's default)."""
    max_samples: int = 4000
    """Use at most this many samples of the dataset (a random subset of larger ones)."""
    seed: int = 0
    """Seed of the split, the training and the shadows (run k uses ``seed + k``)."""
    repeats: int = 5
    """Independent runs (new split, initialisation, shadows); the report gives the mean
    and standard deviation over them (one run's AUC varies by about ±0.03 on digits)."""


@dataclass(frozen=True)
class PrivacySplit:
    """The data as the comparison divides it."""

    clients: list[Dataset]
    """Each participant's private training data (the attacked members)."""
    nonmembers: Dataset
    """Held-out samples nobody trains on."""
    aux: Dataset
    """The attacker's own data (shadow models), disjoint from all of the above."""
    test: Dataset
    """Accuracy and ZKPoT's round test sets."""


def split_data(dataset: Dataset, config: PrivacyConfig) -> PrivacySplit:
    """Divide ``dataset`` by :data:`FRACTIONS` after a seeded shuffle (flattened samples)."""
    flat = dataset.flat()
    rng = np.random.default_rng([config.seed, 0x9121])
    order = rng.permutation(len(flat))[: config.max_samples].astype(np.int64)
    cuts = (np.cumsum(FRACTIONS)[:-1] * len(order)).astype(np.int64)
    private, nonmembers, aux, test = np.split(order, cuts)
    if config.participants < 1 or len(private) < 8 * config.participants or len(test) < 8:
        raise DataError(
            f"{len(order)} samples are too few for {config.participants} participants "
            "(each needs at least 8 private samples, plus non-member, shadow and test data)",
            "use a larger dataset or fewer participants",
        )
    parts = np.array_split(private, config.participants)
    return PrivacySplit(
        clients=[flat.subset(np.sort(p), f"{flat.name}:p{i + 1}") for i, p in enumerate(parts)],
        nonmembers=flat.subset(np.sort(nonmembers), f"{flat.name}:nonmembers"),
        aux=flat.subset(np.sort(aux), f"{flat.name}:aux"),
        test=flat.subset(np.sort(test), f"{flat.name}:test"),
    )


def architecture_for(dataset: Dataset, config: PrivacyConfig) -> Architecture:
    """The MLP for ``dataset``'s flat features (on digits: ``mlp-64-32-10``)."""
    widths = "-".join(str(w) for w in (dataset.num_features, *config.hidden, dataset.num_classes))
    return Architecture(
        name=f"mlp-{widths}",
        kind="mlp",
        input_size=dataset.num_features,
        num_classes=dataset.num_classes,
        hidden=config.hidden,
    )


# -- training recipes ------------------------------------------------------------------

Recipe = Callable[[nn.Module, Dataset, int], nn.Module]
"""Local training: (model to start from, data, seed) → trained model."""


def sgd_recipe(config: PrivacyConfig) -> Recipe:
    """The pipeline's own local training (``zkpot.train.train_local``)."""

    def recipe(model: nn.Module, data: Dataset, seed: int) -> nn.Module:
        return train_local(
            model, data.X, data.y,
            epochs=config.epochs, lr=config.lr, batch_size=config.batch_size, seed=seed,
        )

    return recipe


def dp_recipe(config: PrivacyConfig, arch: Architecture, noise_multiplier: float) -> Recipe:
    """DP-SGD with opacus: the same optimiser, epochs and batch size, clipped and noised."""

    def recipe(model: nn.Module, data: Dataset, seed: int) -> nn.Module:
        return dp_train(
            model, data, arch,
            noise_multiplier=noise_multiplier, max_grad_norm=config.max_grad_norm,
            epochs=config.epochs, lr=config.dp_lr, batch_size=config.batch_size, seed=seed,
        )

    return recipe


def dp_train(
    model: nn.Module,
    data: Dataset,
    arch: Architecture,
    *,
    noise_multiplier: float,
    max_grad_norm: float,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
) -> nn.Module:
    """Train a copy of ``model`` with DP-SGD; return the copy in eval mode.

    Deterministic given ``seed``: opacus's Poisson sampler draws from torch's global
    generator, so it runs inside a forked, seeded one (the caller's stream is untouched).
    """
    from opacus import PrivacyEngine  # type: ignore[import-untyped]

    features = torch.from_numpy(np.ascontiguousarray(data.X, dtype=np.float32))
    labels = torch.from_numpy(np.ascontiguousarray(data.y, dtype=np.int64))
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(features, labels), batch_size=batch_size
    )
    work = build_model(arch)
    work.load_state_dict(model.state_dict())
    work.train()
    optimiser = torch.optim.SGD(work.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(seed)
        engine = PrivacyEngine(accountant="rdp")
        private, dp_optimiser, dp_loader = engine.make_private(
            module=work,
            optimizer=optimiser,
            data_loader=loader,
            noise_multiplier=noise_multiplier,
            max_grad_norm=max_grad_norm,
            noise_generator=torch.Generator().manual_seed(seed + 1),
        )
        for _ in range(epochs):
            for batch_x, batch_y in dp_loader:
                if len(batch_y) == 0:
                    continue
                dp_optimiser.zero_grad()
                loss_fn(private(batch_x), batch_y).backward()
                dp_optimiser.step()
        private.remove_hooks()
    trained = build_model(arch)
    trained.load_state_dict({k: v.detach().clone() for k, v in work.state_dict().items()})
    return trained.eval()


def dp_epsilon(
    noise_multiplier: float, samples: int, config: PrivacyConfig
) -> float:
    """ε (at ``config.delta``) of one participant's R rounds of DP-SGD, RDP accountant."""
    from opacus.accountants import RDPAccountant  # type: ignore[import-untyped]

    batches = max(math.ceil(samples / config.batch_size), 1)
    accountant = RDPAccountant()
    steps = config.rounds * config.epochs * batches
    accountant.history = [(noise_multiplier, 1.0 / batches, steps)]
    return float(accountant.get_epsilon(config.delta))


# -- federation ------------------------------------------------------------------------


@dataclass
class Federation:
    """Every model of one federated run."""

    local: list[list[StateDict]] = field(default_factory=list)
    """``local[r][i]``: participant i's model after round r's local training."""
    global_: list[StateDict] = field(default_factory=list)
    """``global_[r]``: the global model after round r."""
    counts: list[list[int]] = field(default_factory=list)
    """ZKPoT: ``counts[r][i]``, i's correct count on round r's test set."""
    leaders: list[int] = field(default_factory=list)
    """ZKPoT: the leader of each round (-1: no model admitted)."""


def _copy(model: nn.Module) -> StateDict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def model_of(arch: Architecture, state: StateDict) -> nn.Module:
    """A model of ``arch`` holding ``state``, in eval mode."""
    model = build_model(arch)
    model.load_state_dict(state)
    return model.eval()


def federate(
    arch: Architecture,
    clients: Sequence[Dataset],
    recipe: Recipe,
    *,
    rounds: int,
    seed: int,
    round_tests: Sequence[Dataset] | None = None,
) -> Federation:
    """R rounds of FedAvg from a seeded initial model.

    Without ``round_tests``: plain FedAvg weighted by sample counts. With them: ZKPoT's
    rule — each model's correct count on the round's test set is its weight, a count
    of 0 is not admitted, and the first best count leads.
    """
    run = Federation()
    state = _copy(build_model(arch, seed))
    for r in range(rounds):
        models = []
        for i, data in enumerate(clients):
            start = model_of(arch, state)
            models.append(recipe(start, data, seed * 1_000_003 + r * 1_009 + i))
        run.local.append([_copy(m) for m in models])
        if round_tests is None:
            weights = [float(len(c)) for c in clients]
        else:
            test = round_tests[r]
            counts = [count_correct(m, test.X, test.y) for m in models]
            run.counts.append(counts)
            run.leaders.append(int(np.argmax(counts)) if max(counts) > 0 else -1)
            weights = [float(c) for c in counts]
        if sum(weights) > 0:
            updates = [
                ModelUpdate(f"p{i:04d}", run.local[-1][i], weight=w, verified=w > 0)
                for i, w in enumerate(weights)
            ]
            state = FedAvg().aggregate(updates, leader=updates[0].participant)
        run.global_.append({k: v.clone() for k, v in state.items()})
    return run


def round_test_sets(test: Dataset, config: PrivacyConfig) -> list[Dataset]:
    """ZKPoT's per-round test sets: ``samples_per_round`` seeded draws from the test pool."""
    rng = np.random.default_rng([config.seed, 0x7E57])
    size = min(config.samples_per_round, len(test))
    return [
        test.subset(np.sort(rng.choice(len(test), size=size, replace=False)), f"round{r}")
        for r in range(config.rounds)
    ]


@dataclass(frozen=True)
class Shadows:
    """The LiRA attacker's models: none trained on any target sample."""

    local: list[nn.Module]
    """Last-round local models of the shadow federations."""
    global_: list[nn.Module]
    """Final global models of the shadow federations."""


def train_shadows(
    arch: Architecture, split: PrivacySplit, recipe: Recipe, config: PrivacyConfig
) -> Shadows:
    """``config.shadows`` federations of K clients trained by ``recipe``.

    Each shadow client is a random draw of the auxiliary data as large as a real
    participant's data.
    """
    size = min(max(len(c) for c in split.clients), len(split.aux))
    local: list[nn.Module] = []
    global_: list[nn.Module] = []
    for s in range(config.shadows):
        rng = np.random.default_rng([config.seed, 0x5AD0, s])
        clients = [
            split.aux.subset(np.sort(rng.choice(len(split.aux), size=size, replace=False)))
            for _ in split.clients
        ]
        seed = config.seed + 7919 * (s + 1)
        run = federate(arch, clients, recipe, rounds=config.rounds, seed=seed)
        local += [model_of(arch, st) for st in run.local[-1]]
        global_.append(model_of(arch, run.global_[-1]))
    return Shadows(local, global_)


# -- attacks on views ------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One participant's attacked samples: members and as many non-members."""

    members: Dataset
    nonmembers: Dataset


def targets(split: PrivacySplit, config: PrivacyConfig) -> list[Target]:
    """Per participant: its private samples and an equal number of non-members."""
    out = []
    for i, client in enumerate(split.clients):
        rng = np.random.default_rng([config.seed, 0x7A26, i])
        n = min(len(client), len(split.nonmembers))
        members = client.subset(np.sort(rng.choice(len(client), size=n, replace=False)))
        picked = np.sort(rng.choice(len(split.nonmembers), size=n, replace=False))
        out.append(Target(members, split.nonmembers.subset(picked)))
    return out


def attack_model(
    model: nn.Module, target: Target, shadows: Sequence[nn.Module]
) -> dict[str, AttackScore]:
    """Both attacks on ``model`` for one participant's target samples."""
    m, n = target.members, target.nonmembers
    X = np.concatenate([m.X, n.X])
    y = np.concatenate([m.y, n.y])
    lira = attacks.lira_offline(
        attacks.scaled_confidence(model, X, y), attacks.shadow_confidences(shadows, X, y)
    )
    return {
        "loss": evaluate(
            attacks.loss_scores(model, m.X, m.y), attacks.loss_scores(model, n.X, n.y)
        ),
        "lira": evaluate(lira[: len(m)], lira[len(m) :]),
    }


@dataclass(frozen=True)
class AttackSummary:
    """One attack over the participants an observer can attack."""

    auc: float
    """Mean AUC over the attacked participants."""
    advantage: float
    """Mean advantage."""
    tpr_at_5pct_fpr: float
    """Mean TPR at 5 % FPR."""
    auc_max: float
    """The highest AUC of any one participant."""
    attacked: int
    """Participants whose data this observer could attack."""


def summarise(scores: Sequence[AttackScore]) -> AttackSummary:
    """Means over participants (NaN when the observer could attack nobody)."""
    if not scores:
        nan = float("nan")
        return AttackSummary(nan, nan, nan, nan, 0)
    return AttackSummary(
        auc=float(np.mean([s.auc for s in scores])),
        advantage=float(np.mean([s.advantage for s in scores])),
        tpr_at_5pct_fpr=float(np.mean([s.tpr_at_5pct_fpr for s in scores])),
        auc_max=float(max(s.auc for s in scores)),
        attacked=len(scores),
    )


@dataclass(frozen=True)
class ViewResult:
    """What one observer of one system learns about the participants' data."""

    view: str
    """``local`` (local models), ``leader`` (ZKPoT's leader) or ``global``."""
    observer: str
    """Who holds this view."""
    sees: str
    """What it holds that the attack uses."""
    loss: AttackSummary
    """Loss-threshold attack."""
    lira: AttackSummary
    """Offline LiRA."""
    per_participant: list[dict[str, AttackScore] | None]
    """Per participant (None: this observer never holds a model trained on its data
    alone)."""


def view_result(
    view: str,
    observer: str,
    sees: str,
    models: Sequence[nn.Module | None],
    tgts: Sequence[Target],
    shadows: Sequence[nn.Module],
) -> ViewResult:
    """Attack participant i through ``models[i]`` (None: not visible to this observer)."""
    per: list[dict[str, AttackScore] | None] = [
        None if model is None else attack_model(model, t, shadows)
        for model, t in zip(models, tgts, strict=True)
    ]
    seen = [p for p in per if p is not None]
    return ViewResult(
        view=view,
        observer=observer,
        sees=sees,
        loss=summarise([p["loss"] for p in seen]),
        lira=summarise([p["lira"] for p in seen]),
        per_participant=per,
    )


@dataclass(frozen=True)
class SystemResult:
    """One system: its accuracy, its privacy budget if any, and every observer's view."""

    key: str
    """``plain``, ``zkpot`` or ``dp-<σ>``."""
    name: str
    """Human-readable name."""
    accuracy: float
    """Final global model's accuracy on the test pool."""
    local_accuracy: float
    """Mean accuracy of the last round's local models on the test pool."""
    train_accuracy: float
    """Mean accuracy of the last round's local models on their own training data."""
    epsilon: float | None
    """DP-SGD: ε at ``delta`` for one participant over all rounds; None otherwise."""
    views: list[ViewResult]
    """What each observer learns."""
    counts: list[list[int]] = field(default_factory=list)
    """ZKPoT: the published correct counts, ``counts[round][participant]``."""
    leaders: list[int] = field(default_factory=list)
    """ZKPoT: each round's leader (participant index)."""


@dataclass(frozen=True)
class PrivacyResult:
    """One run of the comparison (one seed)."""

    dataset: str
    architecture: str
    config: PrivacyConfig
    sizes: dict[str, int]
    """Samples per role: per participant, non-members, auxiliary, test."""
    systems: list[SystemResult]
    seconds: float
    """Wall time of the run."""


def _accuracy(model: nn.Module, data: Dataset) -> float:
    return count_correct(model, data.X, data.y) / len(data) if len(data) else 0.0


def _system(
    key: str,
    name: str,
    arch: Architecture,
    run: Federation,
    split: PrivacySplit,
    views: list[ViewResult],
    epsilon: float | None = None,
) -> SystemResult:
    local = [model_of(arch, s) for s in run.local[-1]]
    return SystemResult(
        key=key,
        name=name,
        accuracy=_accuracy(model_of(arch, run.global_[-1]), split.test),
        local_accuracy=float(np.mean([_accuracy(m, split.test) for m in local])),
        train_accuracy=float(
            np.mean([_accuracy(m, c) for m, c in zip(local, split.clients, strict=True)])
        ),
        epsilon=epsilon,
        views=views,
        counts=run.counts,
        leaders=run.leaders,
    )


def leader_seen(run: Federation, participant: int) -> int | None:
    """The last round whose leader received ``participant``'s model (None: no round).

    A participant's model goes to the leader only when someone else leads and its own
    count was admitted (greater than 0).
    """
    for r in range(len(run.leaders) - 1, -1, -1):
        if run.leaders[r] not in (-1, participant) and run.counts[r][participant] > 0:
            return r
    return None


def _open_views(
    arch: Architecture, run: Federation, tgts: list[Target], shadows: Shadows, who: str
) -> list[ViewResult]:
    """Plain and DP-SGD FedAvg: the aggregator's view and everyone's."""
    return [
        view_result(
            "local", f"the aggregator ({who})", "every local model, every round",
            [model_of(arch, s) for s in run.local[-1]], tgts, shadows.local,
        ),
        view_result(
            "global", "every participant and anyone the model is shared with",
            "the global models", [model_of(arch, run.global_[-1])] * len(tgts), tgts,
            shadows.global_,
        ),
    ]


@dataclass(frozen=True)
class Stat:
    """Mean and standard deviation over the runs (NaN where no run had a value)."""

    mean: float
    std: float


def stat(values: Sequence[float]) -> Stat:
    """The mean and (population) standard deviation of the finite ``values``."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return Stat(float("nan"), float("nan"))
    return Stat(float(np.mean(finite)), float(np.std(finite)))


@dataclass(frozen=True)
class ViewSummary:
    """One system and observer over all runs."""

    system: str
    """System key (``plain``, ``zkpot``, ``dp-<σ>``)."""
    name: str
    view: str
    observer: str
    sees: str
    loss_auc: Stat
    loss_advantage: Stat
    lira_auc: Stat
    lira_advantage: Stat
    lira_tpr_at_5pct_fpr: Stat
    accuracy: Stat
    """The system's final global accuracy on the test pool."""
    epsilon: float | None
    """DP-SGD's ε (the same in every run); None without DP."""
    attacked: int
    """Participant-runs this observer could attack (of ``runs × K``)."""


@dataclass(frozen=True)
class PrivacyComparison:
    """All runs and their summary."""

    dataset: str
    architecture: str
    config: PrivacyConfig
    summary: list[ViewSummary]
    runs: list[PrivacyResult]
    seconds: float
    """Wall time of all runs."""


def summarise_runs(runs: Sequence[PrivacyResult]) -> list[ViewSummary]:
    """Per system and view, the mean and std over the runs of the participant means."""
    out = []
    for k, system in enumerate(runs[0].systems):
        for j, view in enumerate(system.views):
            same = [(r.systems[k], r.systems[k].views[j]) for r in runs]
            out.append(
                ViewSummary(
                    system=system.key,
                    name=system.name,
                    view=view.view,
                    observer=view.observer,
                    sees=view.sees,
                    loss_auc=stat([v.loss.auc for _, v in same]),
                    loss_advantage=stat([v.loss.advantage for _, v in same]),
                    lira_auc=stat([v.lira.auc for _, v in same]),
                    lira_advantage=stat([v.lira.advantage for _, v in same]),
                    lira_tpr_at_5pct_fpr=stat([v.lira.tpr_at_5pct_fpr for _, v in same]),
                    accuracy=stat([s.accuracy for s, _ in same]),
                    epsilon=system.epsilon,
                    attacked=sum(v.lira.attacked for _, v in same),
                )
            )
    return out


def run_privacy(
    dataset: Dataset, config: PrivacyConfig, progress: Progress = lambda _: None
) -> PrivacyComparison:
    """Train the three systems on ``dataset`` ``config.repeats`` times, attack every view.

    Runs torch on one thread (tiny models: thread hand-offs cost more than they save),
    restoring the caller's setting afterwards.
    """
    if config.repeats < 1:
        raise DataError(f"repeats must be at least 1, got {config.repeats}", "pass --repeats 1")
    started = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runs = []
        for k in range(config.repeats):
            progress(f"run {k + 1} of {config.repeats} (seed {config.seed + k})")
            runs.append(_run(dataset, replace(config, seed=config.seed + k), progress))
    finally:
        torch.set_num_threads(threads)
    return PrivacyComparison(
        dataset=runs[0].dataset,
        architecture=runs[0].architecture,
        config=config,
        summary=summarise_runs(runs),
        runs=runs,
        seconds=time.perf_counter() - started,
    )


def _run(dataset: Dataset, config: PrivacyConfig, progress: Progress) -> PrivacyResult:
    started = time.perf_counter()
    split = split_data(dataset, config)
    arch = architecture_for(split.test, config)
    tgts = targets(split, config)
    sgd = sgd_recipe(config)
    systems: list[SystemResult] = []

    progress("plain FedAvg: training the participants and the attacker's shadow models")
    shadows = train_shadows(arch, split, sgd, config)
    plain = federate(arch, split.clients, sgd, rounds=config.rounds, seed=config.seed)
    systems.append(
        _system("plain", "plain FedAvg", arch, plain, split,
                _open_views(arch, plain, tgts, shadows, "server"))
    )

    progress("ZKPoT: proven counts, count-weighted FedAvg, models sealed to the leader")
    zk = federate(
        arch, split.clients, sgd, rounds=config.rounds, seed=config.seed,
        round_tests=round_test_sets(split.test, config),
    )
    seen = [leader_seen(zk, i) for i in range(len(split.clients))]
    leader_models: list[nn.Module | None] = [
        None if r is None else model_of(arch, zk.local[r][i]) for i, r in enumerate(seen)
    ]
    systems.append(
        _system(
            "zkpot", "ZKPoT", arch, zk, split,
            [
                view_result(
                    "leader", "the round's leader",
                    "the K − 1 other admitted local models of the rounds it leads",
                    leader_models, tgts, shadows.local,
                ),
                view_result(
                    "global", "everyone else (chain + IPFS)",
                    "the global models, the verified counts, commitments and proofs",
                    [model_of(arch, zk.global_[-1])] * len(tgts), tgts, shadows.global_,
                ),
            ],
        )
    )

    for sigma in config.noise_multipliers:
        progress(f"DP-SGD FedAvg σ={sigma:g}: training the participants and shadow models")
        recipe = dp_recipe(config, arch, sigma)
        dp_shadows = train_shadows(arch, split, recipe, config)
        dp = federate(arch, split.clients, recipe, rounds=config.rounds, seed=config.seed)
        epsilon = max(dp_epsilon(sigma, len(c), config) for c in split.clients)
        systems.append(
            _system(
                f"dp-{sigma:g}", f"DP-SGD FedAvg (σ={sigma:g})", arch, dp, split,
                _open_views(arch, dp, tgts, dp_shadows, "server"), epsilon,
            )
        )

    sizes = {f"p{i + 1}": len(c) for i, c in enumerate(split.clients)}
    sizes |= {"nonmembers": len(split.nonmembers), "aux": len(split.aux), "test": len(split.test)}
    return PrivacyResult(
        dataset=dataset.name,
        architecture=arch.name,
        config=config,
        sizes=sizes,
        systems=systems,
        seconds=time.perf_counter() - started,
    )
