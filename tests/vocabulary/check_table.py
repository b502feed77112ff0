"""The README's vocabulary tables against what each front end really accepts.

README.md, section "One vocabulary", holds two tables: one row per concept with its spelling in each
front end, and the old spellings kept one release. Every backticked spelling in a front end's column
is looked up in that front end as it ships:

- cli: `mesbackup <command> --help` lists the command and each `--flag`; an old spelling still
  parses (`mesbackup <command> <old> --help` exits 0: clap rejects an unknown flag or a bad value
  before it prints help) and an old flag is hidden from `--help`.
- python: the installed `mesbackup` package (run this with the venv's Python): the attribute exists
  and `inspect.signature` names the parameter; a native function's `.pyi` stub names it too;
  whatever the table says of `Client` holds for `AsyncClient` as well.
- javascript: the shipped `index.d.ts`/`node.d.ts`, through `tsc --noEmit` on a generated file of
  type-level assertions; an old spelling is marked `@deprecated`.
- powershell: the exported cmdlet's `param()` block declares the parameter; an old one is
  `[Parameter(DontShow)]`.

`--self-test` first checks the checker: a table with one invented spelling in the column must fail.

Usage: check_table.py {cli,python,javascript,powershell} [--cli BIN] [--tsc TSC] [--self-test]
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FRONT_ENDS = ("cli", "python", "javascript", "powershell")
HEADERS = {"cli": "CLI", "python": "Python", "javascript": "JavaScript", "powershell": "PowerShell"}


@dataclass
class Cell:
    """One spelling to check: where it came from (for the message) and whether it is an old one."""

    row: str
    spelling: str
    deprecated: bool


def read_tables(readme: str, front_end: str) -> list[Cell]:
    section = readme.split("### One vocabulary", 1)
    if len(section) != 2:
        raise SystemExit("README.md has no '### One vocabulary' section")
    body = section[1].split("\n## ", 1)[0]
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in body.splitlines():
        if line.startswith("|"):
            current.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    if len(tables) != 2:
        raise SystemExit(f"README.md 'One vocabulary': expected two tables, found {len(tables)}")
    cells: list[Cell] = []

    concepts = tables[0]
    column = concepts[0].index(HEADERS[front_end])
    for row in concepts[2:]:
        text = row[column]
        spellings = re.findall(r"`([^`]+)`", text)
        if not spellings and not text.startswith("—"):
            raise SystemExit(f"row {row[0]!r}: the {HEADERS[front_end]} cell names nothing and is not '—': {text!r}")
        cells += [Cell(row[0], s, False) for s in spellings]

    for row in tables[1][2:]:
        if row[0] == HEADERS[front_end]:
            cells += [Cell(f"old spelling {row[1]}", s, True) for s in re.findall(r"`([^`]+)`", row[1])]
    return cells


# --- cli ---------------------------------------------------------------------------------------


def check_cli(cells: list[Cell], cli: str) -> list[str]:
    problems: list[str] = []
    helps: dict[str, str] = {}

    def help_of(command: str) -> str | None:
        if command not in helps:
            run = subprocess.run([cli, command, "--help"], capture_output=True, text=True, env=quiet_env(), check=False)
            helps[command] = run.stdout if run.returncode == 0 else ""
        return helps[command] or None

    for cell in cells:
        words = cell.spelling.split()
        command, rest = words[0], words[1:]
        text = help_of(command)
        if text is None:
            problems.append(f"{cell.row}: `mesbackup {command} --help` fails: no command {command!r}")
            continue
        flags = [w for w in rest if w.startswith("--")]
        if not cell.deprecated:
            for flag in flags:
                if not re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text):
                    problems.append(f"{cell.row}: `mesbackup {command} --help` does not list {flag}")
            continue
        run = subprocess.run([cli, *words, "--help"], capture_output=True, text=True, env=quiet_env(), check=False)
        if run.returncode != 0:
            problems.append(
                f"{cell.row}: `mesbackup {cell.spelling}` is no longer accepted: {run.stderr.strip()[:300]}"
            )
        valued = len(rest) > len(flags)
        for flag in flags:
            if not valued and re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text):
                problems.append(f"{cell.row}: the old {flag} is still shown by `mesbackup {command} --help`")
    return problems


def quiet_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("MES_", "CLICKHOUSE_"))}


# --- python ------------------------------------------------------------------------------------

PY_SPELLING = re.compile(r"^(?P<path>[A-Za-z_][\w.]*)(?:\((?P<param>\w+)=\))?$")


def stub_params() -> dict[str, list[str]]:
    """Parameter names of every function and method in the native module's stub, by dotted name."""
    tree = ast.parse((ROOT / "bindings-py/python/mesbackup/_mesbackup.pyi").read_text(encoding="utf-8"))
    found: dict[str, list[str]] = {}

    def params(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
        a = fn.args
        return [p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs]]

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = params(node)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    found[f"{node.name}.{item.name}"] = params(item)
    return found


