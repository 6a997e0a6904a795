"""Aggregation policies (Flower-style strategies) over torch state dicts.

The leader runs a :class:`Strategy` over the models it received and checked
against their on-chain commitments. Results are deterministic: updates are
combined in participant order with float64 accumulation, so any machine that
repeats the aggregation gets bit-identical weights.

The module also holds a proof-free FedAvg baseline the demo plots against.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Protocol

import numpy as np
import torch
from torch import nn

from zkpot.data import Dataset, FloatArray, LabelArray
from zkpot.errors import StorageError, ZkpotError
from zkpot.model_codec import HandoffError, ModelPayload, RejectionReason, StateDict


class AggregationError(ZkpotError):
    """The models given to a strategy cannot be aggregated."""


@dataclass(frozen=True)
class ModelUpdate:
    """One participant's model as the leader holds it after the hand-off."""

    participant: str
    """The participant's address (or name); also fixes the summation order."""
    state: StateDict
    """The model's ``state_dict``."""
    weight: float = 1.0
    """The task's published weight for this participant (e.g. its sample count)."""
    verified: bool = False
    """True once its proof verified on chain and its weights match the committed
    model commitment. Strategies ignore updates that are not verified."""
    blinding: tuple[int, ...] | None = None
    """The blinding its commitment was checked with (proven aggregation opens it again)."""


class Strategy(ABC):
    """An aggregation policy: verified models of a round → the next global model."""

    name: ClassVar[str]
    """The policy's name as written in a task spec."""

    @abstractmethod
    def aggregate(self, updates: Sequence[ModelUpdate], *, leader: str) -> StateDict:
        """Return the next global ``state_dict`` from ``updates``.

        Only updates with ``verified=True`` are used; raise
        :class:`AggregationError` if that leaves nothing usable.
        """


def _verified(updates: Sequence[ModelUpdate]) -> list[ModelUpdate]:
    chosen = sorted((u for u in updates if u.verified), key=lambda u: u.participant)
    if not chosen:
        raise AggregationError(
            "No verified model to aggregate", "aggregate only after at least one proof verified"
        )
    names = [u.participant for u in chosen]
    if len(set(names)) != len(names):
        raise AggregationError(
            "A participant appears twice among the models to aggregate",
            "pass one model per participant",
        )
    return chosen


def _check_same_shapes(updates: Sequence[ModelUpdate]) -> None:
    reference = {k: (tuple(v.shape), v.dtype) for k, v in updates[0].state.items()}
    for update in updates[1:]:
        shapes = {k: (tuple(v.shape), v.dtype) for k, v in update.state.items()}
        if shapes != reference:
            raise AggregationError(
                f"Model of {update.participant} does not have the same tensors as "
                f"{updates[0].participant}'s",
                "aggregate models of the task's architecture only",
            )


@dataclass(frozen=True)
class FedAvg(Strategy):
    """Weighted average of the verified models (McMahan et al.).

    With ``weighting="published"`` each model counts by its :attr:`ModelUpdate.weight`
    (the task's policy, e.g. sample counts); with ``"equal"`` all count the same.
    Integer buffers (counters) are taken from the first participant in order.
    """

    name: ClassVar[str] = "fedavg"
    weighting: Literal["published", "equal"] = "published"
    """Where the weights come from."""

    def aggregate(self, updates: Sequence[ModelUpdate], *, leader: str) -> StateDict:
        chosen = _verified(updates)
        _check_same_shapes(chosen)
        weights = np.array(
            [1.0 if self.weighting == "equal" else float(u.weight) for u in chosen],
            dtype=np.float64,
        )
        if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
            raise AggregationError(
                f"Aggregation weights {weights.tolist()} are not non-negative with a positive sum",
                "publish positive weights in the task",
            )
        weights = weights / weights.sum()
        result: StateDict = {}
        for key, first in chosen[0].state.items():
            if not torch.is_floating_point(first):
                result[key] = first.detach().cpu().clone()
                continue
            total = torch.zeros(first.shape, dtype=torch.float64)
            for w, update in zip(weights, chosen, strict=True):
                total += float(w) * update.state[key].detach().cpu().to(torch.float64)
            result[key] = total.to(first.dtype)
        return result


