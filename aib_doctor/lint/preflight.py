"""Online preflight: does Azure have what this template needs before it is built?

The identity exists; its role assignments cover the source, the distribution targets, the VNet subnet,
a custom staging group and script storage; the source image exists in the template's region; the
gallery image definition's Hyper-V generation and security type match the source; the resource
providers are registered. Each gap comes with the `az` command that closes it.

The checks read Azure through an `ArmReader` (plain ARM GETs); the Azure adapter's session is one,
tests hand in a dict of paths. Five kinds of GET do not justify three more SDK packages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from aib_doctor.lint.registry import describe, finding
from aib_doctor.lint.views import TemplateView, template_views
from aib_doctor.model import Check, Finding


class ArmReader(Protocol):
    """What preflight needs of Azure: the subscription, and GET of an ARM path (None when it does not exist)."""

    subscription: str

    def get(self, path: str) -> dict | list | None: ...


PROVIDERS = (
    "Microsoft.VirtualMachineImages",
    "Microsoft.Compute",
    "Microsoft.Storage",
    "Microsoft.Network",
    "Microsoft.KeyVault",
    "Microsoft.ContainerInstance",
)
BLOB_READ = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"

IDENTITY_NOT_FOUND = describe(
    "PRE001",
    "identity.not-found",
    "error",
    "permissions",
    "The template's user-assigned identity does not exist",
    "The identity named in the template cannot be found, so the submission will fail.",
    "Create it (command in the message) and give it its roles.",
    ("AIB027",),
)
MISSING_ROLE = describe(
    "PRE002",
    "identity.missing-role",
    "error",
    "permissions",
    "The identity lacks a permission the build needs",
    "No role assignment of the identity grants this action on this scope.",
    "Assign a role that includes it (command in the message).",
    ("AIB002", "AIB003", "AIB013", "AIB018", "AIB028", "AIB040", "AIB067"),
)
SOURCE_NOT_IN_REGION = describe(
    "PRE003",
    "source.not-in-region",
    "error",
    "source_image",
    "The source image does not exist in the template's region",
    "Image Builder builds in the template's region and needs the source image there.",
    "Use an image that exists there, or replicate it (command in the message).",
    ("AIB004", "AIB029"),
)
DEFINITION_MISMATCH = describe(
    "PRE004",
    "gallery.definition-mismatch",
    "error",
    "source_image",
    "The gallery image definition does not match the source",
    "An image version must have the Hyper-V generation and security type of its image definition.",
    "Distribute to a definition created for the source's generation and security type (command in the message).",
    ("AIB031", "AIB051"),
)
PROVIDER_UNREGISTERED = describe(
    "PRE005",
    "subscription.provider-unregistered",
    "error",
    "subscription_setup",
    "A resource provider the build needs is not registered",
    "Image Builder deploys compute, storage, network, Key Vault and container instance resources; each provider must be registered.",
    "Register it (command in the message).",
    ("AIB042", "AIB048"),
)
PREFLIGHT: dict[str, Check] = {c.id: c for c in (IDENTITY_NOT_FOUND, MISSING_ROLE, SOURCE_NOT_IN_REGION, DEFINITION_MISMATCH, PROVIDER_UNREGISTERED)}
"""The online checks (PRE###), for `rules`, SARIF and the diagnosis that names one."""


@dataclass(frozen=True)
class Need:
    scope: str
    actions: tuple[str, ...]
    role: str
    """The built-in role to suggest."""
    pointer: str
    data: bool = False


def _group_scope(resource_id: str) -> str:
    m = re.match(r"(/subscriptions/[^/]+/resourceGroups/[^/]+)", resource_id, re.I)
    return m.group(1) if m else resource_id


def _action_allowed(action: str, permissions: list[dict], data: bool) -> bool:
    allowed = denied = False
    for permission in permissions:
        grants = permission.get("dataActions" if data else "actions") or []
        refuses = permission.get("notDataActions" if data else "notActions") or []
        if any(_matches(pattern, action) for pattern in grants):
            allowed = True
        if any(_matches(pattern, action) for pattern in refuses):
            denied = True
    return allowed and not denied


def _matches(pattern: str, action: str) -> bool:
    return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), action, re.I) is not None


def _covers(assignment_scope: str, scope: str) -> bool:
    a, s = assignment_scope.rstrip("/").lower(), scope.rstrip("/").lower()
    return s == a or s.startswith(a + "/") or a in ("", "/")


