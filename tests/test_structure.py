"""The shape of the code: no import cycles, a light models module, small modules and simple functions."""

import ast
import re
import subprocess
import sys

from tests.helpers import ROOT

PACKAGE = ROOT / "leancoffee"


def module_name(path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path, modules: set[str]) -> set[str]:
    """The package's modules that a module imports, at its top or inside a function alike."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from leancoffee import metrics` names the module metrics, not the package.
            found |= {f"{node.module}.{alias.name}" for alias in node.names} | {node.module}
    return {name for name in found if name in modules}


def test_the_package_has_no_import_cycles():
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {name: imports_of(path, set(paths)) - {name} for name, path in paths.items()}
    cycles = []

    def visit(name, trail):
        if name in trail:
            cycles.append(trail[trail.index(name):] + [name])
            return
        for nxt in sorted(graph[name]):
            if nxt not in done:
                visit(nxt, trail + [name])
        done.add(name)

    done: set[str] = set()
    for name in sorted(graph):
        visit(name, [])
    assert cycles == [], "\n".join(" → ".join(c) for c in cycles)


def test_importing_the_models_loads_no_app_server_or_blueprint():
    probe = ("import sys, leancoffee.models; "
             "print(sorted(m for m in sys.modules if m == 'gevent' or m.startswith(('leancoffee.web', 'leancoffee.live', "
             "'leancoffee.factory', 'flask_sock')) ))")
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]", loaded


def test_every_kind_of_change_has_its_fragments_decided_in_one_table():
    from leancoffee.live.fanout import FRAGMENTS, WHOLE_BOARD
    from leancoffee.services import changes

    kinds = {value for name, value in vars(changes).items() if name.isupper() and isinstance(value, str)}
    from leancoffee.live.closing import ONLY_CLOSE

    assert kinds - ONLY_CLOSE == set(FRAGMENTS) | WHOLE_BOARD  # signing out: sockets close instead
    assert not set(FRAGMENTS) & WHOLE_BOARD


def test_no_function_is_too_complex_and_no_module_too_long():
    from radon.complexity import cc_visit
    from radon.visitors import Class

    too_complex, too_long = [], []
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text()
        blocks = [m for b in cc_visit(source) for m in (b.methods if isinstance(b, Class) else [b])]
        too_complex += [f"{module_name(path)}.{b.name}: {b.complexity}" for b in blocks if b.complexity > 15]
        if source.count("\n") > 300:
            too_long.append(f"{module_name(path)}: {source.count(chr(10))} lines")
    assert too_complex == [] and too_long == []


def _logs(node: ast.AST) -> bool:
    """Whether a block calls a logger (`log.*`, `logger.*`), the app's `event(...)`, or a method named `_log_*`."""
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            func = call.func
            if isinstance(func, ast.Name) and func.id == "event":
                return True
            if isinstance(func, ast.Attribute) and func.attr.startswith("_log_"):
                return True
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("log", "logger"):
                return True
    return False


def test_no_exception_is_swallowed_silently():
    """An `except Exception` (or a bare `except`) logs or re-raises what it catches; narrower ones name what they expect."""
    silent = []
    for path in sorted((ROOT / "leancoffee").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ExceptHandler):
                broad = node.type is None or (isinstance(node.type, ast.Name) and node.type.id in ("Exception", "BaseException"))
                raises = any(isinstance(n, ast.Raise) for statement in node.body for n in ast.walk(statement))
                if broad and not raises and not any(_logs(statement) for statement in node.body):
                    silent.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert silent == []


def test_templates_build_every_url_from_the_routes():
    """No literal path in a template: a route moved in one place moves everywhere (url_for)."""
    # An attribute starting with a slash, a quoted path of one of our prefixes, or a path glued to a variable.
    literal = re.compile(r"""(?:href|src|action|hx-post|hx-get|hx-ws:connect)=["']/"""
                         r"""|["']/(?:m|s|d|static|room|meetings|logout|device)\b|~ ["']/""")
    found = [f"{path.name}:{n}" for path in sorted((ROOT / "templates").glob("*.html"))
             for n, line in enumerate(path.read_text().splitlines(), 1) if literal.search(line)]
    assert found == []
