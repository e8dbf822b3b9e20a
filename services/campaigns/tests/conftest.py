import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from campaigns_fixtures import client, runtime, uows  # noqa: E402,F401  (fixtures for every test module)
