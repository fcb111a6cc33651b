"""Run action.yml's shell steps in a temporary folder, as a GitHub runner would (no runner here).

The harness gives each `run:` step what the runner gives it: `${{ inputs.* }}` and
`${{ github.action_path }}` substituted in `env:` and `working-directory:`, RUNNER_TEMP, a
GITHUB_PATH file whose lines are prepended to PATH for the following steps, and bash with
`-e -o pipefail`. `uses:` steps (actions/setup-python) are not run: the Python running this
harness stands in for the one they would set up. Exits with the first failing step's code.

    python .ci/action_harness.py WORKSPACE [input=value ...]
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

# A CI script, not the package: it talks on stderr like the shell steps it runs.
# ruff: noqa: T201

ACTION = Path(__file__).resolve().parent.parent / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*([a-z_.-]+)\s*\}\}")


def main(argv: list[str]) -> int:
    workspace = Path(argv[0]).resolve()
    given = dict(item.split("=", 1) for item in argv[1:])
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    unknown = set(given) - set(action["inputs"])
    if unknown:
        print(f"harness: action.yml has no input {sorted(unknown)}", file=sys.stderr)
        return 2
    context = {f"inputs.{name}": str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    context.update({f"inputs.{name}": value for name, value in given.items()})
    context["github.action_path"] = str(ACTION.parent)

    def expand(text: str) -> str:
        return EXPRESSION.sub(lambda match: context[match.group(1)], text)

    with tempfile.TemporaryDirectory(prefix="kedge-action-") as temp:
        github_path = Path(temp) / "github_path"
        github_path.touch()
        extra_path: list[str] = []
        for step in action["runs"]["steps"]:
            if "uses" in step:
                print(f"harness: skipping `uses: {step['uses']}` (this Python stands in)", file=sys.stderr)
                continue
            env = dict(os.environ)
            env.update({key: expand(str(value)) for key, value in step.get("env", {}).items()})
            env["RUNNER_TEMP"] = temp
            env["GITHUB_PATH"] = str(github_path)
            env["PATH"] = os.pathsep.join([*extra_path, env["PATH"]])
            cwd = workspace / expand(step.get("working-directory", "."))
            print(f"harness: step {step.get('name', '(unnamed)')!r} in {cwd}", file=sys.stderr)
            script = ["bash", "-e", "-o", "pipefail", "-c", step["run"]]
            done = subprocess.run(script, cwd=cwd, env=env, check=False)
            if done.returncode != 0:
                return done.returncode
            lines = github_path.read_text(encoding="utf-8").splitlines()
            extra_path = list(reversed([line for line in lines if line]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