def check_python(cells: list[Cell]) -> list[str]:
    import inspect

    import mesbackup
    import mesbackup._mesbackup as native

    stubs = stub_params()
    problems: list[str] = []
    for cell in cells:
        match = PY_SPELLING.match(cell.spelling)
        if not match:
            problems.append(f"{cell.row}: cannot read the Python spelling {cell.spelling!r}")
            continue
        paths = [match["path"]]
        if paths[0] == "Client" or paths[0].startswith("Client."):
            paths.append("Async" + paths[0])
        for path in paths:
            obj: object = mesbackup
            for part in path.split("."):
                obj = getattr(obj, part, None)
                if obj is None:
                    break
            if obj is None:
                problems.append(f"{cell.row}: mesbackup.{path} does not exist")
                continue
            param = match["param"]
            if not param:
                continue
            try:
                names = list(inspect.signature(obj).parameters)  # type: ignore[arg-type]
            except (TypeError, ValueError) as e:
                problems.append(f"{cell.row}: mesbackup.{path} has no readable signature ({e})")
                continue
            if param not in names:
                problems.append(f"{cell.row}: mesbackup.{path} takes no {param}= (it takes {', '.join(names)})")
            stub_name = f"{path}.__init__" if "." not in path and isinstance(obj, type) else path
            is_native = getattr(native, path.split(".")[0], None) is getattr(mesbackup, path.split(".")[0], None)
            if is_native and stub_name in stubs and param not in stubs[stub_name]:
                problems.append(f"{cell.row}: the stub _mesbackup.pyi {stub_name} lacks {param}=")
            elif is_native and stub_name not in stubs:
                problems.append(f"{cell.row}: the stub _mesbackup.pyi has no {stub_name}")
    return problems


# --- javascript --------------------------------------------------------------------------------

JS_SPELLING = re.compile(r"^(?P<name>\w+)(?:\.(?P<member>\w+)|\(\{(?P<option>\w+)\}\))?$")


