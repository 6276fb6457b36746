"""A separate process that contends for `deploy:<code>`: `python lock_contender.py URL HOME CODE START_AT HOLD_S`.

Sleeps until the wall-clock time START_AT, tries the lock once, prints one JSON line, holds it HOLD_S seconds.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from dive.orchestration.errors import LockHeldError
from dive.orchestration.locks import acquire_deploy_lock
from dive.store import create_engine_for


def main(url: str, home: str, code: str, start_at: str, hold_s: str) -> None:
    engine = create_engine_for(url)
    time.sleep(max(0.0, float(start_at) - time.time()))
    try:
        lock = acquire_deploy_lock(engine, Path(home), code, run_id="20250101T000000Z-abcdef", command="contender")
    except LockHeldError as exc:
        print(json.dumps({"won": False, "code": exc.code, "exit_code": exc.exit_code, "detail": exc.detail}))
        return
    print(json.dumps({"won": True}), flush=True)
    with lock:
        time.sleep(float(hold_s))


if __name__ == "__main__":
    main(*sys.argv[1:])
