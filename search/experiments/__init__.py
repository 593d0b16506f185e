"""The experiments ``python -m search run`` knows by name."""

from search.experiments import (
    _clothing,  # noqa: F401  (registers "clothing")
    _fashion,  # noqa: F401  (registers "fashion")
    _images,  # noqa: F401  (registers "images")
)
from search.experiments._reference import (
    Reference,
    absolute_reference,
    reference_of,
    refuse_search_on_import,
    resolve,
)
from search.experiments._registry import (
    DataOptions,
    Experiment,
    ModelOptions,
    folder_name,
    from_run,
    get,
    models,
    names,
    register,
    registered_as,
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

__all__ = [
    "KERAS_BATCH_SIZE",
    "DataOptions",
    "Experiment",
    "ModelOptions",
    "Reference",
    "UserHyperModel",
    "absolute_reference",
    "describe",
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
    "registered_as",
    "resolve",
    "user_experiment",
]
