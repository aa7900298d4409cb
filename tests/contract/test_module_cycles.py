"""No module imports one that imports it back: in the library, the emulator and the test
support crate, each `use` of another module of the same crate is an edge, and no two modules
may have edges both ways. A module's `pub use` of its own children is its map, not an import.

A path is resolved to the module that holds it (`crate::api::input::Query` is `api::input`,
`super::Shared` in `routes/chat.rs` is `routes`), so an import through a parent's re-export
counts as an import of that parent.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CRATES = [ROOT / "src", ROOT / "emulator" / "src", ROOT / "tests" / "support" / "src"]
USE = re.compile(r"^\s*(pub(?:\([a-z]+\))?\s+)?use\s+([^;]+);", re.M)


def modules(src):
    """Each module's path (a tuple) and its file."""
    found = {}
    for path in src.rglob("*.rs"):
        if "bin" in path.relative_to(src).parts or path.name == "main.rs":
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
    elif segments and segments[0] == "super":
        base, rest = here, segments
        while rest and rest[0] == "super":
            base, rest = base[:-1], rest[1:]
    else:
        return None
    target = base
    for segment in rest:
        if base + (segment,) in known or target + (segment,) in known:
            target = target + (segment,)
        else:
            break
    return target


def edges(src):
    known = modules(src)
    found = set()
    for here, path in known.items():
        # Tests inside a file may reach anywhere; only the module's own code counts.
        text = path.read_text().split("#[cfg(test)]")[0]
        for public, tree in USE.findall(text):
            for used in expand(tree):
                target = resolve(used, here, known)
                if target is None or target == here:
                    continue
                is_child = target[: len(here)] == here and len(target) > len(here)
                if public and is_child:
                    continue
                found.add((here, target))
    return found


def test_no_module_imports_one_that_imports_it_back():
    cycles = []
    for src in CRATES:
        graph = edges(src)
        for a, b in graph:
            if (b, a) in graph and a < b:
                cycles.append(f"{src.relative_to(ROOT)}: {'::'.join(a) or 'crate'} <-> {'::'.join(b) or 'crate'}")
    assert not cycles, "\n".join(sorted(cycles))
