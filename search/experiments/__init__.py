"""The experiments ``python -m search run`` knows by name."""

from search.experiments import (
    _clothing,  # noqa: F401  (registers "clothing")
    _fashion,  # noqa: F401  (registers "fashion")
    _images,  # noqa: F401  (registers "images")
)
from search.experiments._reference import (
    Reference,
    absolute_reference,
    code_of,
    edited_files,
    reference_of,
    refuse_search_on_import,
    resolve,
)
from search.experiments._registry import (
    DataOptions,
    Experiment,
    ModelOptions,
    built_in_as,
    folder_name,
    from_run,
    get,
    models,
    names,
    register,
    seal_built_ins,
    user_experiment,
)
from search.experiments._user import (
    KERAS_BATCH_SIZE,
    UserHyperModel,
    describe,
    has_own_fit,
    is_hypermodel,
    own_objects,
)

seal_built_ins()  # what register() adds after this lives in the caller's process only

__all__ = [
    "KERAS_BATCH_SIZE",
    "DataOptions",
    "Experiment",
    "ModelOptions",
    "Reference",
    "UserHyperModel",
    "absolute_reference",
    "built_in_as",
    "code_of",
    "describe",
    "edited_files",
    "folder_name",
    "from_run",
    "get",
    "has_own_fit",
    "is_hypermodel",
    "models",
    "names",
    "own_objects",
    "reference_of",
    "refuse_search_on_import",
    "register",
    "resolve",
    "user_experiment",
]
