"""The memory store's claim within the limits every engine shares, as storage/sql_limits.py.

One writer at a time holds the whole store, so the rows need no lock; the arithmetic is the
domain's (dialer.domain.limits), and the rules are the SQL store's: the campaign's live leases
count, a claim stamped before the newest claim in one of its windows takes nothing, and a
claim that takes calls writes them into each window.
"""

from datetime import datetime

from dialer.domain.ids import CampaignId
from dialer.domain.limits import Claimed, ClaimLimits, Entry, frees_at, live, room
from dialer.storage.memory.queue import QueueParts
from dialer.storage.memory.tables import from_us, to_us


class LimitParts(QueueParts):
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
        now_us = to_us(now)
        windows = {name: list(self._t.windows.get(name, ((), 0))[0]) for name in limits.lock_names}
        newest = max((at for entries in windows.values() for at, _ in entries), default=now_us)
        if newest > now_us:
            return Claimed([], from_us(newest))
        grant = limit
        paced: int | None = None
        kept: dict[str, list[Entry]] = {}
        for rate in limits.rates:
            entries = live(rate, windows[rate.name], now_us)
            kept[rate.name] = entries
            moment = frees_at(rate, entries)
            if room(rate, entries) == 0 and moment is not None:
                paced = moment if paced is None else max(paced, moment)
            grant = min(grant, room(rate, entries))
        on_line = sum(
            1
            for lease in self._t.leases.values()
            if lease.campaign_id == campaign_id and lease.lease_until >= now_us
        )
        capped = on_line >= limits.in_flight
        grant = min(grant, limits.in_flight - on_line)
        if grant <= 0:
            return Claimed([], None if capped or paced is None else from_us(paced), capped)
        jobs = self.claim(campaign_id, now, grant, worker, lease_until, opened_at)
        if jobs:
            table = self._w("windows")
            for rate in limits.rates:
                entries = [*kept[rate.name], (now_us, len(jobs))]
                table[rate.name] = (tuple(entries), max(at for at, _ in entries) + rate.window_us)
        return Claimed(jobs)

    def forget_spent_windows(self, now: datetime) -> int:
        now_us = to_us(now)
        spent = [name for name, (_, expires) in self._t.windows.items() if expires < now_us]
        if spent:
            table = self._w("windows")
            for name in spent:
                del table[name]
        return len(spent)
