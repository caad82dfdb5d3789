"""The dial queue and its leases in memory: storage/sql_engine.py's claim, recovery and
recording, with the same rules.

A destination is taken once: claiming moves it from the ready queue to a lease in the same
transaction, and the store admits one writer at a time (as SQLite's BEGIN IMMEDIATE), so two
engines never claim the same row.
"""

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime

from dialer.domain.attempt import DialJob, FinishedAttempt
from dialer.domain.campaign import DialingContext
from dialer.domain.ids import CallFlowId, CampaignId, CliId, DestinationId
from dialer.domain.result_row import webhook_body
from dialer.storage.memory.base import refers, unique
from dialer.storage.memory.sms import SmsParts
from dialer.storage.memory.tables import (
    AttemptRow,
    DestinationRow,
    LeaseRow,
    OutboxRow,
    ReadyRow,
    from_us,
    opt_us,
    to_us,
)


def _job(d: DestinationRow, attempt: int, queued: int) -> DialJob:
    return DialJob(
        d.id,
        d.campaign_id,
        attempt,
        d.raw,
        d.e164,
        d.name,
        d.parameters,
        d.caller_id,
        d.custom_data,
        d.ignore_dnc,
        d.priority,
        from_us(queued),
        d.callback_agent_id,
    )


class QueueParts(SmsParts):  # it queues texts with the attempts
    def dialing_contexts(self) -> list[DialingContext]:
        """Every campaign with destinations waiting or held, with its tenant's rules."""
        busy = {r.campaign_id for r in self._t.ready.values()}
        busy.update(r.campaign_id for r in self._t.leases.values())
        contexts = []
        for campaign_id in sorted(busy):
            campaign = self._t.campaigns.get(campaign_id)
            tenant = None if campaign is None else self._t.tenants.get(campaign.tenant_id)
            if campaign is None or tenant is None:
                continue
            queue_name = None
            if campaign.strategy is not None:
                queue = self._t.queues.get(campaign.strategy.queue_id)
                if queue is not None and queue.tenant_id == campaign.tenant_id:
                    queue_name = queue.text
            contexts.append(
                DialingContext(
                    campaign,
                    tenant.timezone,
                    tenant.region,
                    f"{tenant.hours_start}-{tenant.hours_end}",
                    queue_name,
                    tenant.compliance,
                )
            )
        return contexts

    def next_due(self, campaign_id: CampaignId) -> datetime | None:
        due = [r.due_at for r in self._t.ready.values() if r.campaign_id == campaign_id]
        return from_us(min(due)) if due else None

    def dialling_identity(self, campaign_id: CampaignId) -> tuple[CallFlowId, CliId] | None:
        campaign = self._t.campaigns.get(campaign_id)
        return None if campaign is None else (campaign.spec.callflow_id, campaign.spec.cli_id)

    def claim(
        self,
        campaign_id: CampaignId,
        now: datetime,
        limit: int,
        worker: str,
        lease_until: datetime,
        opened_at: datetime | None = None,
    ) -> list[DialJob]:
        """Up to ``limit`` due destinations in dial order, leased to ``worker``; each job's
        ``queued_at`` is the latest of when it was added, its due time and ``opened_at``."""
        stamp = to_us(now)
        opened = 0 if opened_at is None else to_us(opened_at)
        due = [
            (-r.priority, destination_id, max(r.due_at, opened))
            for destination_id, r in self._t.ready.items()
            if r.campaign_id == campaign_id and r.due_at <= stamp
        ]
        due.sort()
        return self._take([(i, at) for _, i, at in due[: max(limit, 0)]], worker, lease_until)

    def claim_for_closing(
        self, campaign_id: CampaignId, limit: int, worker: str, lease_until: datetime
    ) -> list[DialJob]:
        """Take waiting destinations whatever their due time: the campaign's time is over."""
        waiting = sorted(
            (destination_id, r.due_at)
            for destination_id, r in self._t.ready.items()
            if r.campaign_id == campaign_id
        )
        return self._take(waiting[: max(limit, 0)], worker, lease_until)

    def _take(
        self, picked: list[tuple[DestinationId, int]], worker: str, lease_until: datetime
    ) -> list[DialJob]:
        """Dequeue ``picked`` (id, due) and lease those still pending to ``worker``."""
        if not picked:
            return []
        ready, destinations, leases = self._w("ready"), self._w("destinations"), self._w("leases")
        jobs = []
        for destination_id, due in picked:
            del ready[destination_id]
            d = destinations.get(destination_id)
            if d is None or d.state != "pending":
                continue
            destinations[destination_id] = dataclasses.replace(d, state="in_flight")
            jobs.append(_job(d, d.attempts_made + 1, max(due, d.created_at)))
        jobs.sort(key=lambda j: (-j.priority, j.destination_id))
        # Leases in dial order: the order take_expired breaks ties in.
        until = to_us(lease_until)
        for j in jobs:
            leases[j.destination_id] = LeaseRow(
                j.campaign_id, j.attempt_number, worker, until, to_us(j.queued_at)
            )
        return jobs

    def extend_leases(
        self, worker: str, lease_until: datetime, destination_ids: Sequence[DestinationId]
    ) -> int:
        """Renew the worker's leases on these destinations; how many it still held."""
        held = [
            i
            for i in dict.fromkeys(destination_ids)
            if (lease := self._t.leases.get(i)) is not None and lease.worker == worker
        ]
        if held:
            leases = self._w("leases")
            for i in held:
                leases[i] = dataclasses.replace(leases[i], lease_until=to_us(lease_until))
        return len(held)

    def take_expired(self, now: datetime, limit: int) -> list[DialJob]:
        """Leases that ran out (their worker died): removed, to be finished by the caller."""
        stamp = to_us(now)
        # Leases that run out at once go in destination order, as SQLite's index on
        # lease_until keeps them (in_flight is keyed by destination_id, WITHOUT ROWID).
        expired = sorted((lease.lease_until, i) for i, lease in self._t.leases.items())
        expired = [pair for pair in expired if pair[0] < stamp][: max(limit, 0)]
        if not expired:
            return []
        leases = self._w("leases")
        taken = {i: leases.pop(i) for _, i in expired}
        jobs = []
        for i in sorted(taken):
            d = self._t.destinations.get(i)
            if d is not None:
                jobs.append(_job(d, taken[i].attempt_number, taken[i].queued_at))
        return jobs

    def release(self, jobs: Sequence[tuple[DialJob, datetime]], worker: str) -> int:
        """Give claimed destinations back undialled, due again at the given times."""
        owned = {
            job.destination_id
            for job, _ in jobs
            if (lease := self._t.leases.get(job.destination_id)) is not None
            and lease.worker == worker
        }
        back = [(job, due) for job, due in jobs if job.destination_id in owned]
        if not back:
            return 0
        leases, destinations = self._w("leases"), self._w("destinations")
        ready = self._w("ready")
        for i in owned:
            del leases[i]
            d = destinations.get(i)
            if d is not None:
                destinations[i] = dataclasses.replace(d, state="pending")
        for job, due in back:
            ready[job.destination_id] = ReadyRow(job.campaign_id, job.priority, to_us(due))
        self._work_added()
        return len(back)

    def finish_attempts(
        self, finished: Sequence[FinishedAttempt], worker: str | None, now: datetime
    ) -> list[FinishedAttempt]:
        """Record attempts and what follows each; with ``worker``, only those it still holds,
        for the same attempt number (a lease another engine recovered is that engine's)."""
        if not finished:
            return []
        if worker is not None:
            pairs = {(f.record.destination_id, f.record.attempt_number) for f in finished}
            owned = {
                (i, lease.attempt_number)
                for i, lease in self._t.leases.items()
                if lease.worker == worker and (i, lease.attempt_number) in pairs
            }
            if owned:
                leases = self._w("leases")
                for i, _ in owned:
                    del leases[i]
            finished = [
                f for f in finished if (f.record.destination_id, f.record.attempt_number) in owned
            ]
            if not finished:
                return []
        attempts, destinations = self._w("attempts"), self._w("destinations")
        recorded = {(a.destination_id, a.attempt_number) for a in attempts.values()}
        ids: dict[tuple[int, int], int] = {}
        for f in finished:
            r = f.record
            key = (r.destination_id, r.attempt_number)
            unique(key in recorded, f"attempt {r.attempt_number} of {r.destination_id}")
            refers(r.destination_id in destinations, f"no destination {r.destination_id}")
            recorded.add(key)
            attempt_id = self._new_id("attempts")
            ids[key] = attempt_id
            attempts[attempt_id] = AttemptRow(
                attempt_id,
                r.destination_id,
                r.attempt_number,
                r.outcome,
                r.stage,
                to_us(r.queued_at),
                opt_us(r.originated_at),
                opt_us(r.answered_at),
                opt_us(r.ended_at),
                r.cause,
                r.keys,
                r.sms_sent,
                f.campaign_id,
                r.agent,
            )
            d = destinations.get(r.destination_id)
            if d is not None:
                destinations[r.destination_id] = dataclasses.replace(
                    d,
                    # The attempt number is attempts_made + 1 at the claim.
                    attempts_made=r.attempt_number - (0 if r.counted else 1),
                    last_outcome=r.outcome,
                    last_stage=r.stage,
                    state="done" if f.retry_at is None else "pending",
                )
                if r.agent is not None:
                    destinations[r.destination_id] = dataclasses.replace(
                        destinations[r.destination_id], callback_agent_id=f.callback_agent_id
                    )
        self._note_number_calls(finished, now)
        opt_outs = {(f.tenant_id, f.opt_out) for f in finished if f.opt_out is not None}
        if opt_outs:
            dnc = self._w("dnc")
            for tenant_id, number in sorted(opt_outs):
                dnc.setdefault((tenant_id, number), to_us(now))
        retries = [f for f in finished if f.retry_at is not None]
        if retries:
            ready = self._w("ready")
            for f in retries:
                assert f.retry_at is not None
                ready[f.record.destination_id] = ReadyRow(
                    f.campaign_id, f.priority, to_us(f.retry_at)
                )
            self._work_added()
        self._queue_texts(finished, now)
        # The one serializer the SQL store and the results API use (domain/result_row.py).
        hooks = [f for f in finished if f.webhook is not None and f.tenant_id in self._t.webhooks]
        if hooks:
            stamp = to_us(now)
            outbox = self._w("outbox")
            for f in hooks:
                attempt_id = ids[(f.record.destination_id, f.record.attempt_number)]
                row_id = self._new_id("outbox")
                payload = webhook_body(f, attempt_id)
                outbox[row_id] = OutboxRow(row_id, f.tenant_id, payload, 0, stamp, stamp)
        return list(finished)

    def set_calls_on_line(self, worker: str, calls: Mapping[CampaignId, int]) -> None:
        """Publish how many calls ``worker`` has on the line, for these campaigns."""
        if not calls:
            return
        lines = self._w("lines")
        for campaign_id, n in calls.items():
            if n > 0:
                lines[(worker, campaign_id)] = n
            else:
                lines.pop((worker, campaign_id), None)

    def forget_lost_lines(self) -> None:
        """Drop the lines of engines that hold no lease (dead, or stopped)."""
        holders = {lease.worker for lease in self._t.leases.values()}
        lost = [key for key in self._t.lines if key[0] not in holders]
        if lost:
            lines = self._w("lines")
            for key in lost:
                del lines[key]

    def calls_on_line(self, campaign_id: CampaignId) -> int:
        """Calls of the campaign on the line now, by the engines that still hold its leases."""
        holders = {
            lease.worker for lease in self._t.leases.values() if lease.campaign_id == campaign_id
        }
        return sum(
            n
            for (worker, cid), n in self._t.lines.items()
            if cid == campaign_id and worker in holders
        )

    def fold_counts(self, min_rows: int = 64) -> int:
        """Nothing to fold: counts are read from the destinations themselves."""
        return 0
