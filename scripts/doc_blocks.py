"""The shell blocks of README.md and docs/*.md, and running them against a local stack, so that
a newcomer's copy and paste works (tests/e2e/test_doc_commands.py runs them; tests/contract/test_docs.py
checks the rest).

A fenced `sh` block is run, in order with the other blocks of its file, in one bash session
(as one terminal would), with `set -euo pipefail` and curl failing on any HTTP error. The last
line before a block may say otherwise:

    <!-- doc-test: expect-errors -->          run; each error code its comments show must come
    <!-- doc-test: watch-only -->             run against `cargo lambda watch` only (PORT)
    <!-- doc-test: elsewhere <path> -->       run by <path> (a script or test that names it)
    <!-- doc-test: needs-cloud -->            calls AWS or Azure (aws, sam, az): not offline
    <!-- doc-test: slow -->                   a long script of ours (scripts/bench): not in CI

    python scripts/doc_blocks.py FILE...      # runs FILE's blocks against `bash scripts/local
                                              # --log-dir /tmp/acs-local` (API, LOGS override)
"""

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^<!-- doc-test: ([a-z-]+)(?: (\S+))? -->$")
KINDS = {"run", "expect-errors", "watch-only", "elsewhere", "needs-cloud", "slow"}
# What the README and docs may show that needs an account somewhere (needs-cloud blocks).
CLOUD_COMMANDS = {"aws", "sam", "az"}
SEPARATOR = "@@doc-block "


@dataclass
class Block:
    path: Path
    line: int
    kind: str
    arg: str | None
    source: str

    @property
    def where(self):
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    def commands(self):
        """Its commands, continuation lines joined, comments and blank lines left out."""
        joined, out = "", []
        for raw in self.source.splitlines():
            line = raw.strip()
            if not joined and (not line or line.startswith("#")):
                continue
            joined += " " + line.rstrip("\\")
            if not line.endswith("\\"):
                out.append(joined.split(" #", 1)[0].strip())
                joined = ""
        return out

    def error_codes(self):
        """The error codes the block's comments show (`# {"error":{"code":"x",...`)."""
        return re.findall(r'^\s*#.*"code":"([a-z_]+)"', self.source, re.M)


def documents():
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(path):
    lines = Path(path).read_text().splitlines()
    found, index = [], 0
    while index < len(lines):
        fence = lines[index].strip()
        if fence.startswith("```"):
            language = fence[3:].strip()
            start = index
            index += 1
            body = []
            while not lines[index].strip().startswith("```"):
                body.append(lines[index])
                index += 1
            if language == "sh":
                before = next((lines[i].strip() for i in range(start - 1, -1, -1) if lines[i].strip()), "")
                marker = MARKER.match(before)
                kind, arg = (marker.group(1), marker.group(2)) if marker else ("run", None)
                found.append(Block(Path(path), start + 1, kind, arg, "\n".join(body) + "\n"))
        index += 1
    return found


def runs(block, watch):
    """Whether the block is run against a stack (`watch`: served by `cargo lambda watch`)."""
    return block.kind in {"run", "expect-errors"} or (watch and block.kind == "watch-only")


def session(file_blocks, watch):
    """One bash script running the blocks to run, each announced on stdout."""
    parts = ["set -euo pipefail", "cd " + str(ROOT)]
    for block in file_blocks:
        if not runs(block, watch):
            continue
        fail = "" if block.kind == "expect-errors" else "--fail-with-body "
        parts += [f"printf '\\n{SEPARATOR}%s\\n' '{block.where}'",
                  f'curl() {{ command curl {fail}--show-error "$@"; }}', block.source]
    return "\n".join(parts) + "\n"


def run(path, env=None, watch=True, timeout=300):
    """Runs `path`'s blocks; answers the exit status, each block's output by `where`, and
    stderr."""
    file_blocks = blocks(path)
    done = subprocess.run(["bash", "-c", session(file_blocks, watch)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})
    outputs = {}
    for chunk in done.stdout.split("\n" + SEPARATOR)[1:]:
        where, _, output = chunk.partition("\n")
        outputs[where] = output
    return done.returncode, outputs, done.stderr


def main():
    failed = False
    for path in sys.argv[1:]:
        status, outputs, errors = run(Path(path).resolve())
        for where, output in outputs.items():
            print(f"== {where}\n{output}")
        if status:
            print(errors, file=sys.stderr)
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
