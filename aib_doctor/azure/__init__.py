"""Azure behind adapters: the only package that imports azure.*; everything it returns is our own data.

Imported lazily by the commands that need Azure, so `analyze`, `rules` and `lint` start fast.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aib_doctor.errors import AzureAccessError, InputError

# Extra keyword arguments for every SDK client. Empty in production (the SDK's retries apply);
# tests set {"retry_total": 0} so an error path does not sleep through the backoff.
CLIENT_OPTIONS: dict[str, Any] = {}


@dataclass
class AzureSession:
    """A credential, the subscription and the SDK clients built from them, created on first use."""

    credential: Any
    subscription: str
    clients: dict = field(default_factory=dict)

    def client(self, kind: str):
        if kind not in self.clients:
            self.clients[kind] = _build_client(kind, self.credential, self.subscription)
        return self.clients[kind]

    def get(self, path: str) -> dict | list | None:
        """An ARM GET (the preflight's ArmReader)."""
        return arm_get(self, path)


def _build_client(kind: str, credential, subscription: str):
    if kind == "imagebuilder":
        from azure.mgmt.imagebuilder import ImageBuilderClient

        return ImageBuilderClient(credential, subscription, **CLIENT_OPTIONS)
    if kind == "resource":
        from azure.mgmt.resource.resources import ResourceManagementClient

        return ResourceManagementClient(credential, subscription, **CLIENT_OPTIONS)
    if kind == "storage":
        from azure.mgmt.storage import StorageManagementClient

        return StorageManagementClient(credential, subscription, **CLIENT_OPTIONS)
    raise ValueError(kind)


def cli_default_subscription() -> str | None:
    """The Azure CLI's default subscription, from its profile file (no `az` process needed)."""
    folder = Path(os.environ.get("AZURE_CONFIG_DIR") or Path.home() / ".azure")
    try:
        profile = json.loads((folder / "azureProfile.json").read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return None
    for subscription in profile.get("subscriptions") or []:
        if subscription.get("isDefault"):
            return subscription.get("id")
    return None


def resolve_subscription(option: str | None) -> str:
    subscription = option or os.environ.get("AZURE_SUBSCRIPTION_ID") or cli_default_subscription()
    if not subscription:
        raise InputError("no subscription known: pass --subscription, set AZURE_SUBSCRIPTION_ID, or choose a default with `az account set -s <id>`")
    return subscription


def default_credential():
    import logging

    from azure.identity import DefaultAzureCredential

    # azure-identity logs a 14-line warning per failed credential chain, which our one line says; unless a level
    # was chosen (the CLI's --debug shows them), only its errors.
    identity_log = logging.getLogger("azure.identity")
    if identity_log.level == logging.NOTSET:
        identity_log.setLevel(logging.ERROR)
    # The browser and interactive options would hang a cron job; everything unattended stays on.
    return DefaultAzureCredential(exclude_interactive_browser_credential=True)


def connect(subscription: str | None) -> AzureSession:
    return AzureSession(default_credential(), resolve_subscription(subscription))


def arm_get(session: AzureSession, path: str) -> dict | list | None:
    """GET an ARM path (with its api-version) through the SDK pipeline; None when it does not exist."""
    from azure.core.exceptions import ResourceNotFoundError
    from azure.core.rest import HttpRequest

    try:
        response = session.client("imagebuilder").send_request(HttpRequest("GET", path))
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()
    except ResourceNotFoundError:
        return None
    except sdk_errors() as exc:
        raise access_error(exc, f"reading {path.split('?')[0]}") from None


def sdk_errors() -> tuple[type[Exception], ...]:
    """What the SDK raises for Azure's and the network's trouble: azure-core's exception tree (credentials included).
    Anything else raised inside an adapter is aib-doctor's bug and stays one (exit 5), not "Azure unreachable"."""
    from azure.core.exceptions import AzureError

    return (AzureError,)


def access_error(exc: Exception, what: str) -> AzureAccessError:
    """One clear line for an SDK exception met while doing `what`."""
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError

    if isinstance(exc, ClientAuthenticationError) and getattr(exc, "status_code", None) is None:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return AzureAccessError(
            f"{what}: no Azure credentials could be used ({first}); run `az login`, or set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, or use a managed identity"
        )
    if isinstance(exc, HttpResponseError):
        code = error_code(exc)
        message = _error_message(exc)
        if exc.status_code == 403:
            return AzureAccessError(f"{what}: permission denied ({code}): {message}")
        if exc.status_code == 429:
            return AzureAccessError(f"{what}: Azure is throttling requests (429) and retries ran out; try again in a few minutes")
        return AzureAccessError(f"{what}: {exc.status_code} {code}: {message}")
    if isinstance(exc, ServiceRequestError):
        return AzureAccessError(f"{what}: could not reach Azure ({exc})")
    return AzureAccessError(f"{what}: {type(exc).__name__}: {exc}")


def error_code(exc) -> str:
    code = getattr(exc, "error_code", None) or getattr(getattr(exc, "error", None), "code", None)
    return str(getattr(code, "value", code) or "")


def _error_message(exc) -> str:
    message = getattr(getattr(exc, "error", None), "message", None) or exc.message or str(exc)
    return " ".join(str(message).split())[:400]
