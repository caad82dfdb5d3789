"""A tenant's call flows and caller IDs (CLIs): what campaigns refer to by id."""

import json
from collections.abc import Sequence
from typing import Literal, TypeVar

import yaml

from dialer.domain.agent import Agent, Queue
from dialer.domain.callflow import CallFlow, canonical_document, parse_callflow
from dialer.domain.errors import Conflict, NotFound, ValidationFailed
from dialer.domain.ivr import queue_transfers
from dialer.domain.tenant import CallerId, CallFlowRecord, Tenant
from dialer.ports import Clock
from dialer.ports.store import CatalogSession, UnitOfWork
from dialer.services.agent_desk_input import check_phone
from dialer.services.numbers import looks_like_number, to_e164

MAX_CALLFLOW_BYTES = 256 * 1024


# A version-2 flow nests about six deep (nodes.menu.gather.branches...); the YAML parser and
# the checks after it recurse once per level, and 50,000 levels ended in a RecursionError.
MAX_NESTING = 64
_OPENS = (
    yaml.BlockMappingStartToken,
    yaml.BlockSequenceStartToken,
    yaml.FlowMappingStartToken,
    yaml.FlowSequenceStartToken,
)
_CLOSES = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


def _nesting(text: str) -> int:
    """How deep the document nests, from the tokens (the scanner does not recurse); stops
    counting past the limit. A text that does not scan is left for the parser to report."""
    depth = deepest = 0
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, _OPENS):
                depth += 1
                deepest = max(deepest, depth)
                if deepest > MAX_NESTING:
                    break
            elif isinstance(token, _CLOSES):
                depth -= 1
    except yaml.YAMLError:
        pass
    return deepest


def load_callflow(text: str) -> tuple[CallFlow, dict[str, object]]:
    """Read a YAML or JSON call-flow document (JSON is YAML); raise every problem at once."""
    if len(text.encode()) > MAX_CALLFLOW_BYTES:
        raise ValidationFailed(
            {"$": [f"a call flow file may be at most {MAX_CALLFLOW_BYTES} bytes"]}
        )
    if _nesting(text) > MAX_NESTING:
        raise ValidationFailed(
            {"$": [f"nested more than {MAX_NESTING} levels deep; a call flow nests far less"]}
        )
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationFailed({"$": [f"not valid YAML or JSON: {exc}"]}) from exc
    flow, problems = parse_callflow(document)
    if flow is None:
        raise ValidationFailed(problems)
    assert isinstance(document, dict)
    return flow, document


def _check_queues(flow: CallFlow, known: set[str]) -> None:
    """A transfer to a queue the tenant does not have would be recorded as transferred while
    reaching nobody: refused, by the node that names it."""
    problems: dict[str, list[str]] = {}
    for path, name in queue_transfers(flow.graph):
        if name not in known:
            have = ", ".join(sorted(known)) if known else "none yet"
            problems[path] = [
                f"unknown queue {name!r}; create it first (dialer queue create) or name one of"
                f" this tenant's queues ({have})"
            ]
    if problems:
        raise ValidationFailed(problems)


EntryKind = Literal["callflow", "cli", "agent", "queue"]
_WHAT = {"callflow": "call flow", "cli": "caller ID", "agent": "agent", "queue": "queue"}
_HOW_TO_FREE = {
    "callflow": "point them at another call flow or delete them first",
    "cli": "point them at another caller ID or delete them first",
    "agent": "remove it from them (RemoveMembersFromCampaign) or delete them first",
    "queue": "give their strategy another queue or delete them first",
}


class CatalogEntries:
    """Read and delete one entry of a tenant's catalog. Another tenant's id is NotFound, like an
    id that does not exist; an entry a campaign or call flow uses is a Conflict naming them."""

    _store: UnitOfWork[CatalogSession]

    def callflow(self, tenant: Tenant, callflow_id: int) -> CallFlowRecord:
        with self._store.read() as session:
            return _found(
                session.catalog.get_callflow(tenant.id, callflow_id), "callflow", callflow_id
            )

    def cli(self, tenant: Tenant, cli_id: int) -> CallerId:
        with self._store.read() as session:
            return _found(session.catalog.get_cli(tenant.id, cli_id), "cli", cli_id)

    def agents(self, tenant: Tenant) -> list[Agent]:
        with self._store.read() as session:
            return session.agents.list_agents(tenant.id)

    def agent(self, tenant: Tenant, agent_id: int) -> Agent:
        with self._store.read() as session:
            return _found(session.agents.get_agent(tenant.id, agent_id), "agent", agent_id)

    def queues(self, tenant: Tenant) -> list[Queue]:
        with self._store.read() as session:
            return session.agents.list_queues(tenant.id)

    def queue(self, tenant: Tenant, queue_id: int) -> Queue:
        with self._store.read() as session:
            return _found(session.agents.get_queue(tenant.id, queue_id), "queue", queue_id)

    def delete(self, tenant: Tenant, what: EntryKind, entry_id: int) -> None:
        with self._store.write() as session:
            getter = {
                "callflow": session.catalog.get_callflow,
                "cli": session.catalog.get_cli,
                # Locked: a log-in opening a session meanwhile is seen, or waits for the delete.
                "agent": session.agents.lock_agent,
                "queue": session.agents.get_queue,
            }[what]
            entry = _found(getter(tenant.id, entry_id), what, entry_id)
            label = f"{_WHAT[what]} {entry_id}"
            if isinstance(entry, Agent) and session.agent_sessions.open_session_of(
                tenant.id, entry_id
            ):
                # Deleting it would take its session, and the call in hand, from under the
                # engine holding its phone, with no log-out and no report of the time.
                raise Conflict(
                    f"{label} is logged in; log it out first (POST /api/agents/me/logout)"
                )
            users = session.catalog.campaigns_using(tenant.id, what, entry_id)
            if users:
                named = ", ".join(
                    f"{campaign_id}" + (" (still dialling)" if dialling else "")
                    for campaign_id, dialling in users
                )
                raise Conflict(
                    f"{label} is used by campaign{'s' if len(users) > 1 else ''} {named};"
                    f" {_HOW_TO_FREE[what]}"
                )
            if isinstance(entry, Queue):
                flows = _flows_transferring_to(
                    session.catalog.callflow_definitions(tenant.id), entry.name
                )
                if flows:
                    raise Conflict(
                        f"{label} ({entry.name!r}) is where call flow"
                        f"{'s' if len(flows) > 1 else ''} {', '.join(map(str, flows))} transfer;"
                        " delete those call flows first"
                    )
            session.catalog.delete_catalog_entry(tenant.id, what, entry_id)


