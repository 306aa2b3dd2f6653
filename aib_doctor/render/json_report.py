"""The JSON contract of DESIGN.md (schema_version 1)."""

from __future__ import annotations

import json

from aib_doctor.model import Evidence, Finding, Report, Timeline

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
        "subject": report.subject,
        "primary": finding_dict(report.primary) if report.primary else None,
        "findings": [finding_dict(f) for f in report.findings],
        "timeline": timeline_dict(report.timeline),
        "error_lines": [evidence_dict(e) for e in report.error_lines],
    }


def render_json(report: Report) -> str:
    return json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n"
