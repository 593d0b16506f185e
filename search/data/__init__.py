"""Data loading and splitting for the experiments."""

from search.data._arrays import (
    VALIDATION_SPLIT,
    ArrayData,
    array_splits,
    class_names,
    load_arrays,
    missing_arrays,
    refuse_streams,
    save_arrays,
)
from search.data._clothing import DEFAULT_DIR as CLOTHING_DIR
from search.data._clothing import check_clothing_dir, load_clothing
from search.data._dataset import Splits
from search.data._fashion import CLASS_NAMES, load_fashion, locate, read_folder
from search.data._folders import (
    DataWarning,
    ImageFolders,
    SkippedImagesWarning,
    UncachedImagesWarning,
    load_image_folders,
    scan,
)
from search.data._idx import read_idx
from search.data._images import load_images
from search.data._inputs import Inputs, form_words, join, parts, row_shape, row_shapes, rows, single, take
from search.data._pixels import IMAGE_MODES, PILLOW_MODULES, deep_gray, is_deep_gray, upright
from search.data._split import DEFAULT_VAL_SIZE, split_off, stratified_indices

__all__ = [
    "CLASS_NAMES",
    "CLOTHING_DIR",
    "DEFAULT_VAL_SIZE",
    "IMAGE_MODES",
    "PILLOW_MODULES",
    "VALIDATION_SPLIT",
    "ArrayData",
    "DataWarning",
    "ImageFolders",
    "Inputs",
    "SkippedImagesWarning",
    "Splits",
    "UncachedImagesWarning",
    "array_splits",
    "check_clothing_dir",
    "class_names",
    "deep_gray",
    "form_words",
    "is_deep_gray",
    "join",
    "load_arrays",
    "load_clothing",
    "load_fashion",
    "load_image_folders",
    "load_images",
    "locate",
    "missing_arrays",
    "parts",
    "read_folder",
    "read_idx",
    "refuse_streams",
    "row_shape",
    "row_shapes",
    "rows",
    "save_arrays",
    "scan",
    "single",
    "split_off",
    "stratified_indices",
    "take",
    "upright",
]
