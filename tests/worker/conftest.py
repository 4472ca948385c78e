"""Worker-test fixtures (the helpers live in tests/worker/support.py)."""

from tests.worker.support import deployment

__all__ = ["deployment"]
