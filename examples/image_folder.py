"""Search a CNN (or a pretrained base) on any folder of images, one sub-folder per class.

    python examples/image_folder.py FOLDER [--model transfer]
    python examples/image_folder.py FOLDER --smoke      # as the tests run it

FOLDER holds ``CLASS/*.jpg`` (split here: 70% train, 15% validation, 15% test, per class,
seeded), or ``train/``, ``validation/`` and ``test/`` folders of such class folders. The
same search as ``python -m search run images --data-dir FOLDER``.
"""

from __future__ import annotations

import argparse

import search


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="the image folder")
    parser.add_argument("--model", default="cnn", choices=["cnn", "transfer"])
    parser.add_argument("--smoke", action="store_true", help="a tiny budget (for tests)")
    parser.add_argument("--results", default="results")
    args = parser.parse_args()
    run = search.run(
        "images", data_dir=args.folder, tuner="hyperband", results=args.results,
        max_epochs=1 if args.smoke else 6, max_trials=1 if args.smoke else None,
        image_size=32 if args.smoke else None, retrain_max_epochs=1 if args.smoke else 20,
        # Without internet, start a pretrained base from random weights (or pass a file).
        weights="none" if args.model == "transfer" and args.smoke else None,
        fix={"base": "mobilenet_v2"} if args.model == "transfer" and args.smoke else None,
        model=args.model,
    )  # fmt: skip
    print("chosen:", run.best_hyperparameters)
    print("test:", run.test_metrics)


if __name__ == "__main__":
    main()
