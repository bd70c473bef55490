"""`python -m alexnet_kfp` runs the CLI (the same as the `alexnet-kfp` console script)."""

import sys

from alexnet_kfp.cli import main

sys.exit(main())