_T = TypeVar("_T")


def _found(entry: _T | None, what: EntryKind, entry_id: int) -> _T:
    if entry is None:
        raise NotFound(f"{_WHAT[what]} {entry_id}")
    return entry


def _flows_transferring_to(definitions: Sequence[tuple[int, str]], queue: str) -> list[int]:
    found = []
    for flow_id, definition in definitions:
        flow, _ = parse_callflow(json.loads(definition))
        if flow is not None and any(name == queue for _, name in queue_transfers(flow.graph)):
            found.append(flow_id)
    return found


class CatalogService(CatalogEntries):
    def __init__(self, store: UnitOfWork[CatalogSession], clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def add_callflow(self, tenant: Tenant, name: str, text: str) -> CallFlowRecord:
        if not name.strip() or len(name) > 200:
            raise ValidationFailed({"name": ["must be 1 to 200 characters"]})
        flow, document = load_callflow(text)
        # Stored as canonical JSON so readers never need a YAML parser (and with a version-2
        # start node made explicit, since sorting the keys loses which node came first).
        stored = canonical_document(document)
        definition = json.dumps(stored, ensure_ascii=False, sort_keys=True)
        with self._store.write() as session:
            known = {queue.name for queue in session.agents.list_queues(tenant.id)}
            _check_queues(flow, known)
            return session.catalog.add_callflow(tenant.id, name, definition, self._clock.now())

    def callflows(self, tenant: Tenant) -> list[CallFlowRecord]:
        with self._store.read() as session:
            return session.catalog.list_callflows(tenant.id)

    def add_cli(self, tenant: Tenant, number: str) -> CallerId:
        e164 = to_e164(number.strip(), tenant.region) if looks_like_number(number.strip()) else None
        if e164 is None:
            raise ValidationFailed(
                {"number": [f"{number!r} is not a possible phone number in region {tenant.region}"]}
            )
        with self._store.write() as session:
            return session.catalog.add_cli(tenant.id, e164, self._clock.now())

    def clis(self, tenant: Tenant) -> list[CallerId]:
        with self._store.read() as session:
            return session.catalog.list_clis(tenant.id)

    def add_agent(self, tenant: Tenant, member: str, name: str) -> Agent:
        """An agent, named as the Dialer API names them: by SIP extension code (``Member``)."""
        member = member.strip()
        problems: dict[str, list[str]] = {}
        if not member or len(member) > 100 or "," in member:
            problems["member"] = ["must be 1 to 100 characters, without commas"]
        if not name.strip() or len(name) > 200:
            problems["name"] = ["must be 1 to 200 characters"]
        if problems:
            raise ValidationFailed(problems)
        with self._store.write() as session:
            return session.agents.add_agent(tenant.id, member, name.strip(), self._clock.now())

    def set_agent_phone(self, tenant: Tenant, agent_id: int, phone: str | None) -> Agent:
        """Assign the phone the agent's log-ins call (None: none), checked as a log-in checks
        it; a session already open keeps its phone until it ends."""
        checked = None if phone is None else check_phone(phone, tenant.region)
        with self._store.write() as session:
            if not session.agents.set_agent_phone(tenant.id, agent_id, checked):
                raise NotFound(f"agent {agent_id}")
            return _found(session.agents.get_agent(tenant.id, agent_id), "agent", agent_id)

    def add_queue(self, tenant: Tenant, name: str) -> Queue:
        if not name.strip() or len(name) > 200:
            raise ValidationFailed({"name": ["must be 1 to 200 characters"]})
        with self._store.write() as session:
            return session.agents.add_queue(tenant.id, name.strip(), self._clock.now())
