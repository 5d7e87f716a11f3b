"""The embedded default: the hub in the desk's process, on its own thread and loop.

Same code path as a shared hub (a websocket on 127.0.0.1); the desk connects to it
like to any other. Its own loop keeps database work away from the desk's UI loop.
"""

from __future__ import annotations

import asyncio
import threading

from app.config.settings import HubSettings
from app.hub.server import RoomDemo
from app.room import Hub


class EmbeddedHub:
    def __init__(
        self,
        db_url: str,
        *,
        demo: RoomDemo | None = None,
        port: int = 0,
        settings: HubSettings | None = None,
    ):
        self.hub = Hub(db_url, "127.0.0.1", port, demo=demo, settings=settings)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="embedded-hub", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self, timeout: float = 60.0) -> str:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("le hub embarqué n'a pas démarré à temps")
        if self._error is not None:
            raise RuntimeError(
                f"le hub embarqué n'a pas pu démarrer : {self._error}"
            ) from self._error
        return self.hub.url

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.hub.start())
        except BaseException as exc:  # reported to start()'s caller
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        # Let cancelled connection handlers finish before the loop goes away.
        pending = [t for t in asyncio.all_tasks(self._loop) if not t.done()]
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        self._loop.close()

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self.hub.stop(), self._loop)
        try:
            future.result(timeout=20)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