def needs(view: TemplateView) -> Iterator[Need]:
    props = view.properties
    source = props.get("source") or {}
    kind = str(source.get("type", "")).lower()
    if kind == "managedimage" and source.get("imageId"):
        yield Need(_group_scope(source["imageId"]), ("Microsoft.Compute/images/read",), "Reader", view.at("source", "imageId"))
    if kind == "sharedimageversion" and source.get("imageVersionId"):
        yield Need(
            _group_scope(source["imageVersionId"]),
            ("Microsoft.Compute/galleries/read", "Microsoft.Compute/galleries/images/read", "Microsoft.Compute/galleries/images/versions/read"),
            "Reader",
            view.at("source", "imageVersionId"),
        )
    for index, target in view.distributors():
        kind = str(target.get("type", "")).lower()
        if kind == "managedimage" and target.get("imageId"):
            yield Need(
                _group_scope(target["imageId"]),
                ("Microsoft.Compute/images/write", "Microsoft.Compute/images/read", "Microsoft.Compute/images/delete"),
                "Contributor",
                view.at("distribute", index, "imageId"),
            )
        if kind == "sharedimage" and target.get("galleryImageId"):
            yield Need(
                _group_scope(target["galleryImageId"]),
                (
                    "Microsoft.Compute/galleries/read",
                    "Microsoft.Compute/galleries/images/read",
                    "Microsoft.Compute/galleries/images/versions/read",
                    "Microsoft.Compute/galleries/images/versions/write",
                ),
                "Contributor",
                view.at("distribute", index, "galleryImageId"),
            )
    vnet = ((props.get("vmProfile") or {}).get("vnetConfig")) or {}
    for key in ("subnetId", "containerInstanceSubnetId"):
        if vnet.get(key):
            network = vnet[key].split("/subnets/")[0]
            yield Need(
                network,
                ("Microsoft.Network/virtualNetworks/read", "Microsoft.Network/virtualNetworks/subnets/join/action"),
                "Network Contributor",
                view.at("vmProfile", "vnetConfig", key),
            )
    if props.get("stagingResourceGroup"):
        yield Need(
            props["stagingResourceGroup"],
            ("Microsoft.Resources/deployments/write", "Microsoft.Storage/storageAccounts/write"),
            "Contributor",
            view.at("stagingResourceGroup"),
        )
    for index, customizer in view.customizers():
        uri = customizer.get("scriptUri") or customizer.get("sourceUri")
        m = re.match(r"https://([a-z0-9]{3,24})\.blob\.", str(uri or ""))
        if m:
            key = "scriptUri" if customizer.get("scriptUri") else "sourceUri"
            yield Need(f"storageAccounts/{m.group(1)}", (BLOB_READ,), "Storage Blob Data Reader", view.at("customize", index, key), data=True)


def preflight_document(arm: ArmReader, document: dict) -> list[Finding]:
    views, _ = template_views(document)
    issues: list[Finding] = []
    for view in views:
        issues += preflight_view(arm, view)
    return issues


def preflight_view(arm: ArmReader, view: TemplateView) -> list[Finding]:
    issues: list[Finding] = []

    def gap(check: Check, message: str, pointer: str) -> None:
        """A gap whose message ends in "Fix: <command>": the command is the fix."""
        issues.append(finding(check, pointer, message, view.name, fix=message.split("Fix: ", 1)[-1]))

    location = str(view.root.get("location") or "")
    subscription = arm.subscription
    principal = None
    for identity_id in (view.root.get("identity") or {}).get("userAssignedIdentities") or {}:
        found = arm.get(f"{identity_id}?api-version=2023-01-31")
        if found is None:
            m = re.search(r"/resourceGroups/([^/]+)/providers/Microsoft.ManagedIdentity/userAssignedIdentities/([^/]+)", identity_id, re.I)
            command = f"az identity create -g {m.group(1)} -n {m.group(2)}" if m else "az identity create -g <rg> -n <name>"
            gap(IDENTITY_NOT_FOUND, f"{identity_id} was not found. Fix: {command}", view.root_pointer + "/identity")
        else:
            principal = (found.get("properties") or {}).get("principalId")
    if principal:
        issues += _role_gaps(arm, view, principal)
    issues += _source_gaps(arm, view, location)
    for namespace in PROVIDERS:
        provider = arm.get(f"/subscriptions/{subscription}/providers/{namespace}?api-version=2021-04-01")
        state = (provider or {}).get("registrationState")
        if state != "Registered":
            gap(
                PROVIDER_UNREGISTERED,
                f"{namespace} is {state or 'not registered'} in subscription {subscription}. Fix: az provider register -n {namespace} --subscription {subscription}",
                view.root_pointer or "/",
            )
    return issues


def _role_gaps(arm: ArmReader, view: TemplateView, principal: str) -> list[Finding]:
    assignments = (
        arm.get(
            f"/subscriptions/{arm.subscription}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter={quote(f'assignedTo({chr(39)}{principal}{chr(39)})')}"
        )
        or {}
    )
    definitions: dict[str, list[dict]] = {}
    granted = []
    for assignment in assignments.get("value") or []:
        properties = assignment.get("properties") or {}
        definition_id = properties.get("roleDefinitionId", "")
        if definition_id not in definitions:
            definition = arm.get(f"{definition_id}?api-version=2022-04-01") or {}
            definitions[definition_id] = (definition.get("properties") or {}).get("permissions") or []
        granted.append((properties.get("scope", ""), definitions[definition_id]))
    issues = []
    for need in needs(view):
        for action in need.actions:
            if need.data:
                account = need.scope.split("/")[-1]
                covered = any(
                    _action_allowed(action, permissions, True) and (f"/storageaccounts/{account}" in scope.lower() or "/storageaccounts/" not in scope.lower())
                    for scope, permissions in granted
                )
                scope_arg = f"$(az storage account show -n {account} --query id -o tsv)"
            else:
                covered = any(_covers(scope, need.scope) and _action_allowed(action, permissions, False) for scope, permissions in granted)
                scope_arg = need.scope
            if not covered:
                command = f'az role assignment create --assignee-object-id {principal} --assignee-principal-type ServicePrincipal --role "{need.role}" --scope {scope_arg}'
                issues.append(
                    finding(MISSING_ROLE, need.pointer, f"no role assignment grants {action} on {need.scope}. Fix: {command}", view.name, fix=command)
                )
                break  # one command per scope closes all of its actions
    return issues


