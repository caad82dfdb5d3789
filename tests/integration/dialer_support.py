"""An Israeli clinic tenant, as the Dialer API seed's examples assume, and a call helper."""

from typing import Any

from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from tests.conftest import Account

BASE = "/ForwardDialer/Dialer"


class Clinic(Account):
    def __init__(self, container: Container, name: str = "Clinic") -> None:
        self.tenant, self.key = container.tenants.create(name, "IL", "Asia/Jerusalem")
        flow = "message: 'Shalom {Name}'\nsms: 'Shalom {Name}'\n"
        self.callflow_id = container.catalog.add_callflow(self.tenant, "Flow", flow).id
        self.cli_id = container.catalog.add_cli(self.tenant, "0722776772").id
        self.container = container

    def new_campaign(self, kind: str = "ivr", name: str = "Campaign1") -> str:
        body = self.campaign(name=name, type=kind, phoneNumbers=[{"number": "0501111111"}])
        return self.container.campaigns.create(self.tenant, body).campaign.code


def get(client: TestClient, method: str, **params: Any) -> Any:
    response = client.get(f"{BASE}/{method}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def post(client: TestClient, method: str, body: Any) -> Any:
    response = client.post(f"{BASE}/{method}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def pending_phones(client: TestClient, code: str) -> list[str]:
    data = get(client, "GetCampaignPendingCalls", Campaign=code)["Data"]
    return [c["Phone"] for c in data["Calls"]]
