"""The agent desk's tests: an agent campaign with members, agents with tokens, and the engine's
part played through the store with the domain's own functions (phone answered, a customer
reserved, bridged, the call over), so no engine runs."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from dialer.domain import agent_session as sessions
from dialer.domain.agent_session import AgentSession, Changed, Customer, StateChange
from dialer.domain.ids import CampaignId, DestinationId
from tests.conftest import Account

ME = "/api/agents/me"


class Desk:
    """One tenant's agent campaign and the HTTP and engine sides of its agents' desks."""

    def __init__(self, container: Container, client: TestClient, account: Account) -> None:
        self.container = container
        self.client = client
        self.account = account
        body = account.campaign(type="agent", startDate="2099-01-05", runoverDays=[])
        created = client.post("/api/campaign/voice", json=body, headers=account.headers)
        assert created.status_code == 201, created.text
        self.campaign_id = CampaignId(created.json()["id"])
        shown = client.get(f"/api/campaign/voice/{self.campaign_id}", headers=account.headers)
        self.numbers = shown.json()["phoneNumbers"]

    def agent(self, member: str, name: str = "Alice", *, member_of: bool = True) -> int:
        agent = self.container.catalog.add_agent(self.account.tenant, member, name)
        if member_of:
            with self.container.store.write() as session:
                session.agents.add_members(self.campaign_id, [agent.id], self.now())
        return agent.id

    def token(self, agent_id: int) -> dict[str, str]:
        issued = self.client.post(f"/api/agents/{agent_id}/tokens", headers=self.account.headers)
        assert issued.status_code == 201, issued.text
        return {"Authorization": f"Bearer {issued.json()['token']}"}

    def now(self) -> datetime:
        return self.container.clock.now()

    # --- HTTP ----------------------------------------------------------------------------

    def post(self, headers: dict[str, str], action: str, body: Any = None) -> Any:
        if body is None:
            return self.client.post(f"{ME}/{action}", headers=headers)
        return self.client.post(f"{ME}/{action}", json=body, headers=headers)

    def me(self, headers: dict[str, str]) -> dict[str, Any]:
        answer = self.client.get(ME, headers=headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    # --- the engine's side, through the store --------------------------------------------

    def session(self, agent_id: int) -> AgentSession | None:
        with self.container.store.read() as session:
            return session.agent_sessions.open_session_of(self.account.tenant.id, agent_id)

    def changes(self, agent_id: int) -> list[StateChange]:
        with self.container.store.read() as session:
            return session.agent_sessions.state_changes(self.account.tenant.id, agent_id=agent_id)

    def engine(self, agent_id: int, step: Callable[[AgentSession, datetime], Changed]) -> None:
        with self.container.store.write() as session:
            before = session.agent_sessions.open_session_of(self.account.tenant.id, agent_id)
            assert before is not None
            after, change = step(before, self.now())
            assert session.agent_sessions.save_session(after, change, before.version)

    def answered(self, agent_id: int) -> None:
        self.engine(agent_id, sessions.phone_answered)

    def customer(self, index: int = 0) -> Customer:
        number = self.numbers[index]
        return Customer(
            campaign_id=self.campaign_id,
            destination_id=DestinationId(number["id"]),
            attempt_number=1,
            number=number["e164"],
            name=number.get("name"),
            parameters=tuple((p["parameter"], p["value"]) for p in number.get("parameters", [])),
            custom_data='{"var_leadID": 889}',
            keys="1",
            answered_at=self.now(),
        )

    def reserve(self, agent_id: int, index: int = 0) -> Customer:
        customer = self.customer(index)
        self.engine(agent_id, lambda s, now: sessions.reserve(s, customer, now))
        return customer

    def bridged(self, agent_id: int) -> None:
        self.engine(agent_id, sessions.bridged)

    def call_over(self, agent_id: int) -> None:
        self.engine(agent_id, lambda s, now: sessions.call_over(s, now, None))
