"""Delivery worker: at-least-once POST of each stored message to each subscriber's inbox.

State lives in the `deliveries` table, so a restarted hub carries on where it stopped. Each
round claims due rows with FOR UPDATE SKIP LOCKED (several workers / replicas never take the
same row), POSTs them concurrently while holding the claim, then records the outcome and a log
row in the same transaction. A hub killed mid-POST rolls back: the row is due again and is
re-sent — the receiver's `consume_once` makes that harmless.
Retry: exponential backoff with jitter, bounded attempts, then dead-letter (status 'dead').
A 4xx other than 408/429 is a permanent refusal and dead-letters at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random

import httpx

from municloud.platform.client import delivery_headers
from services.platform_hub import message_log
from services.platform_hub.http11 import Http11Pool, HttpError

log = logging.getLogger(__name__)

CLAIM = """
SELECT d.id, d.message_id, d.subscriber_lgcode, d.subscriber_unit, d.attempts, m.body
FROM deliveries d JOIN messages m USING (message_id)
WHERE d.status = 'pending' AND d.next_attempt_at <= now()
ORDER BY d.next_attempt_at
LIMIT $1
FOR UPDATE OF d SKIP LOCKED
"""


def backoff_delay(attempts: int, base: float, cap: float, rng: random.Random = random) -> float:
    """Seconds before the next try after `attempts` failures: half fixed, half random ("equal jitter")."""
    ceiling = min(cap, base * 2 ** max(0, attempts - 1))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def classify(status_code: int | None) -> str:
    """'delivered', 'retry' or 'refused' for an HTTP status (None = no answer)."""
    if status_code is None:
        return "retry"
    if 200 <= status_code < 300:
        return "delivered"
    if 400 <= status_code < 500 and status_code not in (408, 429):
        return "refused"
    return "retry"


class DeliveryWorker:
    def __init__(self, pool, settings, http: httpx.AsyncClient) -> None:
        self.pool = pool
        self.settings = settings
        self.http = http
        self.overrides = settings.inbox_urls()
        self.lean = Http11Pool(settings.delivery_connections)  # plain http inboxes; https goes via httpx
        self.wake = asyncio.Event()

    async def run_forever(self) -> None:
        workers = [asyncio.create_task(self._loop(i), name=f"delivery-{i}") for i in range(self.settings.delivery_workers)]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()

    async def _loop(self, index: int) -> None:
        while True:
            # Clear before the round, so a wake-up that arrives during it is not lost.
            self.wake.clear()
            try:
                handled = await self.deliver_round()
            except asyncio.CancelledError:
                raise
            except Exception:  # DB restart, network blip: log and keep going
                log.exception("delivery round failed")
                handled = 0
                await asyncio.sleep(self.settings.delivery_poll_s)
            if handled == 0:
                try:
                    await asyncio.wait_for(self.wake.wait(), self.settings.delivery_poll_s)
                except asyncio.TimeoutError:
                    pass

    async def deliver_round(self) -> int:
        """Claim up to one batch of due deliveries, send them, record outcomes. Returns the count."""
        s = self.settings
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                rows = await conn.fetch(CLAIM, s.delivery_batch)
                if not rows:
                    return 0
                results = await asyncio.gather(*(self._post(row) for row in rows))
                await self._record(conn, rows, results)
        return len(rows)

    async def _post(self, row) -> tuple[int | None, str | None]:
        url = self.settings.inbox_url(row["subscriber_lgcode"], row["subscriber_unit"], self.overrides)
        body = bytes(row["body"])
        headers = delivery_headers(row["attempts"] + 1)
        timeout = self.settings.delivery_timeout_s
        if url.startswith("http://"):
            try:
                status = await self.lean.post(url, body, headers, timeout)
            except (HttpError, asyncio.TimeoutError) as exc:
                return None, type(exc).__name__
            return status, None if 200 <= status < 300 else f"HTTP {status}"
        try:
            response = await self.http.post(url, content=body, headers=headers, timeout=timeout)
        except httpx.HTTPError as exc:
            return None, type(exc).__name__
        return response.status_code, None if response.is_success else f"HTTP {response.status_code}"

    async def _record(self, conn, rows, results) -> None:
        """Outcomes of one claimed batch: row updates and log rows, in the claim's transaction."""
        s = self.settings
        now = dt.datetime.now(dt.timezone.utc)
        delivered, dead, retry, entries = [], [], [], []
        for row, (status_code, error) in zip(rows, results):
            attempts = row["attempts"] + 1
            outcome = classify(status_code)
            if outcome == "refused" or (outcome == "retry" and attempts >= s.delivery_max_attempts):
                outcome = "dead"
            if outcome == "delivered":
                delivered.append((row["id"], attempts))
            elif outcome == "dead":
                dead.append((row["id"], attempts, error))
                log.warning("dead-lettered message %s for %s@%s after %d attempt(s): %s", row["message_id"],
                            row["subscriber_unit"], row["subscriber_lgcode"], attempts, error)
            else:
                delay = backoff_delay(attempts, s.delivery_backoff_base_s, s.delivery_backoff_max_s)
                retry.append((row["id"], attempts, error, now + dt.timedelta(seconds=delay)))
            entries.append((f"delivery-{outcome}", row["message_id"], {
                "to": f"{row['subscriber_unit']}@{row['subscriber_lgcode']}", "attempt": attempts,
                "status": status_code, "error": error,
            }))
        if delivered:
            await conn.executemany(
                "UPDATE deliveries SET status='delivered', attempts=$2, delivered_at=now(), last_error=NULL"
                " WHERE id=$1", delivered)
        if dead:
            await conn.executemany("UPDATE deliveries SET status='dead', attempts=$2, last_error=$3 WHERE id=$1", dead)
        if retry:
            await conn.executemany(
                "UPDATE deliveries SET attempts=$2, last_error=$3, next_attempt_at=$4 WHERE id=$1", retry)
        await message_log.append_many(conn, entries)
