"""``python -m fepflow.demo [--relative]``."""

import sys

from fepflow.demo import main

if __name__ == "__main__":  # not when a module walk imports it
    sys.exit(main())
