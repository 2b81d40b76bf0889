"""The driver's fixtures live in csi_testkit (a uniquely named module the tests import too);
pytest's ``--import-mode=importlib`` puts no test directory on ``sys.path``, so this one goes there."""

import sys
from pathlib import Path

if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from csi_testkit import csi

__all__ = ["csi"]
