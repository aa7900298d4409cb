"""Imports run one way, and every crate's map names every module.

In the library, the emulator and the test support crate, every path to another module of the
same crate is an edge: a `use`, and a path written inline in code (`crate::x::y`, `super::z`);
comments and docs are prose. No set of modules may reach each other in a circle of any length. A module's
`pub use` of its own children is its map, not an import, and a module reaching into its own
children is not a circle with them. In `scripts/`, each `import` of another script is an edge,
held to the same rule.

A path is resolved to the module that holds it (`crate::api::input::Query` is `api::input`,
`super::Shared` in `routes/chat.rs` is `routes`), so an import through a parent's re-export
counts as an import of that parent.
"""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CRATES = [ROOT / "src", ROOT / "crates" / "acs-core" / "src", ROOT / "emulator" / "src",
          ROOT / "tests" / "support" / "src"]
USE = re.compile(r"^\s*(pub(?:\([a-z]+\))?\s+)?use\s+([^;]+);", re.M)
INLINE = re.compile(r"(?<![\w:])((?:crate|super)(?:::\w+)+)")
COMMENT = re.compile(r"^\s*//.*$", re.M)
PY_IMPORT = re.compile(r"^\s*(?:from\s+(\w+)\s+import|import\s+(\w+))", re.M)


def modules(src):
    """Each module's path (a tuple) and its file."""
    found = {}
    for path in src.rglob("*.rs"):
        if "bin" in path.relative_to(src).parts or path.name == "main.rs" or "testdata" in path.parts:
            continue
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] in {"mod", "lib"}:
            parts = parts[:-1]
        found[tuple(parts)] = path
    return found


def expand(tree):
    """`a::{b, c::{d}}` as the paths `a::b` and `a::c::d`."""
    tree = re.sub(r"\s+", "", tree)
    brace = tree.find("{")
    if brace < 0:
        return [tree]
    head, body = tree[:brace], tree[brace + 1 : tree.rfind("}")]
    depth, start, items = 0, 0, []
    for i, c in enumerate(body):
        depth += c == "{"
        depth -= c == "}"
        if c == "," and depth == 0:
            items.append(body[start:i])
            start = i + 1
    items.append(body[start:])
    return [path for item in items if item for path in expand(head + item)]


def resolve(path, here, known):
    """The module of the crate that `path`, used in module `here`, names; `None` outside."""
    segments = [s.split(" as ")[0] for s in path.split("::") if s not in ("", "self")]
    if segments and segments[0] == "crate":
        base, rest = (), segments[1:]
    elif path.startswith("self::"):
        base, rest = here, segments
    elif segments and segments[0] == "super":
        base, rest = here, segments
        while rest and rest[0] == "super":
            base, rest = base[:-1], rest[1:]
    else:
        return None
    target = base
    for segment in rest:
        if target + (segment,) in known:
            target = target + (segment,)
        else:
            break
    return target


def own_code(path):
    """The module's own code: tests inside a file may reach anywhere."""
    return path.read_text().split("#[cfg(test)]")[0]


def rust_edges(src):
    known = modules(src)
    found = set()
    for here, path in known.items():
        text = COMMENT.sub("", own_code(path))
        uses = [(bool(public), used) for public, tree in USE.findall(text) for used in expand(tree)]
        inline = [(False, used) for used in INLINE.findall(USE.sub("", text))]
        for public, used in uses + inline:
            first = used.split("::")[0].strip()
            if first not in ("crate", "super", "self") and here + (first,) in known:
                used = "self::" + used
            target = resolve(used, here, known)
            if target is None or target == here:
                continue
            is_child = target[: len(here)] == here and len(target) > len(here)
            if is_child and public:
                continue
            found.add((here, target))
    return known, found


def python_edges(folder):
    scripts = {path.stem: path for path in folder.glob("*.py")}
    found = set()
    for name, path in scripts.items():
        for a, b in PY_IMPORT.findall(path.read_text()):
            target = a or b
            if target in scripts and target != name:
                found.add(((name,), (target,)))
    return set((name,) for name in scripts), found


def circles(nodes, edges):
    """Each strongly connected set of two or more modules (Tarjan's algorithm)."""
    graph = {node: sorted(b for a, b in edges if a == node) for node in nodes}
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, []):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def named(group):
    return " -> ".join("::".join(m) or "crate" for m in group)


def test_circles_are_found_however_long_and_however_a_path_is_written():
    nodes = {("a",), ("b",), ("c",)}
    assert circles(nodes, {(("a",), ("b",)), (("b",), ("c",)), (("c",), ("a",))}) == [
        [("a",), ("b",), ("c",)]]
    assert circles(nodes, {(("a",), ("b",)), (("b",), ("c",))}) == []
    assert INLINE.findall("let x = crate::files::MAX; f(super::super::y::Z)") == [
        "crate::files::MAX", "super::super::y::Z"]


def test_no_modules_import_each_other_in_a_circle():
    found = []
    for src in CRATES:
        known, edges = rust_edges(src)
        parents_of_children = {(a, b) for a, b in edges if b[: len(a)] == a}
        children_of_parents = {(a, b) for a, b in edges if a[: len(b)] == b}
        # A parent using its child, and the child naming its parent's items, is how a family of
        # modules is built; it is a circle only through a third module.
        family = {(a, b) for a, b in children_of_parents if (b, a) in parents_of_children}
        for group in circles(set(known), edges - family):
            found.append(f"{src.relative_to(ROOT)}: {named(group)}")
    nodes, edges = python_edges(ROOT / "scripts")
    for group in circles(nodes, edges):
        found.append(f"scripts: {named(group)}")
    assert not found, "\n".join(found)


def declared(root):
    return re.findall(r"^pub mod (\w+);", root.read_text(), re.M)


def test_every_crate_s_map_names_each_of_its_modules():
    missing = []
    for root in [src / "lib.rs" for src in CRATES]:
        text = root.read_text()
        doc = "\n".join(line for line in text.splitlines() if line.startswith("//!"))
        for module in declared(root):
            if f"[`{module}`]" not in doc:
                missing.append(f"{root.relative_to(ROOT)}: {module}")
    assert not missing, f"modules missing from their crate's //! map: {missing}"


def test_the_layout_in_adding_an_endpoint_names_each_module_of_the_library():
    guide = (ROOT / "docs" / "adding-an-endpoint.md").read_text()
    layout = guide.split("## Layout", 1)[1].split("\n## ", 1)[0]
    missing = [m for m in declared(ROOT / "src" / "lib.rs") if not re.search(rf"\b{m}(/|\.rs)", layout)]
    assert not missing, f"docs/adding-an-endpoint.md's layout omits: {missing}"


def dependencies(crate):
    manifest = tomllib.loads((crate / "Cargo.toml").read_text())
    return set(manifest.get("dependencies", {}))


def test_the_ground_floor_cannot_see_lambda_or_aws_and_the_emulator_builds_without_the_product():
    lambda_or_aws = {d for d in dependencies(ROOT / "crates" / "acs-core")
                     if d.startswith(("lambda", "aws-")) or d == "acs-chat-api"}
    assert not lambda_or_aws, f"acs-core depends on {lambda_or_aws}"
    assert "acs-chat-api" not in dependencies(ROOT / "emulator"), "the emulator links the product"
