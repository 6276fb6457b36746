"""A minimal service built on the skeleton, run as a script by test_service_skeleton.py.

`python _skeleton_app.py --instance usa --port N` serves it as `pdp` through the same `run_service`
path as `dive serve`. Setting DIVE_SKELETON_NOT_READY=1 makes its readiness check fail.
"""

from __future__ import annotations

import argparse
import os

from fastapi import FastAPI

from dive.cli.serve import run_service
from dive.service import HttpError, ServiceSettings, create_service_app

VERSION = "0.0.0-skeleton"


def create_app(settings: ServiceSettings) -> FastAPI:
    not_ready = settings.environ.get("DIVE_SKELETON_NOT_READY") == "1"

    async def database() -> None:
        if not_ready:
            raise HttpError("database_unreachable", "the skeleton pretends its database is down", status=503)

    app = create_service_app(settings, title="skeleton", version=VERSION, readiness_checks={"database": database})

    @app.get("/echo/{word}")
    async def echo(word: str) -> dict[str, str]:
        return {"word": word}

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--instance", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    run_service(create_app, "pdp", args.instance, os.environ, port=args.port)
