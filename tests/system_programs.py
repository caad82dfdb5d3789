"""The programs the code and tests may run, from requirements/debian.txt, and how to find the
ones they do run: statically in the sources, and at run time through Python's audit hooks."""

import ast
import os
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_LIST = ROOT / "requirements" / "debian.txt"

# Calls whose first argument names a program (or is an argv list that starts with one): the
# subprocess functions, shutil.which, and the project's own thin wrappers around them. ``run``
# and ``call`` count only as ``subprocess.run``/``subprocess.call``: a bare ``run(...)`` is
# usually one of our own functions.
_PROGRAM_CALLS = frozenset(
    {"Popen", "check_output", "check_call", "create_subprocess_exec", "which", "_run_tool", "_run"}
)
_SUBPROCESS_ONLY = frozenset({"run", "call"})

# Parameters that take a program's name, whose defaults are therefore programs run.
_PROGRAM_PARAMETERS = frozenset({"binary", "program", "executable"})


def listed_programs(path: Path = PACKAGE_LIST) -> dict[str, str]:
    """Each listed program, with the Debian package that provides it."""
    programs: dict[str, str] = {}
    for line in path.read_text("utf-8").splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2:
            for program in words[1:]:
                programs[program] = words[0]
    return programs


def _first_program(arg: ast.expr) -> str | None:
    if isinstance(arg, ast.List | ast.Tuple) and arg.elts:
        arg = arg.elts[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value:
        return Path(arg.value).name
    return None


def _runs_program(func: ast.expr) -> bool:
    if isinstance(func, ast.Attribute):
        if func.attr in _SUBPROCESS_ONLY:
            return isinstance(func.value, ast.Name) and func.value.id == "subprocess"
        return func.attr in _PROGRAM_CALLS
    return isinstance(func, ast.Name) and func.id in _PROGRAM_CALLS


def programs_in_source(source: str) -> set[str]:
    """Program names written in one module's calls and parameter defaults."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args and _runs_program(node.func):
            name = _first_program(node.args[0])
            if name is not None:
                found.add(name)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = node.args
            positional = [*arguments.posonlyargs, *arguments.args]
            with_defaults = positional[len(positional) - len(arguments.defaults) :]
            pairs = list(zip(with_defaults, arguments.defaults, strict=True))
            keyword = zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
            pairs += [(a, d) for a, d in keyword if d is not None]
            for argument, default in pairs:
                if argument.arg in _PROGRAM_PARAMETERS:
                    name = _first_program(default)
                    if name is not None:
                        found.add(name)
    return found


def programs_in_tree(folders: Iterable[Path]) -> dict[str, set[str]]:
    """Each program named in the Python files below ``folders``, with the files that name it."""
    where: dict[str, set[str]] = {}
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            for name in programs_in_source(path.read_text("utf-8")):
                where.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return where


def is_own_python(executable: str) -> bool:
    """The interpreter and the console scripts of this environment: installed by pip, not apt."""
    resolved = Path(executable)
    if not resolved.is_absolute():
        return Path(executable).name.startswith("python") or executable == "dialer"
    prefix = Path(sys.prefix).resolve()
    real = resolved.resolve()
    return real == Path(sys.executable).resolve() or prefix in resolved.parents


def _exists(program: str) -> bool:
    if os.sep in program:
        return Path(program).exists()
    return shutil.which(program) is not None


class ProgramAudit:
    """Records the program of every process this Python process starts (audit event
    ``subprocess.Popen``), including those started for asyncio and by library code."""

    def __init__(self) -> None:
        self.ran: dict[str, str] = {}

    def __call__(self, event: str, args: tuple[object, ...]) -> None:
        if event != "subprocess.Popen":
            return
        executable, argv = args[0], args[1]
        if executable is None and isinstance(argv, list | tuple) and argv:
            executable = argv[0]
        elif executable is None:
            executable = argv
        if isinstance(executable, str | bytes | os.PathLike):
            path = os.fsdecode(executable)
            # A program that is not on this machine cannot hide a gap (it fails here as on a
            # fresh machine); tests start such names on purpose to check the error they give.
            if _exists(path) and not is_own_python(path):
                self.ran.setdefault(Path(path).name, path)

    def unlisted(self, listed: Iterable[str]) -> dict[str, str]:
        allowed = set(listed)
        return {name: path for name, path in self.ran.items() if name not in allowed}
