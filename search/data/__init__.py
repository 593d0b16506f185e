"""Data loading and splitting for the experiments."""

from search.data._dataset import Splits
from search.data._fashion import CLASS_NAMES, load_fashion, locate, read_folder
from search.data._idx import read_idx
from search.data._split import split_off, stratified_indices

__all__ = [
    "CLASS_NAMES",
    "Splits",
    "load_fashion",
    "locate",
    "read_folder",
    "read_idx",
    "split_off",
    "stratified_indices",
]
