"""Optuna storages under several processes on one machine: journal file vs SQLite.

Run: ``python bench/storage.py [--workers 4] [--trials 50]``. Each worker process asks and
tells ``--trials`` trials on one shared study; the script prints, per storage, the wall
time, ask/tell pairs per second, errors, and whether the study holds exactly
workers x trials finished trials with unique numbers.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import tempfile
import time
from pathlib import Path

import optuna


def _storage(kind: str, folder: Path) -> optuna.storages.BaseStorage:
    if kind == "journal":
        from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

        path = str(folder / "study.journal")
        return optuna.storages.JournalStorage(
            JournalFileBackend(path, lock_obj=JournalFileOpenLock(path))
        )
    return optuna.storages.RDBStorage(f"sqlite:///{folder / 'study.db'}")


def _worker(kind: str, folder: str, trials: int, errors: mp.Queue) -> None:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    failures = 0
    study = None
    for _ in range(5):
        try:
            study = optuna.load_study(study_name="bench", storage=_storage(kind, Path(folder)))
            break
        except Exception:
            failures += 1
            time.sleep(0.2)
    if study is None:
        errors.put(failures)
        return
    dist = {"x": optuna.distributions.FloatDistribution(0, 1)}
    for _ in range(trials):
        try:
            trial = study.ask(dist)
            study.tell(trial, trial.params["x"] ** 2)
        except Exception:
            failures += 1
    errors.put(failures)


def measure(kind: str, workers: int, trials: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        optuna.create_study(study_name="bench", storage=_storage(kind, Path(tmp)))
        errors: mp.Queue = mp.Queue()
        procs = [mp.Process(target=_worker, args=(kind, tmp, trials, errors))
                 for _ in range(workers)]  # fmt: skip
        start = time.perf_counter()
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        seconds = time.perf_counter() - start
        failures = sum(errors.get() for _ in procs)
        study = optuna.load_study(study_name="bench", storage=_storage(kind, Path(tmp)))
        done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        numbers = [t.number for t in study.trials]
        exact = len(done) == workers * trials and len(set(numbers)) == len(numbers)
        return (f"{kind:>7}: {workers} processes x {trials} ask/tell in {seconds:5.1f} s ="
                f" {workers * trials / seconds:6.1f}/s, {failures} errors,"
                f" {len(done)} complete trials, exact and unique: {exact}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--trials", type=int, default=50)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    for kind in ("journal", "sqlite"):
        print(measure(kind, args.workers, args.trials))


if __name__ == "__main__":
    main()
