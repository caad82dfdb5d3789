"""The claim within limits every engine shares: a campaign's calls in flight, calls per second.

Per claim, in the engine's one write transaction:

1. lock the rows of the claim's limits (``rate_windows``: the campaign's, and its tenant's and
   trunk's when those have rates) with ``SELECT ... FOR UPDATE``, always in name order, so two
   claims sharing a row take turns and never deadlock;
   A claim stamped earlier than the newest claim in one of its windows (an engine's clock
   reading is taken at the start of its cycle) takes nothing and is made again: windows
   hold their claims in time order, which keeps "any one-second window" exact;
2. count the campaign's live leases (``in_flight`` rows whose lease has not run out: a killed
   engine's calls stop counting once their leases expire, before any engine recovers them).
   On PostgreSQL this is a statement of its own, after the lock: under READ COMMITTED each
   statement sees what committed before it began, so it sees every claim that held the lock
   before this one;
3. claim at most what the campaign's limit and every window leave (the ordinary claim);
4. write the windows back with this claim in them.

Claims of different campaigns, tenants and trunks share no row and run side by side; claims of
one campaign (or of one tenant or trunk with a rate) take turns for the length of a claim
transaction, a few milliseconds (docs/engine.md, Limits, says what that costs). On SQLite,
``BEGIN IMMEDIATE`` already admits one writer at a time, and the same statements apply.
"""

import json
from datetime import datetime

from dialer.domain.ids import CampaignId
from dialer.domain.limits import (
    Claimed,
    ClaimLimits,
    Entry,
    RateLimit,
    frees_at,
    live,
    room,
)
from dialer.storage.database import Connection
from dialer.storage.rows import from_us, to_us
from dialer.storage.sql_engine import EngineQueries, _marks


class LimitQueries(EngineQueries):
    _conn: Connection

    def claim_limited(
        self,
        campaign_id: CampaignId,
        now: datetime,
        limit: int,
        worker: str,
        lease_until: datetime,
        opened_at: datetime | None,
        limits: ClaimLimits,
    ) -> Claimed:
        """Take up to ``limit`` due destinations (as ``claim``), within ``limits``."""
        now_us = to_us(now)
        windows = self._lock_windows(limits.lock_names)
        newest = max((at for entries in windows.values() for at, _ in entries), default=now_us)
        if newest > now_us:
            # Another engine claimed under a later clock reading than this claim's (its cycle
            # read the clock before that claim committed). Windows take claims in time order
            # only: one stamped earlier than a claim already in could fill a window whose
            # older entries that claim has pruned. Claim again with the clock read anew.
            return Claimed([], from_us(newest))
        grant = limit
        paced: int | None = None
        kept: dict[str, list[Entry]] = {}
        for rate in limits.rates:
            entries = live(rate, windows.get(rate.name, []), now_us)
            kept[rate.name] = entries
            free = room(rate, entries)
            moment = frees_at(rate, entries)
            if free == 0 and moment is not None:
                # Every window must have room: the latest of those that have none decides.
                paced = moment if paced is None else max(paced, moment)
            grant = min(grant, free)
        on_line = self._conn.execute(
            "SELECT count(*) FROM in_flight WHERE campaign_id = %s AND lease_until >= %s",
            (campaign_id, now_us),
        )[0][0]
        capped = int(on_line) >= limits.in_flight
        grant = min(grant, limits.in_flight - int(on_line))
        if grant <= 0:
            return Claimed([], None if capped or paced is None else from_us(paced), capped)
        jobs = self.claim(campaign_id, now, grant, worker, lease_until, opened_at)
        if jobs:
            self._write_windows(limits.rates, kept, now_us, len(jobs))
        return Claimed(jobs)

    def _lock_windows(self, names: list[str]) -> dict[str, list[Entry]]:
        lock = " FOR UPDATE" if self._conn.dialect == "postgres" else ""
        select = (
            f"SELECT name, calls FROM rate_windows WHERE name IN ({_marks(names)})"
            f" ORDER BY name{lock}"
        )
        rows = self._conn.execute(select, names)
        if len(rows) < len(names):
            # First claim under a limit (or its row was swept): make the rows, then lock all
            # again in order. A row another claim inserts meanwhile is kept (DO NOTHING).
            self._conn.execute_many(
                "INSERT INTO rate_windows (name, calls, expires_at) VALUES (%s, '[]', 0)"
                " ON CONFLICT (name) DO NOTHING",
                [(name,) for name in names],
            )
            rows = self._conn.execute(select, names)
        return {name: [(int(at), int(n)) for at, n in json.loads(calls)] for name, calls in rows}

    def _write_windows(
        self, rates: tuple[RateLimit, ...], kept: dict[str, list[Entry]], now_us: int, taken: int
    ) -> None:
        rows = []
        for rate in rates:
            entries = [*kept[rate.name], (now_us, taken)]
            expires = max(at for at, _ in entries) + rate.window_us
            rows.append((json.dumps(entries, separators=(",", ":")), expires, rate.name))
        if rows:
            self._conn.execute_many(
                "UPDATE rate_windows SET calls = %s, expires_at = %s WHERE name = %s", rows
            )

    def forget_spent_windows(self, now: datetime) -> int:
        """Drop the windows no claim is in any more (a campaign, tenant or trunk that stopped
        dialling), so the table holds only the limits in use. A claim holding a row's lock
        writes a later expiry, which the delete then sees and keeps."""
        lock = " FOR UPDATE SKIP LOCKED" if self._conn.dialect == "postgres" else ""
        rows = self._conn.execute(
            f"SELECT name FROM rate_windows WHERE expires_at < %s{lock}", (to_us(now),)
        )
        names = [row[0] for row in rows]
        if names:
            self._conn.execute(f"DELETE FROM rate_windows WHERE name IN ({_marks(names)})", names)
        return len(names)
