"""The doorbell across processes on PostgreSQL (the services' Doorbell port): a ring wakes this
process's delivery workers at once, as the in-process doorbell does, and every other process's
(`onceonly worker`, the other server workers) through LISTEN/NOTIFY. Still only a hint: a
notification lost with a listener's connection costs that worker its poll interval, no more;
the listener connects again by itself.

The channel is named after the connection's schema, so exchanges sharing one database (the
tests' schemas) do not wake each other's workers."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from typing import Any

import psycopg
import structlog
from psycopg import sql
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from onceonly.adapters.doorbell import InProcessDoorbell
from onceonly.services.ports.delivery import Opened

log = structlog.get_logger("onceonly.delivery")

# The same expression on the ringing and the listening connection: the same schema, one channel.
CHANNEL = "left('onceonly_deliveries_' || coalesce(current_schema(), ''), 63)"
LISTENER_NAME = "onceonly doorbell"  # its application_name, as pg_stat_activity shows it


class PostgresDoorbell:
    def __init__(self, engine: Engine, *, reconnect_seconds: float = 1.0) -> None:
        self._engine = engine
        self._local = InProcessDoorbell()
        # Carried by this doorbell's notifications: its own listeners were rung in-process.
        self._token = uuid.uuid4().hex
        self._conninfo = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False)
        self.reconnect_seconds = reconnect_seconds

    def ring(self) -> None:
        self._local.ring()
        try:
            with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f"SELECT pg_notify({CHANNEL}, :token)"),
                             {"token": self._token})
        except SQLAlchemyError as error:  # the report is committed: polling will find it
            log.warning("doorbell not rung in other processes", error=str(error))

    def has_worker(self) -> bool:
        return self._local.has_worker()

    def hand_over(self, batch: Sequence[Opened]) -> bool:
        return self._local.hand_over(batch)  # this process's workers only

    def listen(self) -> NotifiedListener:
        ear = self._local.listen()
        return NotifiedListener(ear, asyncio.get_running_loop().create_task(self._hear(ear)))

    async def _hear(self, ear: Any) -> None:
        """Ring `ear` on each other process's notification, until cancelled; connect again
        after `reconnect_seconds` when the connection is lost (polling covers the gap)."""
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                        self._conninfo, autocommit=True,
                        application_name=LISTENER_NAME) as conn:
                    channel = (await (await conn.execute(f"SELECT {CHANNEL}")).fetchone())[0]
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    ear.rung()  # whatever was queued while nobody listened is claimed now
                    async for notification in conn.notifies():
                        if notification.payload != self._token:
                            ear.rung()
            except psycopg.Error as lost:
                log.warning("doorbell listener disconnected; polling until it is back",
                            error=str(lost), retry_seconds=self.reconnect_seconds)
            await asyncio.sleep(self.reconnect_seconds)


class NotifiedListener:
    """A worker's ear for both kinds of ring: its process's and the database's."""

    def __init__(self, ear: Any, hearing: asyncio.Task[None]) -> None:
        self._ear = ear
        self._hearing = hearing

    async def wait(self, seconds: float) -> bool:
        return bool(await self._ear.wait(seconds))

    def handed(self) -> list[Opened]:
        return list(self._ear.handed())

    def close(self) -> None:
        self._ear.close()
        with contextlib.suppress(RuntimeError):  # its loop has closed: the task went with it
            self._hearing.cancel()
