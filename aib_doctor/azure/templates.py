"""Image templates and their run outputs, as REST-shaped dicts (camelCase, as ARM returns them), and the
TemplateSource adapter that the `template` commands read Azure through."""

from __future__ import annotations

import difflib

from aib_doctor.azure import AzureSession, access_error, error_code, sdk_errors
from aib_doctor.azure.blobs import BlobLogStore, open_log_store
from aib_doctor.azure.storage import list_groups, storage_accounts
from aib_doctor.errors import AzureAccessError
from aib_doctor.model import RunOutput, StorageAccount


class ArmTemplateSource:
    """aib_doctor.template.ports.TemplateSource over ARM and blob storage; see that protocol for each method."""

    def __init__(self, session: AzureSession, auth_mode: str = "auto") -> None:
        self.session = session
        self.subscription = session.subscription
        self.auth_mode = auth_mode
        """How the log blobs are read: login (Entra ID), key (the account key via listKeys) or auto (login, then key)."""

    def template(self, resource_group: str, name: str) -> dict:
        return get_template(self.session, resource_group, name)

    def run_outputs(self, resource_group: str, name: str) -> list[RunOutput]:
        return run_outputs(self.session, resource_group, name)

    def start_run(self, resource_group: str, name: str) -> None:
        start_run(self.session, resource_group, name)

    def resource_groups(self) -> list[tuple[str, dict[str, str]]]:
        return list_groups(self.session)

    def storage_accounts(self, resource_group: str) -> list[StorageAccount]:
        return storage_accounts(self.session, resource_group)

    def log_store(self, account: StorageAccount) -> tuple[BlobLogStore, list[str]]:
        return open_log_store(self.session, account, self.auth_mode)


def get_template(session: AzureSession, resource_group: str, name: str) -> dict:
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    operations = session.client("imagebuilder").virtual_machine_image_templates
    try:
        return operations.get(resource_group, name).as_dict()
    except ResourceNotFoundError as exc:
        if error_code(exc) == "ResourceGroupNotFound":
            raise AzureAccessError(f"resource group {resource_group!r} not found in subscription {session.subscription}") from None
        raise AzureAccessError(f"template {name!r} not found in resource group {resource_group!r}{_suggest(session, resource_group, name)}") from None
    except HttpResponseError as exc:
        raise access_error(exc, f"reading template {name!r} in {resource_group!r}") from None
    except sdk_errors() as exc:  # credentials, network: all one clear line
        raise access_error(exc, f"reading template {name!r} in {resource_group!r}") from None


def _suggest(session: AzureSession, resource_group: str, name: str) -> str:
    try:
        names = [t.name for t in session.client("imagebuilder").virtual_machine_image_templates.list_by_resource_group(resource_group)]
    except sdk_errors():  # the suggestion is a courtesy; the not-found message stands without it
        return ""
    if not names:
        return "; the group holds no image templates"
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5) or sorted(names)[:5]
    return "; did you mean " + ", ".join(repr(n) for n in close) + "?"


def start_run(session: AzureSession, resource_group: str, name: str) -> None:
    """POST the run action; the service answers 202 and builds on its own (the caller follows the status)."""
    try:
        # polling=False: the initial POST only; azure-core would otherwise poll the operation in a thread.
        session.client("imagebuilder").virtual_machine_image_templates.begin_run(resource_group, name, polling=False)
    except Exception as exc:
        raise access_error(exc, f"starting a run of template {name!r} in {resource_group!r}") from None


def run_outputs(session: AzureSession, resource_group: str, name: str) -> list[RunOutput]:
    from azure.core.exceptions import HttpResponseError

    try:
        outputs = session.client("imagebuilder").virtual_machine_image_templates.list_run_outputs(resource_group, name)
        return [RunOutput(o.name, o.properties.artifact_id, o.properties.artifact_uri) for o in outputs]
    except HttpResponseError as exc:
        raise access_error(exc, f"listing run outputs of {name!r}") from None
