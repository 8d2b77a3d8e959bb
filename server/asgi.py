"""The ASGI application built from the environment, for ``uvicorn --factory``
(``townhall serve --workers N`` starts each worker process from here)."""

from __future__ import annotations

from starlette.applications import Starlette

from server.app import create_app
from server.settings import Settings


def app() -> Starlette:
    return create_app(Settings())