@dataclass(frozen=True)
class LeaderModel(Strategy):
    """The round leader's own model becomes the global model; nothing else is used."""

    name: ClassVar[str] = "leader-model"

    def aggregate(self, updates: Sequence[ModelUpdate], *, leader: str) -> StateDict:
        for update in _verified(updates):
            if update.participant == leader:
                return {k: v.detach().cpu().clone() for k, v in update.state.items()}
        raise AggregationError(
            f"The leader {leader}'s verified model is not among the models given",
            "pass the leader's own model",
        )


@dataclass(frozen=True)
class Rejection:
    """A received model the leader refused, and why (for the round report)."""

    participant: str
    """The submitter whose model was refused."""
    reason: str
    """One sentence saying what was wrong."""
    code: RejectionReason = RejectionReason.MALFORMED
    """The kind of fault, for reports and scripts."""

    @classmethod
    def of(cls, participant: str, error: BaseException, prefix: str = "") -> Rejection:
        """The rejection ``error`` calls for (a project error names its own reason)."""
        if isinstance(error, HandoffError):
            return cls(participant, prefix + error.sentence(), error.reason)
        if isinstance(error, StorageError):
            return cls(participant, prefix + error.sentence(), RejectionReason.UNAVAILABLE)
        if isinstance(error, ZkpotError):
            return cls(participant, prefix + error.sentence(), RejectionReason.MALFORMED)
        return cls(
            participant,
            f"{prefix}the model could not be processed ({type(error).__name__}: {error})"[:300],
            RejectionReason.MALFORMED,
        )

    def to_json(self) -> dict[str, str]:
        """The rejection as JSON-ready data."""
        return {"participant": self.participant, "code": self.code.value, "reason": self.reason}

    @classmethod
    def from_json(cls, data: Mapping[str, str]) -> Rejection:
        """Inverse of :meth:`to_json`."""
        return cls(data["participant"], data["reason"], RejectionReason(data["code"]))


def check_received(
    received: Mapping[str, StateDict | ModelPayload],
    onchain_commitments: Mapping[str, str | bytes],
    commitment_of: Callable[[ModelPayload], str | bytes],
    weights: Mapping[str, float] | None = None,
) -> tuple[list[ModelUpdate], list[Rejection]]:
    """Match decrypted models against the model commitments verified on chain.

    ``received`` maps participant → decrypted model (a bare ``state_dict`` or a
    :class:`~zkpot.model_codec.ModelPayload` with its blinding); ``onchain_commitments`` maps
    each participant with a verified submission → its model commitment (bytes or hex);
    ``commitment_of`` recomputes a model's commitment from the payload (weights and
    blinding, via the task circuit's ``model_commitment``). A model is accepted
    (``verified=True``) only if its recomputed commitment equals the on-chain one; every
    other model is returned as a :class:`Rejection` and never reaches a strategy — an
    error while recomputing one model's commitment rejects that model only. Weights
    default to 1.0.
    """
    accepted: list[ModelUpdate] = []
    rejected: list[Rejection] = []
    for participant in sorted(received):
        value = received[participant]
        payload = value if isinstance(value, ModelPayload) else ModelPayload(value)
        expected = onchain_commitments.get(participant)
        if expected is None:
            rejected.append(
                Rejection(
                    participant, "no verified submission on chain", RejectionReason.NOT_VERIFIED
                )
            )
            continue
        try:
            actual = commitment_of(payload)
        except Exception as exc:  # noqa: BLE001 - one bad model must not stop the round
            rejected.append(Rejection.of(participant, exc))
            continue
        if _hex_norm(actual) != _hex_norm(expected):
            rejected.append(
                Rejection(
                    participant,
                    f"model commitment 0x{_hex_norm(actual)} does not match the on-chain "
                    f"0x{_hex_norm(expected)}",
                    RejectionReason.COMMITMENT_MISMATCH,
                )
            )
            continue
        weight = 1.0 if weights is None else float(weights.get(participant, 0.0))
        blinding = None if payload.blinding is None else tuple(int(v) for v in payload.blinding)
        accepted.append(
            ModelUpdate(participant, payload.state, weight, verified=True, blinding=blinding)
        )
    return accepted, rejected


def _hex_norm(value: str | bytes) -> str:
    if isinstance(value, bytes):
        return value.hex()
    return value.lower().removeprefix("0x")


