"""``python -m search``."""

import signal
import sys

try:
    from search.cli import command
except KeyboardInterrupt:  # Ctrl-C before the command line is even read
    sys.stderr.write("interrupted\n")
    sys.exit(128 + signal.SIGINT)

command()
