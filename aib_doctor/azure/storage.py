"""The staging resource group, its storage account and the `packerlogs` container, found through ARM."""

from __future__ import annotations

from aib_doctor.azure import AzureSession, access_error, error_code, sdk_errors
from aib_doctor.errors import LogUnavailable
from aib_doctor.model import StorageAccount


def list_groups(session: AzureSession) -> list[tuple[str, dict]]:
    try:
        return [(g.name, dict(g.tags or {})) for g in session.client("resource").resource_groups.list()]
    except sdk_errors() as exc:
        raise access_error(exc, "listing resource groups") from None


def storage_accounts(session: AzureSession, resource_group: str) -> list[StorageAccount]:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        accounts = list(session.client("storage").storage_accounts.list_by_resource_group(resource_group))
    except ResourceNotFoundError as exc:
        if error_code(exc) == "ResourceGroupNotFound":
            raise LogUnavailable(
                f"the staging resource group {resource_group!r} no longer exists, and the build logs were deleted with it "
                "(deleting or recreating the template deletes its staging group)"
            ) from None
        raise access_error(exc, f"listing storage accounts in {resource_group!r}") from None
    except sdk_errors() as exc:
        raise access_error(exc, f"listing storage accounts in {resource_group!r}") from None
    return [
        StorageAccount(a.name, resource_group, a.primary_endpoints.blob, a.id) for a in accounts if a.primary_endpoints is not None and a.primary_endpoints.blob
    ]


def account_key(session: AzureSession, account: StorageAccount) -> str:
    try:
        keys = session.client("storage").storage_accounts.list_keys(account.resource_group, account.name)
    except sdk_errors() as exc:
        raise access_error(exc, f"reading the keys of storage account {account.name!r} (needs Microsoft.Storage/storageAccounts/listkeys/action)") from None
    return keys.keys_property[0].value
