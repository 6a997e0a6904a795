"""`zkpot privacy` on a tiny configuration: digits and a CSV file, files written to --out,
bad input refused in one sentence."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from zkpot.data import load_digits
from zkpot.privacy.command import privacy

TINY = ["--participants", "2", "--rounds", "1", "--epochs", "1", "--shadows", "2",
        "--noise", "1", "--max-samples", "200", "--repeats", "2"]


def test_privacy_command_writes_json_markdown_and_plot(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(privacy, [*TINY, "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "privacy.json").read_text())
    assert [r["config"]["seed"] for r in data["runs"]] == [0, 1]
    assert [s["key"] for s in data["runs"][0]["systems"]] == ["plain", "zkpot", "dp-1"]
    assert [(v["system"], v["view"]) for v in data["summary"]] == [
        ("plain", "local"), ("plain", "global"), ("zkpot", "leader"), ("zkpot", "global"),
        ("dp-1", "local"), ("dp-1", "global"),
    ]
    assert data["dataset"] == "digits" and data["architecture"] == "mlp-64-32-10"
    assert data["counts_reveal"]["bits_per_count"] == round(np.log2(17), 3)
    report = (out / "privacy.md").read_text()
    assert "LiRA AUC" in report and "leader" in report and "What a verified count reveals" in report
    assert (out / "privacy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "report:" in result.output


def test_privacy_command_reads_csv_data(tmp_path: Path) -> None:
    digits = load_digits()
    rows = np.column_stack([digits.y[:240], np.round(digits.X[:240] * 16)])
    path = tmp_path / "digits.csv"
    np.savetxt(path, rows, fmt="%d", delimiter=",")
    out = tmp_path / "csv-out"
    result = CliRunner().invoke(privacy, [*TINY, "--noise", "", "--data", f"csv:{path}",
                                          "--out", str(out), "--name", "csv-privacy"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "csv-privacy.json", "csv-privacy.md", "csv-privacy.png"
    ]
    assert "![privacy](csv-privacy.png)" in (out / "csv-privacy.md").read_text()
    data = json.loads((out / "csv-privacy.json").read_text())
    assert data["dataset"] == "digits.csv"
    assert [v["system"] for v in data["summary"]] == ["plain", "plain", "zkpot", "zkpot"]


def test_privacy_command_refuses_bad_input_in_one_sentence(tmp_path: Path) -> None:
    for args, words in (
        (["--data", "mnist"], "Cannot read the data spec"),
        (["--data", f"csv:{tmp_path / 'missing.csv'}"], "Cannot read CSV file"),
        (["--noise", "1,x"], "not a comma-separated list"),
        (["--noise", "0"], "not positive"),
        (["--participants", "40", "--max-samples", "100"], "too few"),
        (["--data", "idx:nothing.gz:nothing-labels.gz"], "Cannot read IDX file"),
        (["--name", "../escape"], "not a plain file stem"),
    ):
        result = CliRunner().invoke(privacy, [*args, "--out", str(tmp_path / "never")])
        assert result.exit_code == 1, (args, result.output)
        lines = result.output.strip().splitlines()
        assert lines[-1].startswith("error: ") and words in lines[-1]
    assert not (tmp_path / "never").exists()


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def test_privacy_command_reads_idx_data(tmp_path: Path) -> None:
    digits = load_digits()
    images, labels = tmp_path / "images.gz", tmp_path / "labels.gz"
    _write_idx(images, np.round(digits.X[:240] * 255).reshape(240, 8, 8))
    _write_idx(labels, digits.y[:240])
    out = tmp_path / "idx-out"
    result = CliRunner().invoke(privacy, [*TINY, "--repeats", "1", "--noise", "",
                                          "--data", f"idx:{images}:{labels}", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "privacy.json").read_text())
    assert data["dataset"] == "images.gz" and data["architecture"] == "mlp-64-32-10"
