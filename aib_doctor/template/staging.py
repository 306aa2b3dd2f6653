"""Where a build's log lives: the log location in each era of the failure message, and the staging group.

Pure functions over strings and dicts; the Azure adapters feed them what ARM returned. The staging
resource group is chosen in a fixed order: the log location in the status message, the template's
exactStagingResourceGroup, its stagingResourceGroup, groups tagged with the template's name and
group, and last the `IT_<rg>_<template>_<guid>` name (whose middle part the service truncates).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_CLI_WRAPPER = re.compile(r"^\s*Deployment failed\. Correlation ID: [0-9A-Za-z-]+\.\s*")
# 2019-2022: "Image Build log location: https://<sa>.blob.<suffix>/packerlogs/<folder>/customization.log."
_URL_FORM = re.compile(
    r"[Ii]mage [Bb]uild log location: (?P<url>https://(?P<account>[a-z0-9]{3,24})\.blob\.(?P<suffix>[^/\s]+)"
    r"/(?P<container>packerlogs)/(?P<blob>[^\s]+?/customization\.log))"
)
# 2024+: "Packer build logs are at location /subscriptions/.../storageAccounts/<sa>/blobServices/default/containers/packerlogs/<folder>/customization.log."
_ARM_FORM = re.compile(
    r"build logs are at location (?P<path>/subscriptions/(?P<subscription>[^/\s]+)/resourceGroups/(?P<group>[^/\s]+)"
    r"/providers/Microsoft\.Storage/storageAccounts/(?P<account>[^/\s]+)/blobServices/default/containers/"
    r"(?P<container>[^/\s]+)/(?P<blob>[^\s]+?/customization\.log))",
    re.IGNORECASE,
)
_OPERATION_ID = re.compile(r"operationId:? ([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})", re.I)
_STAGING_NAME = re.compile(r"^IT_(?P<middle>.+)_(?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$")
_RESOURCE_GROUP_ID = re.compile(r"/resourceGroups/([^/]+)", re.I)


@dataclass(frozen=True)
class LogLocation:
    """The log blob a status message points at; any part may be unknown."""

    account: str | None = None
    container: str = "packerlogs"
    blob: str | None = None
    """"<run folder>/customization.log"."""
    url: str | None = None
    resource_group: str | None = None
    """The staging group, when the message gives the ARM path."""
    subscription: str | None = None
    operation_id: str | None = None


def strip_cli_wrapper(message: str) -> str:
    """Remove the az CLI's "Deployment failed. Correlation ID: <id>. " prefix."""
    return _CLI_WRAPPER.sub("", message, count=1)


def parse_log_location(message: str | None) -> LogLocation | None:
    """The log location of any era of lastRunStatus.message, or None when it names none."""
    if not message:
        return None
    message = strip_cli_wrapper(message)
    operation = _OPERATION_ID.search(message)
    operation_id = operation.group(1).lower() if operation else None
    m = _ARM_FORM.search(message)
    if m:
        return LogLocation(
            account=m["account"],
            container=m["container"],
            blob=m["blob"],
            resource_group=m["group"],
            subscription=m["subscription"],
            operation_id=operation_id,
        )
    m = _URL_FORM.search(message)
    if m:
        return LogLocation(account=m["account"], container=m["container"], blob=m["blob"], url=m["url"], operation_id=operation_id)
    if operation_id:
        return LogLocation(operation_id=operation_id)
    return None


@dataclass(frozen=True)
class StagingChoice:
    group: str
    route: str
    """Which clue found it: message, exactStagingResourceGroup, stagingResourceGroup, tags or name."""


def _group_name(resource_id_or_name: str) -> str:
    m = _RESOURCE_GROUP_ID.search(resource_id_or_name)
    return m.group(1) if m else resource_id_or_name.rstrip("/").rsplit("/", 1)[-1]


def staging_name_matches(group: str, template_group: str, template: str) -> bool:
    """`IT_<rg>_<template>_<guid>`, where the service may cut `<rg>_<template>` short."""
    m = _STAGING_NAME.match(group)
    if not m:
        return False
    middle = m["middle"].lower()
    full = f"{template_group}_{template}".lower()
    return full.startswith(middle) and len(middle) > len(template_group)


def choose_staging_group(
    template_group: str,
    template: str,
    properties: Mapping,
    groups: Iterable[tuple[str, Mapping[str, str]]],
) -> StagingChoice | None:
    """The staging group of a template, by the first clue that names one; groups are (name, tags)."""
    location = parse_log_location((properties.get("lastRunStatus") or {}).get("message"))
    if location and location.resource_group:
        return StagingChoice(location.resource_group, "message")
    for key in ("exactStagingResourceGroup", "stagingResourceGroup"):
        if properties.get(key):
            return StagingChoice(_group_name(properties[key]), key)
    groups = list(groups)
    for name, tags in groups:
        tags = {k.lower(): v for k, v in (tags or {}).items()}
        if tags.get("imagetemplatename", "").lower() == template.lower() and tags.get("imagetemplateresourcegroupname", "").lower() == template_group.lower():
            return StagingChoice(name, "tags")
    named = sorted(name for name, _ in groups if staging_name_matches(name, template_group, template))
    if named:
        return StagingChoice(named[0], "name")
    return None
