"""The house's rules, read from the package's source: no import loop, no module over 400 lines, no borrowed
underscore name, the package's own imports at the top of each file, and a first line that says what a module is for."""

import ast
import pathlib
import subprocess
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "azext_hsmbackup"
ROOT = "azext_hsmbackup"
MAX_LINES = 400


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def own_imports(path):
    return imports_in(path.read_text(), module_name(path), path.name == "__init__.py", set(MODULES))


def imports_in(source, here, is_package, modules):
    """(line, module imported, names taken, at module level) for each import of the package's own modules."""
    tree = ast.parse(source)
    top = {id(node) for node in tree.body}
    package = here if is_package else here.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == ROOT:
                    yield node.lineno, alias.name, [], id(node) in top
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            if source.split(".")[0] != ROOT:
                continue
            names = [a.name for a in node.names]
            submodules = [n for n in names if f"{source}.{n}" in modules]
            for name in submodules:
                yield node.lineno, f"{source}.{name}", [], id(node) in top
            taken = [n for n in names if n not in submodules]
            if taken or not submodules:
                yield node.lineno, source, taken, id(node) in top


def graph():
    """Each module and the modules it imports, at any level of the file (a function-level import is still a loop)."""
    edges = {}
    for name, path in MODULES.items():
        edges[name] = {target for _, target, _, _ in own_imports(path) if target in MODULES and target != name}
    return edges


def loops(edges):
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges[node]):
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

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_package_is_read_whole():
    assert {"azext_hsmbackup.custom", "azext_hsmbackup.model.target", "azext_hsmbackup.operations.job"} <= set(MODULES)
    assert "azext_hsmbackup.model.target" in graph()["azext_hsmbackup._validators"]


def test_no_import_loop_between_the_packages_modules():
    assert loops(graph()) == []


def test_a_loop_is_found_wherever_it_closes():
    """The finder itself: a two-module loop, a three-module loop through a package, and none in a chain."""
    assert loops({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
    assert loops({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert loops({"a": {"b"}, "b": {"c"}, "c": set()}) == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_over_400_lines(name):
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines: split it by what its parts are for"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_opens_with_what_it_is_for(name):
    docstring = ast.get_docstring(ast.parse(MODULES[name].read_text()))
    assert docstring and len(docstring.split()) >= 4, f"{name} needs a first line that says what it is for"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_borrows_another_modules_underscore_name(name):
    borrowed = [
        f"line {line}: {source}.{taken}"
        for line, source, names, _ in own_imports(MODULES[name])
        for taken in names
        if taken.startswith("_") and not taken.startswith("__")
    ]
    assert borrowed == [], f"{name} borrows {borrowed}: make the shared name public in the lower module"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_the_packages_own_imports_sit_at_the_top(name):
    """Only SDK and azure-cli-core imports wait inside functions, for az's start-up time; our own modules are cheap."""
    hidden = [f"line {line}: {source}" for line, source, _, top in own_imports(MODULES[name]) if not top]
    assert hidden == [], f"{name} imports its own package inside a function: {hidden}"


def test_the_rules_see_what_they_forbid():
    """A borrowed underscore name, an import hidden in a function and a relative import are each seen as such."""
    source = (
        "from azext_hsmbackup.model.folders import _secret, parse_folder_name\n"
        "from . import bounds\n"
        "def f():\n"
        "    from azext_hsmbackup import custom\n"
    )
    modules = {"azext_hsmbackup.model.folders", "azext_hsmbackup.model.bounds", "azext_hsmbackup.custom"}
    assert list(imports_in(source, "azext_hsmbackup.model.names", False, modules)) == [
        (1, "azext_hsmbackup.model.folders", ["_secret", "parse_folder_name"], True),
        (2, "azext_hsmbackup.model.bounds", [], True),
        (4, "azext_hsmbackup.custom", [], False),
    ]


HEAVY = ("azure.keyvault", "azure.storage", "azure.mgmt", "azure.core.pipeline", "azure.identity")


def loaded_by(*modules):
    """The modules a fresh Python has once it imported `modules` (az's own core is loaded first, as under az)."""
    probe = f"import sys, azure.cli.core, {', '.join(modules)}\nprint('\\n'.join(sorted(sys.modules)))\n"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=PACKAGE.parent)
    return done.stdout.split()


def test_loading_the_extension_imports_no_sdk_and_no_command_body():
    """What az imports on every command (the loader, its validators and table views) stays light: az's start-up."""
    loaded = loaded_by(
        "azext_hsmbackup", "azext_hsmbackup.commands", "azext_hsmbackup._params", "azext_hsmbackup._help"
    )
    ours = ("azext_hsmbackup.custom", "azext_hsmbackup.operations", "azext_hsmbackup.service")
    assert "azext_hsmbackup._validators" in loaded and "azext_hsmbackup.model.target" in loaded
    assert [m for m in loaded if m.startswith(HEAVY + ours)] == []


def test_the_command_bodies_import_no_sdk_until_they_run():
    """az imports the module of the command it runs even for -h (to read its arguments): the SDK waits for a call."""
    loaded = loaded_by("azext_hsmbackup", "azext_hsmbackup.custom")
    assert "azext_hsmbackup.operations.job" in loaded and "azext_hsmbackup.service.pipeline" in loaded
    assert [m for m in loaded if m.startswith(HEAVY)] == []