STRATEGIES: dict[str, type[Strategy]] = {FedAvg.name: FedAvg, LeaderModel.name: LeaderModel}
"""Policy name (as in a task spec) → strategy class."""


def strategy_for(policy: str) -> Strategy:
    """The strategy for a task's aggregation policy name (``fedavg`` or ``leader-model``)."""
    try:
        return STRATEGIES[policy]()
    except KeyError:
        raise AggregationError(
            f"Unknown aggregation policy {policy!r}",
            f"use one of {', '.join(sorted(STRATEGIES))}",
        ) from None


# -- evaluation and the proof-free baseline --------------------------------------------


def predict(model: nn.Module, X: FloatArray) -> LabelArray:
    """Class predictions of ``model`` (argmax of its outputs), in eval mode."""
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(np.ascontiguousarray(X)))
    predictions: LabelArray = logits.argmax(dim=-1).cpu().numpy().astype(np.int64)
    return predictions


def count_correct(model: nn.Module, dataset: Dataset) -> int:
    """How many samples of ``dataset`` the model classifies correctly."""
    return int((predict(model, dataset.X) == dataset.y).sum())


def accuracy(model: nn.Module, dataset: Dataset) -> float:
    """Fraction of ``dataset`` classified correctly (0.0 for an empty dataset)."""
    return count_correct(model, dataset) / len(dataset) if len(dataset) else 0.0


class TrainFn(Protocol):
    """Local training, the signature of ``zkpot.train.train_local``."""

    def __call__(
        self,
        model: nn.Module,
        X: FloatArray,
        y: LabelArray,
        *,
        epochs: int,
        lr: float,
        batch_size: int,
        seed: int,
    ) -> nn.Module: ...


@dataclass(frozen=True)
class LocalTrainConfig:
    """Hyper-parameters of one participant's local training per round."""

    epochs: int = 5
    """Passes over the local data per round."""
    lr: float = 0.05
    """Learning rate."""
    batch_size: int = 32
    """Mini-batch size."""


@dataclass(frozen=True)
class BaselineResult:
    """Plain FedAvg's trajectory."""

    accuracies: list[float] = field(default_factory=list)
    """Global accuracy on each round's test set after that round's aggregation."""
    final_state: StateDict = field(default_factory=dict)
    """The last global model."""


def _default_train_fn() -> TrainFn:
    from zkpot import train  # the ZK pipeline's training loop; imported late on purpose

    fn: TrainFn = train.train_local
    return fn


def plain_fedavg(
    model_factory: Callable[[], nn.Module],
    clients: Sequence[Dataset],
    test_sets: Sequence[Dataset],
    *,
    local: LocalTrainConfig | None = None,
    seed: int = 0,
    weighting: Literal["samples", "equal"] = "samples",
    train_fn: TrainFn | None = None,
) -> BaselineResult:
    """Run FedAvg without proofs or verification: every client's model is averaged.

    One round per entry of ``test_sets`` (round r is evaluated on ``test_sets[r]``),
    starting from ``model_factory()``. Poisoned clients are included, which is
    exactly what the ZKPoT run is compared against. Deterministic given ``seed``.
    """
    local = local or LocalTrainConfig()
    train = train_fn or _default_train_fn()
    global_model = model_factory()
    global_state = {k: v.detach().clone() for k, v in global_model.state_dict().items()}
    result = BaselineResult()
    for round_number, test in enumerate(test_sets):
        updates: list[ModelUpdate] = []
        for i, client in enumerate(clients):
            model = model_factory()
            model.load_state_dict(global_state)
            trained = train(
                model,
                client.X,
                client.y,
                epochs=local.epochs,
                lr=local.lr,
                batch_size=local.batch_size,
                seed=seed * 1_000_003 + round_number * 1_009 + i,
            )
            updates.append(
                ModelUpdate(
                    participant=f"client{i:04d}",
                    state={k: v.detach().clone() for k, v in trained.state_dict().items()},
                    weight=float(len(client)) if weighting == "samples" else 1.0,
                    verified=True,
                )
            )
        global_state = FedAvg().aggregate(updates, leader=updates[0].participant)
        global_model.load_state_dict(global_state)
        result.accuracies.append(accuracy(global_model, test))
    return BaselineResult(result.accuracies, global_state)
