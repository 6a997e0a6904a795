"""The three systems' simulations: ZKPoT's admission/leader/weighting rule, what the
leader sees, DP-SGD's determinism and budget, and the whole comparison on a tiny config."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from zkpot.data import DataError, Dataset, load_digits
from zkpot.models import build_model
from zkpot.privacy.simulate import (
    Federation,
    PrivacyConfig,
    Stat,
    architecture_for,
    dp_epsilon,
    dp_train,
    federate,
    leader_seen,
    run_privacy,
    sgd_recipe,
    split_data,
    stat,
)

TINY = PrivacyConfig(participants=2, rounds=2, epochs=1, shadows=2, noise_multipliers=(1.0,),
                     max_samples=300, repeats=2)


def test_split_is_disjoint_and_sized_by_the_fractions() -> None:
    split = split_data(load_digits(), PrivacyConfig())
    parts = [*split.clients, split.nonmembers, split.aux, split.test]
    rows = [tuple(x) for part in parts for x in part.X.round(4)]
    assert sum(len(p) for p in parts) == 1797
    assert {len(c) for c in split.clients} <= {179, 180}
    # No sample is in two roles (digits has a few exact duplicates; allow those).
    assert len(set(rows)) >= len(rows) - 20
    assert architecture_for(split.test, PrivacyConfig()).name == "mlp-64-32-10"


def test_too_little_data_is_one_sentence() -> None:
    with pytest.raises(DataError, match="too few"):
        split_data(load_digits(), PrivacyConfig(participants=64, max_samples=300))


def test_zkpot_rule_weights_by_counts_leads_by_best_and_drops_zero_counts() -> None:
    split = split_data(load_digits(), PrivacyConfig(participants=3))
    arch = architecture_for(split.test, PrivacyConfig())
    trained = sgd_recipe(PrivacyConfig(epochs=3))

    def recipe(model: torch.nn.Module, data: Dataset, seed: int) -> torch.nn.Module:
        # p3 submits an all-zero model: it predicts class 0 for everything.
        if data is split.clients[2]:
            zero = build_model(arch)
            with torch.no_grad():
                for param in zero.parameters():
                    param.zero_()
            return zero
        return trained(model, data, seed)

    no_zero = split.test.subset(np.flatnonzero(split.test.y != 0)[:16])
    run = federate(arch, split.clients, recipe, rounds=1, seed=0, round_tests=[no_zero])
    counts = run.counts[0]
    assert counts[2] == 0 and counts[0] > 0 and counts[1] > 0
    assert run.leaders == [int(np.argmax(counts))]
    # The global model is the count-weighted average of the admitted models only.
    w = np.array(counts[:2], dtype=np.float64) / sum(counts[:2])
    for key, value in run.global_[0].items():
        expected = w[0] * run.local[0][0][key].double() + w[1] * run.local[0][1][key].double()
        assert torch.allclose(value.double(), expected, atol=1e-6)


def test_leader_sees_a_model_only_in_rounds_someone_else_leads_and_admits_it() -> None:
    run = Federation(counts=[[5, 3, 0], [4, 6, 2], [7, 1, 1]], leaders=[0, 1, 0])
    assert leader_seen(run, 0) == 1  # led rounds 0 and 2; p2 led round 1
    assert leader_seen(run, 1) == 2
    assert leader_seen(run, 2) == 2  # not admitted in round 0 (count 0)
    assert leader_seen(Federation(counts=[[5, 3]], leaders=[0]), 0) is None


def test_dp_sgd_is_deterministic_and_its_epsilon_falls_with_noise() -> None:
    data = load_digits().subset(np.arange(64))
    arch = architecture_for(data, PrivacyConfig())
    kwargs = dict(noise_multiplier=1.0, max_grad_norm=1.0, epochs=1, lr=0.2, batch_size=16)
    a = dp_train(build_model(arch, 0), data, arch, seed=5, **kwargs)  # type: ignore[arg-type]
    b = dp_train(build_model(arch, 0), data, arch, seed=5, **kwargs)  # type: ignore[arg-type]
    c = dp_train(build_model(arch, 0), data, arch, seed=6, **kwargs)  # type: ignore[arg-type]
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
    assert not all(torch.equal(a.state_dict()[k], c.state_dict()[k]) for k in a.state_dict())
    config = PrivacyConfig()
    eps = [dp_epsilon(s, 180, config) for s in (0.5, 1.0, 2.0)]
    assert eps[0] > eps[1] > eps[2] > 0


def test_the_comparison_covers_every_system_and_view_and_is_reproducible() -> None:
    digits = load_digits()
    result = run_privacy(digits, TINY)
    assert len(result.runs) == 2 and [r.config.seed for r in result.runs] == [0, 1]
    first = result.runs[0]
    assert [s.key for s in first.systems] == ["plain", "zkpot", "dp-1"]
    views = {s.key: [v.view for v in s.views] for s in first.systems}
    assert views == {"plain": ["local", "global"], "zkpot": ["leader", "global"],
                     "dp-1": ["local", "global"]}
    zk = first.systems[1]
    assert len(zk.counts) == TINY.rounds and len(zk.leaders) == TINY.rounds
    assert all(0 <= c <= TINY.samples_per_round for row in zk.counts for c in row)
    assert first.systems[2].epsilon is not None and first.systems[0].epsilon is None
    for system in first.systems:
        assert 0.0 <= system.accuracy <= 1.0
    # The summary is the mean over runs of each view's participant mean.
    assert [(v.system, v.view) for v in result.summary] == [
        (s.key, v.view) for s in first.systems for v in s.views
    ]
    plain_local = result.summary[0]
    aucs = [r.systems[0].views[0].lira.auc for r in result.runs]
    assert plain_local.lira_auc.mean == pytest.approx(np.mean(aucs))
    assert plain_local.lira_auc.std == pytest.approx(np.std(aucs))
    assert plain_local.attacked == TINY.repeats * TINY.participants
    again = run_privacy(digits, replace(TINY, repeats=1))
    assert [v.lira.auc for s in again.runs[0].systems for v in s.views] == pytest.approx(
        [v.lira.auc for s in first.systems for v in s.views], nan_ok=True
    )


def test_stat_ignores_views_an_observer_never_had() -> None:
    assert stat([0.5, float("nan"), 0.7]) == Stat(pytest.approx(0.6), pytest.approx(0.1))
    assert all(np.isnan([stat([float("nan")]).mean, stat([]).std]))
