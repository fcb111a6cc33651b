"""`check` reports for code-review tools: SARIF 2.1.0 (GitHub code scanning) and GitLab Code Quality.

Both are JSON documents built from the same findings as the text report. Paths are relative to
the current folder (run from the repository root, as the upload expects); a finding without a
file is placed on the project's config.yaml, because GitHub rejects SARIF results without a
location and GitLab requires `location.path`. Fingerprints hash the code, file and message but not
the line, so a finding keeps its identity when an unrelated edit moves it down the file; two
identical findings in one file get an ordinal so GitLab's per-report uniqueness holds.

SARIF: https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html (GitHub's subset:
docs.github.com "SARIF support for code scanning"). GitLab Code Quality: docs.gitlab.com
"Code Quality" report format (description, check_name, fingerprint, severity, location.path,
location.lines.begin).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from kedge_hasura import __version__
from kedge_hasura.actions.check.codes import CHECKS, CODES, CheckFinding
from kedge_hasura.actions.check.run import CheckReport
from kedge_hasura.findings import Severity
from kedge_hasura.render.human import display_path

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
# GitLab's scale is info < minor < major < critical < blocker; an error is what Hasura rejects,
# which blocks a deploy but not the merge request's other work: major.
_GITLAB_SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


def _where(report: CheckReport, finding: CheckFinding) -> tuple[str, int]:
    path = finding.path if finding.path is not None else report.project / "config.yaml"
    return display_path(path), finding.line or 1


def _fingerprints(report: CheckReport) -> list[str]:
    seen: Counter[str] = Counter()
    prints = []
    for finding in report.findings:
        path, _ = _where(report, finding)
        base = hashlib.sha256("\0".join((finding.code, path, finding.message)).encode()).hexdigest()
        seen[base] += 1
        ordinal = seen[base]
        prints.append(base if ordinal == 1 else hashlib.sha256(f"{base}\0{ordinal}".encode()).hexdigest())
    return prints


def _message(finding: CheckFinding) -> str:
    return finding.message + (f"\nhint: {finding.hint}" if finding.hint else "")


def _sarif_rule(code: str, example: CheckFinding) -> dict[str, Any]:
    """A rule from the code catalogue; codes `check` takes over from `status` (missing-down,
    non-transactional, ...) are not in it, so they are described by their first finding."""
    known = CODES.get(code)
    check = known.check if known else example.check
    return {
        "id": code,
        "name": code,
        "shortDescription": {"text": CHECKS.get(check, check)},
        "help": {"text": known.hint if known else (example.hint or example.message)},
        "defaultConfiguration": {"level": _SARIF_LEVEL[known.severity if known else example.severity]},
        "properties": {"tags": [check]},
    }


def render_sarif(report: CheckReport) -> str:
    """A SARIF 2.1.0 log with one run: every finding code used is a rule, every finding a result."""
    first = {finding.code: finding for finding in reversed(report.findings)}  # first finding per code
    codes = sorted(first)
    rule_index = {code: index for index, code in enumerate(codes)}
    rules = [_sarif_rule(code, first[code]) for code in codes]
    results = []
    for finding, fingerprint in zip(report.findings, _fingerprints(report), strict=True):
        path, line = _where(report, finding)
        results.append(
            {
                "ruleId": finding.code,
                "ruleIndex": rule_index[finding.code],
                "level": _SARIF_LEVEL[finding.severity],
                "message": {"text": _message(finding)},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": path},
                            "region": {"startLine": line},
                        }
                    }
                ],
                "partialFingerprints": {"kedgeFinding/v1": fingerprint},
            }
        )
    log: dict[str, Any] = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "kedge-hasura", "version": __version__, "rules": rules}},
                "results": results,
                "invocations": [{"executionSuccessful": True, "exitCode": 0 if report.ok else 1}],
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def render_gitlab(report: CheckReport) -> str:
    """A GitLab Code Quality report: a JSON array with one issue per finding."""
    issues = []
    for finding, fingerprint in zip(report.findings, _fingerprints(report), strict=True):
        path, line = _where(report, finding)
        issues.append(
            {
                "type": "issue",
                "check_name": finding.code,
                "description": _message(finding),
                "categories": ["Bug Risk" if finding.severity is Severity.ERROR else "Style"],
                "severity": _GITLAB_SEVERITY[finding.severity],
                "fingerprint": fingerprint,
                "location": {"path": path, "lines": {"begin": line}},
            }
        )
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
