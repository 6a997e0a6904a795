"""Architectures: stable ids, seeded initialisation, checkpoints that know their architecture."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from zkpot import models
from zkpot.errors import ProvingError

# Pinned: a task references its architecture by this id on chain, so it must never drift.
PINNED_IDS = {
    "mlp-64-32-10": "40edb1823074e04dddbf8910b3ff6811acc5e71550c5c2a16179a4ec416fda64",
    "mlp-64-8-10": "ef8864a6f50ca9c4f6c4ef2ac2f25fa36e2b646fdd393e642a5c33afa9deb324",
}


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    pairs = zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    return all(torch.equal(x, y) for x, y in pairs)


def test_architecture_ids_are_pinned_and_distinct() -> None:
    for name, expected in PINNED_IDS.items():
        assert models.architecture_id(models.architecture_by_name(name)) == expected
    ids = {models.architecture_id(a) for a in models.ARCHITECTURES.values()}
    assert len(ids) == len(models.ARCHITECTURES)
    # The id follows the shape, not the object: an equal value has the same id.
    twin = models.Architecture(name="mlp-64-32-10", kind="mlp", hidden=(32,))
    assert models.architecture_id(twin) == PINNED_IDS["mlp-64-32-10"]
    wider = models.Architecture(name="mlp-64-32-10", kind="mlp", hidden=(33,))
    assert models.architecture_id(wider) != PINNED_IDS["mlp-64-32-10"]


def test_unknown_architecture_name_is_rejected() -> None:
    with pytest.raises(ProvingError, match="Unknown architecture 'mlp-1'"):
        models.architecture_by_name("mlp-1")


@pytest.mark.parametrize("name", sorted(models.ARCHITECTURES))
def test_seeded_init_is_deterministic_and_leaves_global_rng_alone(name: str) -> None:
    arch = models.architecture_by_name(name)
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    first = models.build_model(arch, seed=7)
    assert torch.equal(torch.rand(3), before)  # the global generator was not consumed
    assert _same_weights(first, models.build_model(arch, seed=7))
    assert not _same_weights(first, models.build_model(arch, seed=8))
    logits = first(torch.zeros(5, arch.input_size))
    assert logits.shape == (5, arch.num_classes)


def test_save_load_round_trip_keeps_weights_and_architecture(tmp_path: Path) -> None:
    for arch in models.ARCHITECTURES.values():
        model = models.build_model(arch, seed=3)
        path = tmp_path / f"{arch.name}.pt"
        models.save_model(model, arch, path)
        loaded_arch, loaded = models.load_model(path, expected=arch)
        assert loaded_arch == arch
        assert _same_weights(model, loaded)
        x = torch.rand(4, arch.input_size)
        assert torch.equal(model(x), loaded(x))


def test_checkpoint_of_another_architecture_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "tiny.pt"
    models.save_model(models.build_model(models.TINY_MLP), models.TINY_MLP, path)
    with pytest.raises(ProvingError, match="has architecture mlp-64-8-10, but the task"):
        models.load_model(path, expected=models.MLP_DIGITS)


def test_weights_that_do_not_fit_their_declared_architecture_are_rejected(
    tmp_path: Path,
) -> None:
    path = tmp_path / "lying.pt"
    # Declares the default MLP but holds the tiny one's weights.
    models.save_model(models.build_model(models.TINY_MLP), models.MLP_DIGITS, path)
    with pytest.raises(ProvingError, match="is not a zkpot checkpoint"):
        models.load_model(path)


def test_missing_or_foreign_files_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ProvingError, match="does not exist"):
        models.load_model(tmp_path / "none.pt")
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": [1, 2, 3]}, foreign)
    with pytest.raises(ProvingError, match="is not a zkpot checkpoint"):
        models.load_model(foreign)


def test_cnn_rejects_a_non_square_input() -> None:
    odd = models.Architecture(name="cnn-odd", kind="cnn", input_size=60, hidden=(4, 8))
    with pytest.raises(ProvingError, match="square input"):
        models.build_model(odd)