def check_javascript(cells: list[Cell], tsc: str, package: Path) -> list[str]:
    declarations = {name: (package / name).read_text(encoding="utf-8") for name in ("index.d.ts", "node.d.ts")}
    problems: list[str] = []
    lines = [
        f"import type * as I from {str(package / 'index.js')!r};",
        f"import type * as N from {str(package / 'node.js')!r};",
        "// Keys of any member of a union: an option of one credential kind counts.",
        "type Keys<T> = T extends unknown ? keyof T : never;",
        "type Has<T, K extends PropertyKey> = K extends Keys<T> ? true : never;",
    ]
    for number, cell in enumerate(cells):
        match = JS_SPELLING.match(cell.spelling)
        if not match:
            problems.append(f"{cell.row}: cannot read the JavaScript spelling {cell.spelling!r}")
            continue
        name = match["name"]
        where = [
            ns
            for ns, file in (("I", "index.d.ts"), ("N", "node.d.ts"))
            if re.search(rf"export (?:declare )?(?:interface|type|class|function) {name}\b", declarations[file])
        ]
        if not where:
            problems.append(f"{cell.row}: neither index.d.ts nor node.d.ts exports {name}")
            continue
        ref = f"{where[0]}.{name}"
        key = match["member"] or match["option"]
        line = f"// {cell.row}: {cell.spelling}\n"
        if match["member"]:
            line += f"const _c{number}: Has<{ref}, {key!r}> = true;"
        elif match["option"]:
            line += f"const _c{number}: Has<Extract<Parameters<typeof {ref}>[number], object>, {key!r}> = true;"
        else:
            line += f"type _C{number} = typeof {ref};"
        lines.append(line)
        if cell.deprecated and key:
            text = declarations["index.d.ts"] + declarations["node.d.ts"]
            if not re.search(rf"@deprecated[^/]*\*/\s*(?:readonly\s+)?{key}\??:", text):
                problems.append(f"{cell.row}: {cell.spelling} is not marked @deprecated in the .d.ts")
    with tempfile.TemporaryDirectory() as work:
        probe = Path(work) / "vocabulary.ts"
        probe.write_text("\n".join(lines) + "\nexport {};\n", encoding="utf-8")
        run = subprocess.run(
            [
                tsc,
                "--noEmit",
                "--strict",
                "--noUnusedLocals",
                "false",
                "--module",
                "nodenext",
                "--moduleResolution",
                "nodenext",
                "--target",
                "es2022",
                "--skipLibCheck",
                "false",
                "--types",
                "node",
                str(probe),
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd=str(Path(tsc).resolve().parents[2]),
        )
        if run.returncode != 0:
            source = probe.read_text(encoding="utf-8").splitlines()
            for error in re.findall(r"vocabulary\.ts\((\d+),\d+\): (.*)", run.stdout):
                line_number, message = int(error[0]), error[1]
                comment = source[line_number - 2] if line_number >= 2 else ""
                problems.append(f"{comment.lstrip('/ ')} -> tsc: {message}")
            if not problems:
                problems.append("tsc failed: " + (run.stdout + run.stderr)[:2000])
    return problems


# --- powershell --------------------------------------------------------------------------------


def check_powershell(cells: list[Cell]) -> list[str]:
    module = ROOT / "powershell/MesBackup"
    exported = (module / "MesBackup.psd1").read_text(encoding="utf-8")
    problems: list[str] = []
    for cell in cells:
        words = cell.spelling.split()
        cmdlet, params = words[0], [w[1:] for w in words[1:] if w.startswith("-")]
        source_file = module / "Public" / f"{cmdlet}.ps1"
        if not source_file.is_file() or f"'{cmdlet}'" not in exported:
            problems.append(f"{cell.row}: no exported cmdlet {cmdlet}")
            continue
        text = source_file.read_text(encoding="utf-8")
        block = re.search(r"\n\s*param\s*\((.*?)\n\s*\)\s*\n", text, re.DOTALL | re.IGNORECASE)
        if not block:
            problems.append(f"{cell.row}: {cmdlet} has no param() block")
            continue
        declarations = block.group(1)
        for param in params:
            # The declaration and the attribute lines above it, back to the previous parameter.
            found = re.search(
                rf"(?:^|,\s*\n)((?:(?!,\s*\n).)*?)\]\s*\${param}\b", declarations, re.DOTALL | re.IGNORECASE
            )
            if not found:
                problems.append(f"{cell.row}: {cmdlet} declares no -{param}")
                continue
            hidden = "DontShow" in found.group(1)
            if cell.deprecated and not hidden:
                problems.append(f"{cell.row}: the old {cmdlet} -{param} is not [Parameter(DontShow)]")
            if not cell.deprecated and hidden:
                problems.append(f"{cell.row}: {cmdlet} -{param} is hidden from completion (DontShow)")
            if not re.search(rf"\.PARAMETER {param}\b", text, re.IGNORECASE):
                problems.append(f"{cell.row}: {cmdlet} -{param} has no .PARAMETER help")
    return problems


# --- main --------------------------------------------------------------------------------------

# The spelling the self-test adds, and the word a report of it must contain.
INVENTED = {
    "cli": ("`backup --no-such-flag`", "--no-such-flag"),
    "python": ("`Client.backup(no_such_param=)`", "no_such_param"),
    "javascript": ("`ClientOptions.noSuchOptionMs`", "noSuchOptionMs"),
    "powershell": ("`Backup-MesClickHouseDatabase -NoSuchParameter`", "NoSuchParameter"),
}


def check(front_end: str, readme: str, args: argparse.Namespace) -> tuple[int, list[str]]:
    cells = read_tables(readme, front_end)
    if front_end == "cli":
        return len(cells), check_cli(cells, args.cli)
    if front_end == "python":
        return len(cells), check_python(cells)
    if front_end == "javascript":
        return len(cells), check_javascript(cells, str(Path(args.tsc).resolve()), Path(args.package).resolve())
    return len(cells), check_powershell(cells)


def with_invented_spelling(readme: str, front_end: str) -> str:
    """The README with one spelling that exists nowhere added to the first row's cell of the column."""
    lines = readme.split("### One vocabulary", 1)[1].splitlines()
    table = [i for i, line in enumerate(lines) if line.startswith("|")]
    header = [c.strip() for c in lines[table[0]].strip().strip("|").split("|")]
    column = header.index(HEADERS[front_end])
    row = lines[table[2]].strip().strip("|").split("|")
    row[column] = f" {INVENTED[front_end][0]} "
    lines[table[2]] = "|" + "|".join(row) + "|"
    return readme.split("### One vocabulary", 1)[0] + "### One vocabulary" + "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("front_end", choices=FRONT_ENDS)
    parser.add_argument("--cli", default=str(ROOT / "target/debug/mesbackup"))
    parser.add_argument("--tsc", default=str(ROOT / "bindings-wasm/tests/node_modules/.bin/tsc"))
    parser.add_argument("--package", default=str(ROOT / "bindings-wasm/pkg"), help="the npm package folder")
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")

    if args.self_test:
        _, problems = check(args.front_end, with_invented_spelling(readme, args.front_end), args)
        invented, word = INVENTED[args.front_end]
        if not any(word in p for p in problems):
            print(f"self-test FAILED: an invented spelling {invented} was not reported; got {problems}")
            return 1
        print(f"self-test: an invented {HEADERS[args.front_end]} spelling {invented} was reported")

    count, problems = check(args.front_end, readme, args)
    for problem in problems:
        print(f"vocabulary table, {HEADERS[args.front_end]}: {problem}")
    if problems:
        print(f"README.md 'One vocabulary' does not hold for {HEADERS[args.front_end]}: {len(problems)} problem(s)")
        return 1
    print(f"README.md 'One vocabulary': {count} {HEADERS[args.front_end]} spellings checked, all hold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
