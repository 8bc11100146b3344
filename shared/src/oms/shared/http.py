"""The HTTP side of every service: liveness, readiness with its checks, Prometheus metrics, and API routes."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated, Any

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from oms.shared.logging import get_logger

log = get_logger(__name__)

Check = Callable[[], Awaitable[bool]]


class Readiness:
    """Named checks; the service is ready when it has started and every check passes."""

    def __init__(self) -> None:
        self.started = False
        self._checks: dict[str, Check] = {}

    def add(self, name: str, check: Check) -> None:
        self._checks[name] = check

    async def report(self) -> dict[str, bool]:
        results = {"started": self.started}
        # A snapshot: start-up adds checks while a probe may be iterating them across awaits.
        for name, check in list(self._checks.items()):
            try:
                results[name] = await asyncio.wait_for(check(), timeout=3)
            except (Exception, asyncio.CancelledError) as error:  # noqa: BLE001 -- a failing check is "not ready"
                # A check that fails, times out or is cancelled means "not ready", never a 500.
                log.info("readiness check failed", check=name, error=repr(error))
                results[name] = False
        return results


def create_app(service: str, readiness: Readiness, routers: list[APIRouter] | None = None) -> FastAPI:
    app = FastAPI(title=f"OMS {service} service", docs_url="/docs", redoc_url=None)

    @app.get("/livez", tags=["health"])
    async def livez() -> dict[str, str]:
        """The process runs its event loop."""
        return {"status": "alive", "service": service}

    @app.get("/readyz", tags=["health"])
    async def readyz() -> JSONResponse:
        """Connected to Kafka and PostgreSQL, migrations applied, consumers running."""
        checks = await readiness.report()
        ready = all(checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["health"])
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in routers or []:
        app.include_router(router)
    return app


def bearer_auth(tokens: list[str]) -> Callable[..., None]:
    """A dependency that admits a request only with one of these bearer tokens (none: nobody)."""
    accepted = [token.encode() for token in tokens]

    def authenticated(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
        offered = credentials.credentials.encode() if credentials else b""
        if not any(hmac.compare_digest(offered, token) for token in accepted):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a valid bearer token is required")

    return authenticated


_bearer = HTTPBearer(auto_error=False)


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the service runtime owns SIGTERM and stops it in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpServer:
    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self._socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))  # bound here so port 0 is known before serving
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
        self._server = _QuietServer(config)
        self._task: asyncio.Task[Any] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]), name="http")

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
