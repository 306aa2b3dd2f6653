"""Renderers: pure functions from a Report to text, JSON or Markdown."""

from __future__ import annotations

from enum import Enum

from aib_doctor.model import Report
from aib_doctor.render.json_report import render_json
from aib_doctor.render.markdown_report import render_markdown
from aib_doctor.render.text_report import render_text


class Format(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


def render(report: Report, fmt: Format) -> str:
    if fmt is Format.json:
        return render_json(report)
    if fmt is Format.markdown:
        return render_markdown(report)
    return render_text(report).plain
