"""``python -m fepflow.demo [--relative]``."""

import sys

from fepflow.demo import main

sys.exit(main())
