import sys
from pathlib import Path

# The helpers beside this file (customers_fakes.py) import as top-level modules in both test folders.
sys.path.insert(0, str(Path(__file__).parent))
