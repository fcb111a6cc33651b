"""Renderings of a `check` report: human text, GitHub Actions annotations, JUnit XML
(SARIF and GitLab Code Quality are in ci_reports.py).

GitHub workflow commands follow actions/toolkit (`command.ts`): data escapes `%`, CR and LF;
property values also escape `:` and `,`, so a path or title can never end the property list early.
JUnit XML is built with ElementTree (escaping done by the library) after removing the characters
XML 1.0 cannot hold at all: one test case per check, a `failure` holding its findings at or above
--fail-on, `skipped` for checks that could not run, and lesser findings in `system-out`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter

from rich.markup import escape

from kedge_hasura.actions.check.codes import CheckFinding
from kedge_hasura.actions.check.run import CheckReport, CheckRun
from kedge_hasura.findings import Finding, Severity
from kedge_hasura.render.human import display_path, render_findings, render_table

_ANNOTATION = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
# Characters XML 1.0 does not allow, even escaped (all C0 controls but tab, LF and CR; surrogates).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_SUITE = "kedge-hasura check"


def _counts(findings: list[CheckFinding]) -> str:
    counts = {severity: sum(1 for f in findings if f.severity is severity) for severity in Severity}
    return ", ".join(f"{counts[s]} {s.value}{'s' if counts[s] != 1 else ''}" for s in Severity)


def _verdict(report: CheckReport) -> str:
    state = "ok" if report.ok else "failed"
    ignored = f"; {report.ignored} ignored" if report.ignored else ""
    return f"check: {state} ({_counts(report.findings)}; fail on {report.fail_on.value}{ignored})"


def _run_state(run: CheckRun) -> str:
    counts = [
        f"{n} {word}{'s' if n != 1 else ''}"
        for n, word in ((run.errors, "error"), (run.warnings, "warning"), (run.infos, "info"))
        if n
    ]
    detail = f" ({', '.join(counts)})" if counts else ""
    if run.status == "skipped":
        return f"skipped: {run.reason}" if run.reason else "skipped"
    return f"{run.status}{detail}"


def render_check(report: CheckReport) -> list[str]:
    databases = ", ".join(report.databases) or "none replayed"
    mode = "online" if report.online else "offline"
    lines = [f"Checked {escape(display_path(report.project))} (databases: {escape(databases)}; {mode})"]
    if report.findings:
        lines.append("")
        findings: list[Finding] = list(report.findings)
        lines.extend(render_findings(findings))
    lines.append("")
    lines.extend(render_table(["CHECK", "RESULT"], [[run.name, _run_state(run)] for run in report.checks]))
    lines.append("")
    lines.append(escape(_verdict(report)))
    return lines


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as actions/toolkit's escapeData does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value, escaped as actions/toolkit's escapeProperty does."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


# GitHub shows at most this many annotations of each level per step and drops the rest silently.
GITHUB_ANNOTATIONS_PER_LEVEL = 10


def render_github(report: CheckReport) -> str:
    """One `::error|warning|notice file=...,line=...,title=...::message` line per finding.

    Past GitHub's 10 annotations of a level, findings are printed as plain log lines instead, and
    a closing line says how many were not annotated and where the full report is.
    """
    lines = []
    shown: Counter[Severity] = Counter()
    for finding in report.findings:
        if shown[finding.severity] >= GITHUB_ANNOTATIONS_PER_LEVEL:
            lines.append(_plain(finding))
            continue
        shown[finding.severity] += 1
        properties = []
        if finding.path is not None:
            properties.append(f"file={escape_property(display_path(finding.path))}")
            if finding.line:
                properties.append(f"line={finding.line}")
        properties.append(f"title={escape_property(f'{finding.code} ({finding.check})')}")
        message = finding.message + (f"\nhint: {finding.hint}" if finding.hint else "")
        lines.append(f"::{_ANNOTATION[finding.severity]} {','.join(properties)}::{escape_data(message)}")
    cut = Counter(finding.severity for finding in report.findings) - shown
    if cut:
        counts = ", ".join(f"{cut[s]} {s.value}{'s' if cut[s] != 1 else ''}" for s in Severity if cut[s])
        lines.append(
            f"not annotated: {counts} (GitHub shows {GITHUB_ANNOTATIONS_PER_LEVEL} annotations of each "
            "level per step); they are listed above, and --output sarif or junit reports every finding"
        )
    lines.append(_verdict(report))
    return "\n".join(lines) + "\n"


def render_junit(report: CheckReport) -> str:
    """A JUnit XML document: one test case per check."""
    failures = sum(1 for run in report.checks if run.status == "failed")
    skipped = sum(1 for run in report.checks if run.status == "skipped")
    totals = {
        "tests": str(len(report.checks)),
        "failures": str(failures),
        "errors": "0",
        "skipped": str(skipped),
        "time": f"{report.timings.get('total', 0.0):.3f}",
    }
    suites = ET.Element("testsuites", {"name": _SUITE, **totals})
    suite = ET.SubElement(suites, "testsuite", {"name": _SUITE, **totals})
    for run in report.checks:
        case = ET.SubElement(
            suite, "testcase", {"classname": "kedge-hasura.check", "name": run.name, "time": "0"}
        )
        mine = [f for f in report.findings if f.check == run.name]
        failing = [f for f in mine if f.severity.rank >= report.fail_on.rank]
        others = [f for f in mine if f.severity.rank < report.fail_on.rank]
        if run.status == "skipped":
            ET.SubElement(case, "skipped", {"message": _xml_text(run.reason or "not run")})
        if failing:
            failure = ET.SubElement(
                case,
                "failure",
                {
                    "message": _xml_text(f"{run.description}: {_counts(failing)}"),
                    "type": failing[0].severity.value,
                },
            )
            failure.text = _xml_text("\n".join(_plain(f) for f in failing))
        if others:
            ET.SubElement(case, "system-out").text = _xml_text("\n".join(_plain(f) for f in others))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _plain(finding: CheckFinding) -> str:
    location = display_path(finding.path)
    if finding.line:
        location = f"{location}:{finding.line}"
    text = f"{finding.severity.value} [{finding.code}] {location + ': ' if location else ''}{finding.message}"
    return text + (f"\n  hint: {finding.hint}" if finding.hint else "")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)
