"""Imported first by every benchmark that loads Keras: TensorFlow's start-up lines and the
libraries' housekeeping warnings stay out of the figures, as in ``python -m search``.

An import for its effect: it must come before ``keras``, ``search``'s engine or
``hypermodels`` (the lines are kept back while TensorFlow loads, shown only if it fails).
"""

from search.cli._imports import guard_heavy_imports
from search.quiet import quiet_libraries

quiet_libraries()
guard_heavy_imports(quiet=True)
