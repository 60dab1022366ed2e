"""``python -m tests.timed_server run``: the real server, with the test-only timer kind
registered, for tests that kill a server process with SIGKILL."""

from __future__ import annotations

import sys

from server.cli import main
from server.domain.deadlines import TIMED_KINDS
from tests.timers import REMINDERS

if __name__ == "__main__":
    TIMED_KINDS.append(REMINDERS)
    sys.exit(main())
