"""The report as JSON: the contract scripts parse (schema_version 1; keys are added, never renamed)."""

from __future__ import annotations

import json

from aib_doctor.model import Evidence, Finding, Report, Subject, Timeline

SCHEMA_VERSION = 1


def evidence_dict(evidence: Evidence) -> dict:
    return {"source": evidence.source, "line": evidence.line, "text": evidence.text}


def finding_dict(finding: Finding) -> dict:
    return {
        "rule": finding.rule,
        "name": finding.name,
        "category": finding.category,
        "severity": finding.severity,
        "confidence": finding.confidence,
        "basis": finding.basis,
        "title": finding.title,
        "cause": finding.cause,
        "fix": finding.fix,
        "evidence": [evidence_dict(e) for e in finding.evidence],
        "docs": list(finding.docs),
    }


def subject_dict(subject: Subject) -> dict:
    """A file or bundle states only what is known of it; a template read from Azure states every field, null or not."""
    out: dict = {}
    if subject.azure is None:
        for key in ("kind", "file", "folder", "id", "name"):
            if getattr(subject, key) is not None:
                out[key] = getattr(subject, key)
    else:
        azure = subject.azure
        out = {
            "kind": subject.kind,
            "name": subject.name,
            "resource_group": azure.resource_group,
            "subscription": azure.subscription,
            "id": subject.id,
            "vm_size": azure.vm_size,
            "build_timeout_minutes": azure.build_timeout_minutes,
            "provisioning_state": azure.provisioning_state,
            "run_state": azure.run_state,
            "run_sub_state": azure.run_sub_state,
            "start_time": azure.start_time,
            "end_time": azure.end_time,
        }
    if subject.outputs is not None:
        out["outputs"] = [{"name": o.name, "artifactId": o.artifact_id, "artifactUri": o.artifact_uri} for o in subject.outputs]
    if subject.log is not None:
        log = subject.log
        out["log"] = {
            "account": log.account,
            "staging_resource_group": log.staging_resource_group,
            "found_by": log.found_by,
            "blob": log.blob,
            "also": list(log.also),
            "size": log.size,
            "read_from": log.read_from,
            "bytes_read": log.bytes_read,
        }
    return out


def timeline_dict(timeline: Timeline) -> dict:
    step = timeline.failed_step
    return {
        "operation_id": timeline.operation_id,
        "os": timeline.os,
        "communicator": timeline.communicator,
        "phases": list(timeline.phases),
        "customizers": [
            {
                "name": c.name,
                "type": c.type,
                "index": c.index,
                "started": c.started,
                "ended": c.ended,
                "seconds": c.seconds,
                "status": c.status,
            }
            for c in timeline.customizers
        ],
        "failed_step": None if step is None else {"phase": step.phase, "customizer": step.customizer, "description": step.description},
    }


def report_dict(report: Report) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "status": report.status,
        "subject": subject_dict(report.subject),
        "primary": finding_dict(report.primary) if report.primary else None,
        "findings": [finding_dict(f) for f in report.findings],
        "timeline": timeline_dict(report.timeline),
        "error_lines": [evidence_dict(e) for e in report.error_lines],
    }


def render_json(report: Report) -> str:
    return json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n"
