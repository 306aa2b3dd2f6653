"""Webhook notifications: one Markdown text that Slack and Teams incoming webhooks both accept.

Slack incoming webhooks and Teams (Office 365 connector and Workflows "post to a channel when a
webhook request is received" with a text body) read the `text` field; Teams also takes `title`.
Posting is retried with backoff; a notification is marked sent only once a webhook accepted it. Payloads are
redacted when made (they are stored until sent) and again when posted.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Literal

from aib_doctor.core.redact import redacted
from aib_doctor.model import Report, TemplateSummary

Delivery = Literal["sent", "refused", "failed", "unreachable"]

ATTEMPTS = 4
NETWORK_ATTEMPTS = 2
"""Tries for a host that does not answer (DNS, refused, timeout): a cron run must not wait minutes per notification."""
TIMEOUT = 15
BACKOFF = 2.0


def failure_payload(template: TemplateSummary, report: Report, evidence_path: str | None) -> dict:
    primary = report.primary
    lines = [f"**Image Builder template `{template.name}` failed** ({template.resource_group}, subscription {template.subscription})", ""]
    if primary:
        lines += [f"**{primary.rule} {primary.name}**: {primary.title}", "", f"**Cause.** {primary.cause}", "", f"**Fix.** {primary.fix}"]
        if primary.evidence:
            lines += ["", "```", *(e.text[:300] for e in primary.evidence), "```"]
    else:
        lines.append("No known error signature explains this failure; see the report.")
    if evidence_path:
        lines += ["", f"Evidence kept in `{evidence_path}`."]
    text = "\n".join(lines)
    return redacted({"title": f"AIB build failed: {template.name}", "text": text, "kind": "new_failure", "template": template.id})


def recovery_payload(template: TemplateSummary) -> dict:
    text = f"**Image Builder template `{template.name}` recovered**: its last build succeeded ({template.resource_group})."
    return {"title": f"AIB build recovered: {template.name}", "text": text, "kind": "recovered", "template": template.id}


def post(url: str, payload: dict, sleep: Callable[[float], None] = time.sleep) -> Delivery:
    """Post once the webhook accepts it (2xx). A 5xx or 429 is retried with backoff; a host that does not
    answer is tried twice, then "unreachable": the caller keeps the rest queued instead of waiting on each."""
    body = json.dumps(redacted({"title": payload["title"], "text": payload["text"]})).encode("utf-8")
    network_failures = 0
    for attempt in range(ATTEMPTS):
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                if 200 <= response.status < 300:
                    return "sent"
        except urllib.error.HTTPError as exc:
            if exc.code < 500 and exc.code != 429:
                return "refused"  # the webhook refuses this payload; retrying will not change that
        except (urllib.error.URLError, OSError):
            network_failures += 1
            if network_failures >= NETWORK_ATTEMPTS:
                return "unreachable"
        if attempt < ATTEMPTS - 1:
            sleep(BACKOFF * (2**attempt))
    return "failed"
