"""The demo report's privacy section, on models built here (the demo itself runs in
tests/flows/test_demo.py): a memorised participant shows up, the table and plot are written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from zkpot.data import load_digits
from zkpot.models import Architecture, build_model
from zkpot.privacy import demo_view
from zkpot.train import train_local

WIDE = Architecture(name="mlp-64-128-10", kind="mlp", hidden=(128,))


@pytest.mark.slow  # trains the demo's models and plots: about 10 s
def test_demo_privacy_section_exposes_a_memorised_local_model_and_writes_its_plot(
    tmp_path: Path,
) -> None:
    digits = load_digits()
    members, other, pool = (digits.subset(np.arange(a, a + 120)) for a in (0, 300, 600))
    memorised = train_local(build_model(WIDE, 1), members.X, members.y, epochs=150, lr=0.1,
                            batch_size=16, seed=1)
    stranger = train_local(build_model(WIDE, 2), other.X, other.y, epochs=150, lr=0.1,
                           batch_size=16, seed=2)
    people = [
        demo_view.DemoParticipant("p1", "honest", members, memorised, seen_by_leader=True),
        demo_view.DemoParticipant("p2", "honest", members, stranger, seen_by_leader=False),
    ]
    rows = demo_view.demo_privacy(people, stranger, stranger, pool)
    assert rows[0].leader_view.auc > 0.6 and rows[0].leader_view.members == 120
    assert abs(rows[1].leader_view.auc - 0.5) < 0.12
    assert abs(rows[0].zkpot_global.auc - 0.5) < 0.12

    lines = demo_view.markdown(rows, 0.9, 0.7)
    text = "\n".join(lines)
    assert "## Privacy" in text and "| p1 | honest |" in text
    assert "no other participant received it" in text  # p2's model reached nobody
    assert "label noise" not in text  # no label-flipped participant here
    demo_view.plot(rows, 0.9, 0.7, tmp_path / "privacy.png")
    assert (tmp_path / "privacy.png").read_bytes()[:4] == b"\x89PNG"
