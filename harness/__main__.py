"""``python -m harness`` is the ``handle-compat`` command."""

import sys

from harness.present.cli import main

sys.exit(main())
