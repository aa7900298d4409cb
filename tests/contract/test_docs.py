"""The README and docs/ as a newcomer meets them: the reference made from the spec, links that
lead somewhere, every deploy parameter explained, and every shell block either run against the
local stack (tests/e2e/test_doc_commands.py) or named here by what runs it instead."""

import re
import shlex
import subprocess

import yaml

import api_reference
from doc_blocks import CLOUD_COMMANDS, KINDS, ROOT, blocks, documents

README = ROOT / "README.md"
SPEC = yaml.safe_load((ROOT / "openapi.yaml").read_text())


def all_blocks():
    return [block for path in documents() for block in blocks(path)]


def operations():
    return [op for item in SPEC["paths"].values() for op in item.values()]


def anchors(path):
    """GitHub's anchors of a Markdown file's headings."""
    found = set()
    for line in path.read_text().splitlines():
        if re.match(r"^#{1,6} ", line):
            text = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return found


def test_the_api_reference_is_what_the_spec_makes():
    assert (ROOT / "docs" / "api.md").read_text() == api_reference.render(SPEC), (
        "docs/api.md is stale: run python scripts/api_reference.py")


def test_every_operation_has_an_example_and_a_summary():
    missing = [op["operationId"] for op in operations() if not op.get("x-codeSamples") or not op.get("summary")]
    assert not missing, missing


def test_every_endpoint_is_in_the_readme_linking_to_its_reference():
    text = README.read_text()
    missing = [op["operationId"] for op in operations()
               if f"](docs/api.md#{op['operationId']})" not in text and op["operationId"] != "page_by_name"]
    assert not missing, missing


def test_every_template_parameter_is_explained_in_the_readme():
    template = (ROOT / "template.yaml").read_text()
    section = template.split("\nParameters:\n", 1)[1].split("\nConditions:", 1)[0]
    parameters = re.findall(r"^  (\w+):$", section, re.M)
    assert len(parameters) > 30, parameters
    table = README.read_text().split("## Deploying to AWS", 1)[1].split("\n## ", 1)[0]
    missing = [name for name in parameters if f"`{name}`" not in table]
    assert not missing, f"parameters the README's deploy table does not explain: {missing}"


def test_the_readme_is_short_and_in_a_newcomers_order():
    text = README.read_text()
    assert len(text.splitlines()) <= 250, len(text.splitlines())
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings == ["The two commands", "A five-minute tour", "Deploying to AWS", "Endpoints",
                        "Going deeper"], headings


def test_every_local_link_and_anchor_resolves():
    broken = []
    for path in documents():
        for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()) + re.findall(r'src="([^"]+)"', path.read_text()):
            if re.match(r"^[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            linked = (path.parent / file).resolve() if file else path
            if not linked.exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{path.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, broken


def test_every_deep_dive_is_linked_from_the_readme():
    text = README.read_text()
    unlinked = [p.name for p in (ROOT / "docs").glob("*.md") if f"](docs/{p.name}" not in text]
    assert not unlinked, unlinked


def test_every_shell_block_says_how_it_is_tested():
    unknown = [f"{block.where}: {block.kind}" for block in all_blocks() if block.kind not in KINDS]
    assert not unknown, unknown
    assert sum(block.kind == "run" for block in all_blocks()) > 30


def test_blocks_run_elsewhere_are_run_by_what_they_name():
    for block in all_blocks():
        if block.kind != "elsewhere":
            continue
        runner = ROOT / block.arg
        assert runner.exists(), f"{block.where}: {block.arg} does not exist"
        for command in block.commands():
            scripts = [word for word in shlex.split(command) if word.startswith("scripts/")]
            assert scripts, f"{block.where}: {command!r} names no script of ours"
            for script in scripts:
                assert script in runner.read_text(), f"{block.where}: {block.arg} does not run {script}"


def test_cloud_blocks_only_reach_the_cloud_through_its_own_tools():
    """What cannot run offline is aws, sam and az; everything else in such a block is ours,
    and runs in the tests (`scripts/env.sh`, `scripts/vapid_keys.py` in scripts/local)."""
    local = {"source", "ensure_venv", "python", "jq", "rustup", "rm"}
    seen = set()
    for block in all_blocks():
        if block.kind != "needs-cloud":
            continue
        programs = {shlex.split(part)[0] for command in block.commands() for part in re.split(r"&&|\|", command)}
        assert programs & CLOUD_COMMANDS, f"{block.where} calls no cloud tool: mark it to run"
        assert programs <= CLOUD_COMMANDS | local, f"{block.where}: {programs - CLOUD_COMMANDS - local}"
        seen |= programs
        for script in re.findall(r"scripts/[\w.]+", block.source):
            assert (ROOT / script).exists(), f"{block.where}: {script}"
    assert {"aws", "sam", "az"} <= seen


def test_slow_blocks_name_scripts_of_ours_that_parse():
    for block in all_blocks():
        if block.kind != "slow":
            continue
        for script in re.findall(r"scripts/[\w.]+", block.source):
            path = ROOT / script
            assert path.exists(), f"{block.where}: {script}"
            if path.suffix == "" and script != "scripts/env.sh":
                subprocess.run(["bash", "-n", str(path)], check=True)