def _source_gaps(arm: ArmReader, view: TemplateView, location: str) -> list[Finding]:
    issues = []
    props = view.properties
    source = props.get("source") or {}
    kind = str(source.get("type", "")).lower()
    generation = security = None
    if kind == "platformimage" and location:
        base = (
            f"/subscriptions/{arm.subscription}/providers/Microsoft.Compute/locations/{location}/publishers/{source.get('publisher')}"
            f"/artifacttypes/vmimage/offers/{source.get('offer')}/skus/{source.get('sku')}/versions"
        )
        versions = arm.get(f"{base}?api-version=2024-07-01")
        names = [v.get("name") for v in (versions if isinstance(versions, list) else [])]
        wanted = source.get("version")
        chosen = names[-1] if wanted == "latest" and names else wanted if wanted in names else None
        if chosen is None:
            urn = f"{source.get('publisher')}:{source.get('offer')}:{source.get('sku')}"
            command = f"az vm image list --location {location} --publisher {source.get('publisher')} --offer {source.get('offer')} --sku {source.get('sku')} --all -o table"
            message = f"{urn}:{wanted} is not offered in {location}. Fix: {command}"
            issues.append(finding(SOURCE_NOT_IN_REGION, view.at("source"), message, view.name, fix="pick a listed version"))
        else:
            image = arm.get(f"{base}/{chosen}?api-version=2024-07-01") or {}
            generation = (image.get("properties") or {}).get("hyperVGeneration")
            features = {f.get("name"): f.get("value") for f in (image.get("properties") or {}).get("features") or []}
            security = features.get("SecurityType")
    if kind == "sharedimageversion" and source.get("imageVersionId"):
        version = arm.get(f"{source['imageVersionId']}?api-version=2023-07-03")
        regions = [
            r.get("name", "").replace(" ", "").lower()
            for r in ((version or {}).get("properties") or {}).get("publishingProfile", {}).get("targetRegions") or []
        ]
        if version is None or (location and location.replace(" ", "").lower() not in regions):
            command = f"az sig image-version update --ids {source['imageVersionId']} --add publishingProfile.targetRegions name={location}"
            message = f"{source['imageVersionId']} has no replica in {location}. Fix: {command}"
            issues.append(finding(SOURCE_NOT_IN_REGION, view.at("source", "imageVersionId"), message, view.name, fix="replicate the version"))
        definition = arm.get(source["imageVersionId"].split("/versions/")[0] + "?api-version=2023-07-03") or {}
        generation, security = _definition_traits(definition)
    if generation:
        for index, target in view.distributors():
            if str(target.get("type", "")).lower() != "sharedimage" or not target.get("galleryImageId"):
                continue
            definition_id = target["galleryImageId"].split("/versions/")[0]
            target_generation, target_security = _definition_traits(arm.get(f"{definition_id}?api-version=2023-07-03") or {})
            mismatch = []
            if target_generation and target_generation != generation:
                mismatch.append(f"Hyper-V generation {target_generation} vs the source's {generation}")
            if (target_security or "Standard") != (security or "Standard") and not str(target_security or "").endswith("Supported"):
                mismatch.append(f"security type {target_security or 'Standard'} vs the source's {security or 'Standard'}")
            if mismatch:
                m = re.search(r"/resourceGroups/([^/]+)/providers/Microsoft.Compute/galleries/([^/]+)/images/([^/]+)", definition_id, re.I)
                command = (
                    f"az sig image-definition create -g {m.group(1)} -r {m.group(2)} -i {m.group(3)}-{generation.lower()} --hyper-v-generation {generation}"
                    f" --os-type <Windows|Linux> -p <publisher> -f <offer> -s <sku>"
                    if m
                    else "az sig image-definition create ..."
                )
                message = f"{definition_id}: {'; '.join(mismatch)}. Fix: {command}"
                issues.append(finding(DEFINITION_MISMATCH, view.at("distribute", index, "galleryImageId"), message, view.name, fix=command))
    return issues


def _definition_traits(definition: dict) -> tuple[str | None, str | None]:
    properties = definition.get("properties") or {}
    features = {f.get("name"): f.get("value") for f in properties.get("features") or []}
    return properties.get("hyperVGeneration"), features.get("SecurityType")
