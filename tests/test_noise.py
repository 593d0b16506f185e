"""Nothing printed but progress and results: no library tracebacks, logs or warnings."""

from __future__ import annotations

import json
from pathlib import Path

from search.cli import main


def test_exception_lines_lose_their_module_path() -> None:
    from search.engine import failure_reason

    trace = "Traceback (most recent call last):\n  File x\n"
    own = trace + "hypermodels._loop.NonFiniteLossError: loss became nan in epoch 1"
    assert failure_reason(own) == "loss became nan in epoch 1"
    library = trace + "tensorflow.python.framework.errors_impl.InvalidArgumentError: bad input"
    assert failure_reason(library) == "InvalidArgumentError: bad input"
    assert failure_reason(trace + "ValueError: bad shape (3, 4)") == "ValueError: bad shape (3, 4)"


def nan_space(tmp_path: Path) -> Path:
    """A space whose baseline (learning rate 1e9) diverges and whose other value trains."""
    space = tmp_path / "space.toml"
    space.write_text(
        '[learning_rate]\ntype = "choice"\nvalues = [1e9, 1e-3]\ndefault = 1e9\n'
        '[batch_norm]\ntype = "fixed"\nvalue = false\n'
    )
    return space


def test_failed_trial_prints_one_readable_line(
    tmp_path: Path, synthetic_fashion: Path, capsys
) -> None:
    code = main([
        "run", "fashion", "--tuner", "random", "--train-size", "200", "--val-size", "100",
        "--max-trials", "2", "--max-epochs", "1", "--no-retrain", "--space", str(nan_space(tmp_path)),
        "--data-dir", str(synthetic_fashion), "--results", str(tmp_path), "--name", "nan",
    ])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.err and "Traceback" not in captured.out
    trials = json.loads((tmp_path / "fashion" / "nan" / "trials.json").read_text())["trials"]
    failed = [t for t in trials if t["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["failure"].startswith("loss became nan")
    assert f"({failed[0]['failure']})" in captured.out
    assert "NonFiniteLossError" not in captured.out and "hypermodels." not in captured.out
