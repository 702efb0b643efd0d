import sys
from pathlib import Path

# Test helper modules (rulebook.py) live beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_addoption(parser):
    parser.addoption(
        "--update-expected",
        action="store_true",
        help="rewrite checks/*/fixtures/*.expected from what the plugin reports now (review the diff!)",
    )
