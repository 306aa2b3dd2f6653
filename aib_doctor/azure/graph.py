"""Every image template in scope: one Azure Resource Graph query per 1,000 templates, or a list per subscription.

Resource Graph is an index and may lag; `check` confirms a changed template with a direct GET before
diagnosing it. The query goes through the ARM pipeline of the SDK client already in use
(`send_request`), which saves a dependency on the legacy msrest-based Resource Graph package.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from aib_doctor.azure import AzureSession, access_error, sdk_errors
from aib_doctor.model import TemplateSummary

GRAPH_URL = "/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01"
PAGE = 1000
MAX_QUOTA_WAIT = 60
QUERY = """resources
| where type =~ 'microsoft.virtualmachineimages/imagetemplates'
| project id, name, resourceGroup, subscriptionId, tags,
    provisioningState = tostring(properties.provisioningState),
    runState = tostring(properties.lastRunStatus.runState),
    runSubState = tostring(properties.lastRunStatus.runSubState),
    message = tostring(properties.lastRunStatus.message),
    startTime = tostring(properties.lastRunStatus.startTime),
    endTime = tostring(properties.lastRunStatus.endTime)
| order by id asc"""


class GraphUnavailable(Exception):
    """Resource Graph could not answer; the caller lists per subscription instead."""


def _row(row: dict) -> TemplateSummary:
    tags = row.get("tags") or {}
    return TemplateSummary(
        id=row["id"],
        name=row["name"],
        resource_group=row.get("resourceGroup") or _group_of(row["id"]),
        subscription=row.get("subscriptionId") or row["id"].split("/")[2],
        provisioning_state=row.get("provisioningState") or None,
        run_state=row.get("runState") or None,
        run_sub_state=row.get("runSubState") or None,
        message=row.get("message") or None,
        start_time=row.get("startTime") or None,
        end_time=row.get("endTime") or None,
        tags=tuple(sorted((str(k), str(v)) for k, v in tags.items())) if isinstance(tags, dict) else (),
    )


def _group_of(resource_id: str) -> str:
    m = re.search(r"/resourceGroups/([^/]+)", resource_id, re.I)
    return m.group(1) if m else ""


def _seconds(value: str | None) -> float:
    """Resource Graph's quota reset header, hh:mm:ss."""
    try:
        hours, minutes, seconds = (float(part) for part in (value or "0:0:0").split(":"))
        return hours * 3600 + minutes * 60 + seconds
    except ValueError:
        return 1.0


def query_graph(session: AzureSession, subscriptions: list[str] | None, sleep: Callable[[float], None] = time.sleep) -> list[TemplateSummary]:
    from azure.core.exceptions import AzureError
    from azure.core.rest import HttpRequest

    client = session.client("imagebuilder")
    rows: list[TemplateSummary] = []
    token = None
    while True:
        options = {"$top": PAGE, "resultFormat": "objectArray"}
        if token:
            options["$skipToken"] = token
        body = {"query": QUERY, "options": options}
        if subscriptions:
            body["subscriptions"] = subscriptions
        try:
            response = client.send_request(HttpRequest("POST", GRAPH_URL, json=body))
            response.raise_for_status()
        except AzureError as exc:
            raise GraphUnavailable(str(access_error(exc, "querying Azure Resource Graph"))) from None
        page = response.json()
        rows += [_row(r) for r in page.get("data") or []]
        token = page.get("$skipToken")
        if not token:
            return rows
        # Honour the per-user quota before asking for the next page.
        if response.headers.get("x-ms-user-quota-remaining") == "0":
            sleep(min(_seconds(response.headers.get("x-ms-user-quota-resets-after")), MAX_QUOTA_WAIT))


def list_subscriptions(session: AzureSession) -> list[str]:
    from azure.core.rest import HttpRequest

    try:
        response = session.client("imagebuilder").send_request(HttpRequest("GET", "/subscriptions?api-version=2022-12-01"))
        response.raise_for_status()
    except sdk_errors() as exc:
        raise access_error(exc, "listing subscriptions") from None
    return [s["subscriptionId"] for s in response.json().get("value") or [] if s.get("state", "Enabled") == "Enabled"]


def list_per_subscription(session_for: Callable[[str], AzureSession], subscriptions: list[str]) -> list[TemplateSummary]:
    """The fallback: each subscription's templates from the Image Builder API itself."""
    rows = []
    for subscription in subscriptions:
        session = session_for(subscription)
        try:
            for template in session.client("imagebuilder").virtual_machine_image_templates.list():
                document = template.as_dict()
                properties = document.get("properties") or {}
                run = properties.get("lastRunStatus") or {}
                rows.append(
                    _row(
                        {
                            "id": document["id"],
                            "name": document["name"],
                            "tags": document.get("tags") or {},
                            "provisioningState": properties.get("provisioningState"),
                            "runState": run.get("runState"),
                            "runSubState": run.get("runSubState"),
                            "message": run.get("message"),
                            "startTime": run.get("startTime"),
                            "endTime": run.get("endTime"),
                        }
                    )
                )
        except sdk_errors() as exc:
            raise access_error(exc, f"listing image templates in subscription {subscription}") from None
    return rows
