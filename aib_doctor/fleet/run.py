"""`check` wired to Azure: sessions per subscription, discovery with its fallback, diagnosis with evidence."""

from __future__ import annotations

from pathlib import Path

from aib_doctor.cache import user_cache
from aib_doctor.core.catalog import Catalog, load_catalog
from aib_doctor.core.scan import pattern_table
from aib_doctor.fleet.check import Diagnosed, Scope, run_check
from aib_doctor.fleet.state import StateStore
from aib_doctor.model import CheckResult

NO_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


def default_state_folder() -> Path:
    import platformdirs

    return platformdirs.user_state_path("aib-doctor")


def run_fleet_check(
    scope: Scope,
    state: Path | None,
    wait: float,
    notify_url: str | None,
    prometheus: Path | None,
    evidence_keep: int,
    auth_mode: str,
    catalog: Catalog | None = None,
) -> CheckResult:
    """`catalog`: the built-in one unless the caller adds rule packs to it."""
    from aib_doctor.azure import AzureSession, cli_default_subscription, default_credential, resolve_subscription
    from aib_doctor.azure.graph import GraphUnavailable, list_per_subscription, list_subscriptions, query_graph
    from aib_doctor.azure.templates import ArmTemplateSource
    from aib_doctor.template.diagnosis import diagnose_template, save_logs

    if not scope.subscriptions and not scope.all_subscriptions:
        scope = Scope((resolve_subscription(None),), False, scope.resource_groups, scope.templates, scope.exclude, scope.exclude_tags)
    credential = default_credential()
    sessions: dict[str, AzureSession] = {}

    def session_for(subscription: str) -> AzureSession:
        if subscription not in sessions:
            sessions[subscription] = AzureSession(credential, subscription)
        return sessions[subscription]

    home = session_for(scope.subscriptions[0] if scope.subscriptions else (cli_default_subscription() or NO_SUBSCRIPTION))

    def discover():
        subscriptions = list(scope.subscriptions) or None
        try:
            return query_graph(home, subscriptions), "Resource Graph"
        except GraphUnavailable as exc:
            listed = list(scope.subscriptions) or list_subscriptions(home)
            return list_per_subscription(session_for, listed), f"per-subscription listing; Resource Graph unavailable: {exc}"

    catalog = catalog or load_catalog(user_cache())
    table = pattern_table(catalog)

    def diagnose(summary) -> Diagnosed:
        source = ArmTemplateSource(session_for(summary.subscription), auth_mode)
        result = diagnose_template(source, summary.resource_group, summary.name, catalog, table)
        located = result.located
        save = (lambda folder: save_logs(located, folder)) if located is not None and located.selected else None
        return Diagnosed(result.report, save)

    with StateStore(state or default_state_folder(), wait) as store:
        return run_check(scope, discover, diagnose, store, notify_url, prometheus, evidence_keep)
