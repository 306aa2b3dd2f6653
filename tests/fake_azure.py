"""ARM as the REST API answers it, mocked with `responses`; blobs stay real (Azurite on 127.0.0.1).

Tokens come through DefaultAzureCredential with an environment service principal whose Entra ID
endpoints are mocked too, as a cron job would log in.
"""

from __future__ import annotations

import re

import responses

AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

SUB = "11111111-2222-3333-4444-555555555555"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
ARM = "https://management.azure.com"
LOGIN = "https://login.microsoftonline.com"
RG = "rg-images"
ACCOUNT = "devstoreaccount1"
IB = f"{ARM}/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.VirtualMachineImages/imageTemplates"


def service_principal_env(monkeypatch) -> None:
    monkeypatch.setenv("AZURE_TENANT_ID", TENANT)
    monkeypatch.setenv("AZURE_CLIENT_ID", "0c6e8d1f-3a2b-4c5d-9e8f-7a6b5c4d3e2f")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "not-a-real-secret")
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUB)
    monkeypatch.setenv("AZURE_CONFIG_DIR", "/nonexistent-aib-doctor-test")


def mock_login(rsps: responses.RequestsMock) -> None:
    """Entra ID's discovery documents and token endpoint, as MSAL calls them."""
    rsps.get(
        re.compile(rf"{LOGIN}/common/discovery/instance.*"),
        json={"tenant_discovery_endpoint": f"{LOGIN}/{TENANT}/v2.0/.well-known/openid-configuration", "api-version": "1.1", "metadata": []},
    )
    rsps.get(
        f"{LOGIN}/{TENANT}/v2.0/.well-known/openid-configuration",
        json={
            "token_endpoint": f"{LOGIN}/{TENANT}/oauth2/v2.0/token",
            "authorization_endpoint": f"{LOGIN}/{TENANT}/oauth2/v2.0/authorize",
            "issuer": f"{LOGIN}/{TENANT}/v2.0",
            "device_authorization_endpoint": f"{LOGIN}/{TENANT}/oauth2/v2.0/devicecode",
        },
    )
    rsps.post(
        f"{LOGIN}/{TENANT}/oauth2/v2.0/token",
        json={"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJhdWQiOiJhcm0ifQ.sig"},
    )


def template_body(name: str, properties: dict) -> dict:
    return {
        "id": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.VirtualMachineImages/imageTemplates/{name}",
        "name": name,
        "type": "Microsoft.VirtualMachineImages/imageTemplates",
        "location": "eastus",
        "identity": {
            "type": "UserAssigned",
            "userAssignedIdentities": {
                f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aib-identity": {
                    "principalId": "9a8b7c6d-1111-2222-3333-444455556666",
                    "clientId": "1a2b3c4d-1111-2222-3333-444455556666",
                }
            },
        },
        "properties": {
            "source": {"type": "PlatformImage", "publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2019-Datacenter", "version": "latest"},
            "customize": [{"type": "PowerShell", "name": "make-build-folder", "inline": ["mkdir c:\\buildArtifacts"]}],
            "distribute": [
                {
                    "type": "ManagedImage",
                    "imageId": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/images/win",
                    "location": "eastus",
                    "runOutputName": "win",
                }
            ],
            "vmProfile": {"vmSize": "Standard_D1_v2", "osDiskSizeGB": 127},
            "buildTimeoutInMinutes": 60,
            **properties,
        },
    }


def mock_template(rsps, name: str, properties: dict, status: int = 200) -> None:
    rsps.get(f"{IB}/{name}", json=template_body(name, properties), status=status)


def arm_error(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def mock_groups(rsps, groups: list[tuple[str, dict]]) -> None:
    rsps.get(
        f"{ARM}/subscriptions/{SUB}/resourcegroups",
        json={
            "value": [
                {"id": f"/subscriptions/{SUB}/resourceGroups/{n}", "name": n, "location": "eastus", "tags": t, "properties": {"provisioningState": "Succeeded"}}
                for n, t in groups
            ]
        },
    )


def mock_storage(rsps, group: str, blob_endpoint: str, key: str = AZURITE_KEY) -> None:
    account_id = f"/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.Storage/storageAccounts/{ACCOUNT}"
    rsps.get(
        f"{ARM}/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.Storage/storageAccounts",
        json={
            "value": [
                {
                    "id": account_id,
                    "name": ACCOUNT,
                    "type": "Microsoft.Storage/storageAccounts",
                    "location": "eastus",
                    "kind": "StorageV2",
                    "sku": {"name": "Standard_LRS", "tier": "Standard"},
                    "properties": {"provisioningState": "Succeeded", "primaryEndpoints": {"blob": blob_endpoint.rstrip("/") + "/"}},
                }
            ]
        },
    )
    rsps.post(
        f"{ARM}/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.Storage/storageAccounts/{ACCOUNT}/listKeys",
        json={"keys": [{"keyName": "key1", "value": key, "permissions": "FULL"}]},
    )


def upload(blob_endpoint: str, name: str, data: bytes) -> None:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient(blob_endpoint, credential={"account_name": ACCOUNT, "account_key": AZURITE_KEY})
    container = service.get_container_client("packerlogs")
    if not container.exists():
        container.create_container()
    container.upload_blob(name, data, overwrite=True)


def empty_container(blob_endpoint: str) -> None:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient(blob_endpoint, credential={"account_name": ACCOUNT, "account_key": AZURITE_KEY})
    container = service.get_container_client("packerlogs")
    if container.exists():
        for blob in list(container.list_blob_names()):
            container.delete_blob(blob)


GRAPH = f"{ARM}/providers/Microsoft.ResourceGraph/resources"


def graph_row(
    name: str,
    subscription: str = SUB,
    group: str = RG,
    run_state="Succeeded",
    start="2024-06-11T08:00:00Z",
    end="2024-06-11T09:00:00Z",
    message="",
    provisioning="Succeeded",
    tags=None,
) -> dict:
    return {
        "id": f"/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.VirtualMachineImages/imageTemplates/{name}",
        "name": name,
        "resourceGroup": group,
        "subscriptionId": subscription,
        "tags": tags or {},
        "provisioningState": provisioning,
        "runState": run_state,
        "runSubState": "",
        "message": message,
        "startTime": start,
        "endTime": end,
    }


class FakeGraph:
    """Resource Graph's POST /resources with $top/$skipToken paging over a settable list of rows."""

    def __init__(self, rsps, rows: list[dict], headers: dict | None = None) -> None:
        self.rows = rows
        self.bodies: list[dict] = []
        self.headers = headers or {}
        rsps.add_callback("POST", GRAPH, callback=self._answer)

    def _answer(self, request):
        import json as _json

        body = _json.loads(request.body)
        self.bodies.append(body)
        subscriptions = {s.lower() for s in body.get("subscriptions") or []}
        rows = [r for r in self.rows if not subscriptions or r["subscriptionId"].lower() in subscriptions]
        start = int(body["options"].get("$skipToken") or 0)
        top = body["options"]["$top"]
        page = rows[start : start + top]
        answer = {"totalRecords": len(rows), "count": len(page), "data": page, "facets": [], "resultTruncated": "false"}
        if start + top < len(rows):
            answer["$skipToken"] = str(start + top)
        return 200, dict(self.headers), _json.dumps(answer)


class Webhook:
    """A real HTTP server on 127.0.0.1 that records what it is sent; `fail` answers 500 instead."""

    def __init__(self) -> None:
        import http.server
        import json as _json
        import threading

        received = self.received = []
        self.fail = False
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if hook.fail:
                    self.send_response(500)
                else:
                    received.append(_json.loads(body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
