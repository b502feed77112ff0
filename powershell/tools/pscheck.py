#!/usr/bin/env python3
"""Static checks of the MesBackup PowerShell module that run without a PowerShell runtime.

Usage: pscheck.py CHECK [--root REPO]
  parse     every .ps1/.psm1/.psd1 under powershell/ (and the <ScriptBlock>s of *.ps1xml) parses with
            tree-sitter-powershell without ERROR or MISSING nodes; a broken snippet is rejected and a
            valid one accepted (proves the checker works)
  help      every function in the manifest's FunctionsToExport is defined in Public/<Name>.ps1, has
            comment-based help with .SYNOPSIS, .DESCRIPTION and at least one .EXAMPLE, a .PARAMETER for
            each parameter, and uses an approved verb (powershell/approved-verbs.txt)
  contract  every event name and event field the module reads exists in cli/events.schema.json
  secrets   no secret reaches the CLI's argument list, the verbose/debug/warning streams or the
            output objects; secrets only go into the child's environment
  kinds     the module maps exactly the canonical error kinds of core/src/error.rs, with their exit codes
Each check prints one line per finding ("file:line: message") and exits 1 if there is any.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path

import tree_sitter
import tree_sitter_powershell

LANGUAGE = tree_sitter.Language(tree_sitter_powershell.language())
PARSER = tree_sitter.Parser(LANGUAGE)

ROOT = Path(__file__).resolve().parents[2]
PS = ROOT / "powershell"
MODULE = PS / "MesBackup"


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------


def parse(source: bytes):
    return PARSER.parse(source)


def syntax_errors(source: bytes) -> list[tuple[int, int, str]]:
    """(line, column, description) of every ERROR or MISSING node, 1-based."""
    out = []

    def walk(node):
        if node.is_missing:
            out.append((node.start_point[0] + 1, node.start_point[1] + 1, f"missing {node.type}"))
            return
        if node.type == "ERROR":
            text = source[node.start_byte : node.end_byte].decode("utf-8", "replace")
            text = text.strip().splitlines()[0][:60] if text.strip() else ""
            out.append((node.start_point[0] + 1, node.start_point[1] + 1, f"syntax error near {text!r}"))
            return
        for child in node.children:
            walk(child)

    walk(parse(source).root_node)
    return out


def text(source: bytes, node) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8")


def walk_nodes(node):
    yield node
    for child in node.children:
        yield from walk_nodes(child)


def module_files() -> list[Path]:
    return sorted(p for p in MODULE.rglob("*") if p.suffix in (".ps1", ".psm1"))


def functions(path: Path):
    """(name, node, source) for every function defined in a file."""
    source = path.read_bytes()
    tree = parse(source)
    for node in walk_nodes(tree.root_node):
        if node.type == "function_statement":
            name_node = next((c for c in node.children if c.type == "function_name"), None)
            if name_node is not None:
                yield text(source, name_node), node, source


def all_functions() -> dict[str, tuple[Path, object, bytes]]:
    found = {}
    for path in module_files():
        for name, node, source in functions(path):
            found[name] = (path, node, source)
    return found


def manifest_exports() -> list[str]:
    source = (MODULE / "MesBackup.psd1").read_text(encoding="utf-8")
    m = re.search(r"FunctionsToExport\s*=\s*@\((.*?)\)", source, re.DOTALL)
    if not m:
        return []
    return re.findall(r"'([^']+)'", m.group(1))


def line_of(source: bytes, offset: int) -> int:
    return source[:offset].count(b"\n") + 1


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


# ----------------------------------------------------------------------------------------------
# parse
# ----------------------------------------------------------------------------------------------

BROKEN_SNIPPETS = {
    "unclosed brace": b"function Get-Broken {\n    param($n)\n    if ($n) {\n        'x'\n}\n",
    "unclosed paren": b"$x = (1 + 2\n$y = 3\n",
    "unclosed hashtable": b"$h = @{\n    A = 1\n",
    "unterminated string": b"Write-Output 'abc\n",
}
VALID_SNIPPET = (
    b"function Get-Fine {\n    [CmdletBinding()]\n    param(\n        [string]$Name\n    )\n"
    b"    switch ($Name) {\n        'a' {\n            return 1\n        }\n    }\n}\n"
)


def check_parse() -> list[str]:
    findings = []
    # The checker itself: broken code must be rejected, valid code accepted.
    for label, snippet in BROKEN_SNIPPETS.items():
        if not syntax_errors(snippet):
            findings.append(f"self-test: the parser accepted a broken snippet ({label}): the checker cannot be trusted")
    if syntax_errors(VALID_SNIPPET):
        findings.append("self-test: the parser rejected a valid snippet: the checker cannot be trusted")
    print(
        f"self-test: {len(BROKEN_SNIPPETS)} broken snippets rejected, 1 valid snippet accepted"
        if not findings
        else "self-test FAILED"
    )

    files = sorted(p for p in PS.rglob("*") if p.suffix in (".ps1", ".psm1", ".psd1"))
    for path in files:
        for line, col, what in syntax_errors(path.read_bytes()):
            findings.append(f"{rel(path)}:{line}:{col}: {what}")
    blocks = 0
    for path in sorted(PS.rglob("*.ps1xml")):
        source = path.read_text(encoding="utf-8")
        for m in re.finditer(r"<ScriptBlock>(.*?)</ScriptBlock>", source, re.DOTALL):
            blocks += 1
            code = (m.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")).encode()
            base = source[: m.start(1)].count("\n")
            for line, col, what in syntax_errors(code):
                findings.append(f"{rel(path)}:{base + line}:{col}: {what} (in a ScriptBlock)")
    print(f"parsed {len(files)} PowerShell files and {blocks} format-file script blocks")
    return findings


# ----------------------------------------------------------------------------------------------
# help and verbs
# ----------------------------------------------------------------------------------------------


def help_comment(node, source: bytes) -> str | None:
    """Comment-based help: a <# #> block inside the function body before param, or just before it."""
    for child in node.children:
        if child.type == "comment" and text(source, child).startswith("<#"):
            return text(source, child)
        if child.type == "script_block":
            for inner in child.children:
                if inner.type == "comment" and text(source, inner).startswith("<#"):
                    return text(source, inner)
    prev = node.prev_sibling
    if prev is not None and prev.type == "comment" and text(source, prev).startswith("<#"):
        return text(source, prev)
    return None


def parameter_names(node, source: bytes) -> list[str]:
    names = []
    for n in walk_nodes(node):
        if n.type == "param_block":
            for p in walk_nodes(n):
                if p.type == "script_parameter":
                    var = next((c for c in p.children if c.type == "variable"), None)
                    if var is not None:
                        names.append(text(source, var).lstrip("$"))
            break
    return names


def check_help() -> list[str]:
    findings = []
    verbs = {
        line.strip()
        for line in (PS / "approved-verbs.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    if len(verbs) < 90:
        findings.append(f"powershell/approved-verbs.txt: only {len(verbs)} verbs; expected the ~100 of Get-Verb")
    exports = manifest_exports()
    if not exports:
        findings.append("powershell/MesBackup/MesBackup.psd1: no FunctionsToExport")
    public = sorted(p.stem for p in (MODULE / "Public").glob("*.ps1"))
    if sorted(exports) != public:
        findings.append(f"MesBackup.psd1: FunctionsToExport {sorted(exports)} differs from Public/*.ps1 {public}")
    # Self-test: an unapproved verb and help without .DESCRIPTION, .EXAMPLE or .PARAMETER must be caught.
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "Fetch-MesProbe.ps1"
        probe.write_text(
            "function Fetch-MesProbe {\n    <#\n    .SYNOPSIS\n    A probe.\n    #>\n    [CmdletBinding()]\n"
            "    param(\n        [string]$Name\n    )\n    $Name\n}\n",
            encoding="utf-8",
        )
        name, node, source = next(functions(probe))
        probe_findings = help_findings(name, probe, node, source, verbs, check_location=False)
        if len(probe_findings) != 4:
            return [
                f"self-test: the help check found {probe_findings} in a probe with 4 problems: it cannot be trusted"
            ]
    print("self-test: a probe with an unapproved verb and incomplete help was rejected")
    defined = all_functions()
    for name in exports:
        if name not in defined:
            findings.append(f"{name}: exported but not defined")
            continue
        path, node, source = defined[name]
        findings.extend(help_findings(name, path, node, source, verbs))
    print(f"checked help and verbs of {len(exports)} exported functions: {', '.join(exports)}")
    return findings


def help_findings(name, path, node, source, verbs, check_location=True) -> list[str]:
    findings = []
    verb = name.split("-", 1)[0]
    if verb not in verbs:
        findings.append(f"{name}: verb {verb!r} is not an approved verb")
    if check_location and (path.parent.name != "Public" or path.stem != name):
        findings.append(f"{rel(path)}: {name} should be defined in Public/{name}.ps1")
    where = f"{rel(path)}:{node.start_point[0] + 1}"
    helptext = help_comment(node, source)
    if helptext is None:
        findings.append(f"{where}: {name} has no comment-based help")
        return findings
    for keyword in (".SYNOPSIS", ".DESCRIPTION", ".EXAMPLE"):
        if not re.search(rf"^\s*\{keyword}\b", helptext, re.MULTILINE | re.IGNORECASE):
            findings.append(f"{where}: {name} help lacks {keyword}")
    examples = re.split(r"^\s*\.EXAMPLE\b", helptext, flags=re.MULTILINE | re.IGNORECASE)[1:]
    for i, example in enumerate(examples, 1):
        body = re.split(r"^\s*\.[A-Z]+\b", example, flags=re.MULTILINE)[0]
        if name not in body:
            findings.append(f"{where}: {name} .EXAMPLE {i} does not use {name}")
        code = "\n".join(l.strip()[3:].strip() for l in body.splitlines() if l.strip().startswith("PS>"))
        for line, col, what in syntax_errors(code.encode()):
            findings.append(f"{where}: {name} .EXAMPLE {i} line {line}: {what}")
    documented = {m.lower() for m in re.findall(r"^\s*\.PARAMETER\s+(\w+)", helptext, re.MULTILINE | re.IGNORECASE)}
    for param in parameter_names(node, source):
        if param.lower() not in documented:
            findings.append(f"{where}: {name} help has no .PARAMETER {param}")
    body_text = text(source, node)
    if "SupportsShouldProcess" not in body_text and re.search(r"^(Start|Save|Backup|Copy|Move|Remove)-", name):
        findings.append(f"{where}: {name} starts backups or writes files but lacks SupportsShouldProcess")
    return findings


# ----------------------------------------------------------------------------------------------
# event contract
# ----------------------------------------------------------------------------------------------


def schema_events(schema: dict) -> dict[str, set[str]]:
    """event name -> set of dotted property paths (objects and arrays of objects descended into)."""
    defs = schema.get("$defs") or schema.get("definitions") or {}

    def resolve(node):
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 20:
            ref = node["$ref"]
            name = ref.rsplit("/", 1)[-1]
            node = defs.get(name, {})
            seen += 1
        return node

    def variants(node):
        node = resolve(node)
        if not isinstance(node, dict):
            return
        subs = []
        for key in ("oneOf", "anyOf", "allOf"):
            subs.extend(node.get(key, []))
        if "properties" in node:
            yield node
        for sub in subs:
            yield from variants(sub)

    def paths(node, prefix, out, depth=0):
        node = resolve(node)
        if not isinstance(node, dict) or depth > 6:
            return
        for key in ("oneOf", "anyOf", "allOf"):
            for sub in node.get(key, []):
                paths(sub, prefix, out, depth + 1)
        if node.get("type") == "array" or "items" in node:
            paths(node.get("items", {}), prefix, out, depth + 1)
        for name, sub in (node.get("properties") or {}).items():
            full = f"{prefix}.{name}" if prefix else name
            out.add(full)
            paths(sub, full, out, depth + 1)

    events: dict[str, set[str]] = {}
    for variant in variants(schema):
        event_prop = resolve(variant["properties"].get("event", {}))
        names = []
        if "const" in event_prop:
            names = [event_prop["const"]]
        elif "enum" in event_prop:
            names = list(event_prop["enum"])
        for name in names:
            found: set[str] = set()
            paths(variant, "", found)
            events.setdefault(name, set()).update(found)
    return events


EVENT_VALUE = re.compile(r"Get-MesEventValue\s+(?:-CliEvent\s+)?\$(\w+)\s+(?:-Path\s+)?'([^']+)'")
FOREACH_BIND = re.compile(r"foreach\s*\(\s*\$(\w+)\s+in\s+@\(\s*Get-MesEventValue\s+\$(\w+)\s+'([^']+)'\s*\)\s*\)")
ROOT_VARS = ("ev", "CliEvent")


def clause_label(node, source: bytes) -> str | None:
    """The label of the innermost `switch ($eventName)` clause around node, if any."""
    while node is not None:
        if node.type == "switch_clause":
            switch = node.parent
            while switch is not None and switch.type != "switch_statement":
                switch = switch.parent
            cond = None
            if switch is not None and switch.type == "switch_statement":
                cond = next((c for c in switch.children if c.type == "switch_condition"), None)
            if cond is not None and "$eventName" in text(source, cond):
                label_node = next((c for c in node.children if c.type == "switch_clause_condition"), None)
                if label_node is not None:
                    label = text(source, label_node)
                    if label.startswith(("'", '"')):
                        return label.strip("'\"")
        node = node.parent
    return None


def module_event_usage(files: list[Path] | None = None):
    """Event names the module handles, and every field read: (var, path, event or None, location)."""
    names: dict[str, str] = {}
    reads = []
    for path in files if files is not None else module_files():
        source = path.read_bytes()
        tree = parse(source)
        for fnode in (n for n in walk_nodes(tree.root_node) if n.type == "function_statement"):
            ftext = text(source, fnode)
            # labels of switch ($eventName) and comparisons of the event name
            only_event = None
            compared = set()
            for node in walk_nodes(fnode):
                if node.type == "switch_clause_condition":
                    label = clause_label(node, source)
                    if label is not None:
                        names.setdefault(label, f"{rel(path)}:{node.start_point[0] + 1}")
            for m in re.finditer(r"\(Get-MesEventValue \$\w+ 'event'\)\s+-(?:eq|ne)\s+'([^']+)'", ftext):
                compared.add(m.group(1))
                names.setdefault(
                    m.group(1), f"{rel(path)}:{fnode.start_point[0] + 1 + ftext[: m.start()].count(chr(10))}"
                )
            if len(compared) == 1:
                only_event = next(iter(compared))
            # aliases ($summary = $ev inside a clause) and foreach bindings over event arrays
            aliases = {}
            for node in walk_nodes(fnode):
                if node.type == "assignment_expression":
                    m = re.fullmatch(r"\$(\w+)\s*=\s*\$(ev|CliEvent)", text(source, node).strip())
                    if m:
                        aliases[m.group(1)] = clause_label(node, source)
            base = fnode.start_byte
            binding_list = [
                (base + m.start(), m.group(1), m.group(2), m.group(3)) for m in FOREACH_BIND.finditer(ftext)
            ]
            for node in walk_nodes(fnode):
                if node.type != "command":
                    continue
                m = EVENT_VALUE.match(text(source, node))
                if not m:
                    continue
                var, field = m.group(1), m.group(2)
                loc = f"{rel(path)}:{node.start_point[0] + 1}"
                # the innermost foreach binding of each variable that starts before this read
                bindings = {}
                for pos, bvar, parent_var, parent_path in binding_list:
                    if pos < node.start_byte:
                        bindings[bvar] = (parent_var, parent_path)
                prefix = ""
                event = None
                seen = 0
                while var in bindings and seen < 5:
                    parent_var, parent_path = bindings[var]
                    prefix = parent_path + ("." + prefix if prefix else "")
                    var = parent_var
                    seen += 1
                if var in ROOT_VARS:
                    event = clause_label(node, source) or only_event
                elif var in aliases:
                    event = aliases[var]
                else:
                    reads.append((var, field, None, loc, False))
                    continue
                full = f"{prefix}.{field}" if prefix else field
                reads.append((var, full, event, loc, True))
    return names, reads


def check_contract(schema_path: Path) -> list[str]:
    findings = []
    if not schema_path.exists():
        return [
            f"{rel(schema_path)}: missing: the CLI publishes no event schema, so the module's contract cannot be checked"
        ]
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    events = schema_events(schema)
    if not events:
        return [
            f"{rel(schema_path)}: no event variants found (expected oneOf/anyOf of objects with an 'event' const or enum)"
        ]
    # Self-test: a module that handles an unknown event and reads an unknown field must be caught.
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "Probe.ps1"
        probe.write_text(
            "function Test-Probe {\n    param($ev)\n    $eventName = Get-MesEventValue $ev 'event'\n"
            "    switch ($eventName) {\n        'saved' {\n            Get-MesEventValue $ev 'package.no_such_field'\n"
            "        }\n        'no_such_event' {\n            Get-MesEventValue $ev 'guid'\n        }\n    }\n}\n",
            encoding="utf-8",
        )
        probe_findings = contract_findings(events, *module_event_usage([probe]))
        if len(probe_findings) != 2:
            return [
                f"self-test: the contract check found {probe_findings} in a probe with 2 errors: it cannot be trusted"
            ]
    print("self-test: a probe with an unknown event and an unknown field was rejected")
    findings = contract_findings(events, *module_event_usage())
    names, reads = module_event_usage()
    print(f"schema events: {', '.join(sorted(events))}")
    per_event = sum(1 for r in reads if r[2] is not None)
    print(
        f"module handles events: {', '.join(sorted(names))}; {sum(1 for r in reads if r[1] != 'event')} field reads "
        f"checked ({per_event} against their specific event)"
    )
    return findings


def contract_findings(events, names, reads) -> list[str]:
    findings = []
    all_paths = set().union(*events.values())
    leaf_names = {p.rsplit(".", 1)[-1] for p in all_paths}
    for name, loc in sorted(names.items()):
        if name not in events:
            findings.append(f"{loc}: the module handles event {name!r}, which the schema does not define")
    checked = 0
    for var, field, event, loc, rooted in reads:
        if field == "event":
            continue
        checked += 1
        if not rooted:
            if field.rsplit(".", 1)[-1] not in leaf_names:
                findings.append(f"{loc}: the module reads ${var}.{field}, a field that appears nowhere in the schema")
        elif event is not None and event in events:
            if field not in events[event]:
                findings.append(
                    f"{loc}: the module reads {field!r} of event {event!r}, which the schema does not define for it"
                )
        elif field not in all_paths:
            findings.append(f"{loc}: the module reads event field {field!r}, which no event of the schema has")
    return findings


# ----------------------------------------------------------------------------------------------
# secrets
# ----------------------------------------------------------------------------------------------

SECRET_VARS = re.compile(r"\$(\w*Token|\w*Credential|plain\w+|secrets?|Secret|\w*Password|Pat)\b", re.IGNORECASE)
SECRET_ENV = ("MES_TOKEN", "MES_PAT", "CLICKHOUSE_PASSWORD")
STREAM_CMDS = re.compile(
    r"\b(Write-(Verbose|Debug|Warning|Information|Host|Output|Progress|Error)|Out-\w+)\b", re.IGNORECASE
)


def edited_module_copy(dest: Path, edits: dict[str, list[tuple[str, str]]]) -> list[Path]:
    """Copies the module's files into `dest`, applying each (old, new) replacement (first occurrence)
    to the file of that name; returns the copies. The secrets self-tests plant leaks this way."""
    copies = []
    for path in module_files():
        target = dest / path.relative_to(MODULE)
        target.parent.mkdir(parents=True, exist_ok=True)
        src = path.read_text(encoding="utf-8")
        for old, new in edits.get(path.name, []):
            src = src.replace(old, new, 1)
        target.write_text(src, encoding="utf-8")
        copies.append(target)
    return copies


def check_secrets() -> list[str]:
    # Self-test: a copy of the module that leaks a token into argv and into the verbose stream, and
    # sets MES_TOKEN outside the environment function, must be caught.
    with tempfile.TemporaryDirectory() as tmp:
        copies = edited_module_copy(
            Path(tmp),
            {
                "Get-MesCliArgumentList.ps1": [
                    (
                        "    $list.Add('--json')\n",
                        "    $list.Add('--json')\n    $list.Add('--token')\n    $list.Add($Token)\n",
                    ),
                ],
                "Invoke-MesCli.ps1": [
                    (
                        "    $State.ExitCode = $null\n",
                        "    $State.ExitCode = $null\n    Write-Verbose -Message $secrets\n    $startInfo.EnvironmentVariables['MES_TOKEN'] = 'x'\n",
                    ),
                ],
            },
        )
        probe = secret_findings(copies)
        if len(probe) < 4:
            return [
                f"self-test: the secrets check found only {probe} in a leaking copy of the module: it cannot be trusted"
            ]
    print(f"self-test: a leaking copy of the module was rejected ({len(probe)} findings)")
    # Self-test for ClickHouse credentials: a copy that puts the ClickHouse password into argv, writes
    # it to the verbose stream, sets CLICKHOUSE_PASSWORD outside the environment function, keeps it in
    # the start info after the child started, and leaves inherited CLICKHOUSE_* to every command.
    with tempfile.TemporaryDirectory() as tmp:
        copies = edited_module_copy(
            Path(tmp),
            {
                "Get-MesCliArgumentList.ps1": [
                    (
                        "    $list.Add('--json')\n",
                        "    $list.Add('--json')\n    $list.Add($ClickHouseCredential.GetNetworkCredential().Password)\n",
                    ),
                ],
                "Invoke-MesCli.ps1": [
                    (
                        "    $State.ExitCode = $null\n",
                        "    $State.ExitCode = $null\n    Write-Verbose -Message $plainPassword\n    $startInfo.EnvironmentVariables['CLICKHOUSE_PASSWORD'] = 'x'\n",
                    ),
                    ("    [void]$startInfo.EnvironmentVariables.Remove('CLICKHOUSE_PASSWORD')\n", ""),
                ],
                "Set-MesCliEnvironment.ps1": [
                    ("        [void]$childEnvironment.Remove('CLICKHOUSE_PASSWORD')\n", ""),
                ],
            },
        )
        probe = secret_findings(copies)
        wanted = {
            "argv": lambda f: "Get-MesCliArgumentList" in f and "ClickHouseCredential" in f,
            "stream": lambda f: "writes a secret-looking variable" in f and "plainPassword" in f,
            "env": lambda f: "sets CLICKHOUSE_PASSWORD" in f,
            "start info": lambda f: "CLICKHOUSE_PASSWORD from the start info" in f,
            "inherited": lambda f: "inherited CLICKHOUSE_USER/CLICKHOUSE_PASSWORD" in f,
        }
        missed = [k for k, test in wanted.items() if not any(test(f) for f in probe)]
        if missed:
            return [
                f"self-test: a copy leaking the ClickHouse password was not caught for {missed} (found {probe}): the check cannot be trusted"
            ]
    print(f"self-test: a copy leaking the ClickHouse password was rejected ({len(probe)} findings)")
    # Self-test for the standard-input writer (credential set): a copy that also puts the plain secret
    # into a file, and one that decrypts a secret in Set-MesBackupCredential, must be caught.
    with tempfile.TemporaryDirectory() as tmp:
        copies = edited_module_copy(
            Path(tmp),
            {
                "Write-MesCliSecretInput.ps1": [
                    (
                        "        $Writer.Write($Prefix + $plainInput)\n",
                        "        $Writer.Write($Prefix + $plainInput)\n        Set-Content -Path x.txt -Value $plainInput\n",
                    ),
                ],
                "Set-MesBackupCredential.ps1": [
                    (
                        "        $secure = $Credential.Password.Copy()\n",
                        "        $secure = $Credential.Password.Copy()\n        $pat = $Credential.GetNetworkCredential().Password\n",
                    ),
                ],
            },
        )
        probe = secret_findings(copies)
        wanted = {
            "stdin writer": lambda f: "Write-MesCliSecretInput uses the plain secret" in f,
            "decrypt": lambda f: "Set-MesBackupCredential turns a secret into plain text" in f,
        }
        missed = [k for k, test in wanted.items() if not any(test(f) for f in probe)]
        if missed:
            return [f"self-test: a copy leaking the credential-set secret was not caught for {missed} (found {probe})"]
    print(f"self-test: a copy leaking the credential-set secret was rejected ({len(probe)} findings)")
    return secret_findings(module_files())


# The one other place a secret becomes plain text: Register-MesBackupSchedule hands the service
# account's password to Task Scheduler (Register-ScheduledTask -Password takes only a string), in
# exactly this statement, straight into the call: no variable, no stream, never the CLI.
TASK_PASSWORD = re.compile(
    r"Register-ScheduledTask @registration -User \$Credential\.UserName "
    r"-Password \(\$Credential\.GetNetworkCredential\(\)\.Password\) -RunLevel Limited"
)


def secret_findings(files: list[Path]) -> list[str]:
    findings = []
    defined = {}
    for path in files:
        for name, node, source in functions(path):
            defined[name] = (path, node, source)
    builder = "Get-MesCliArgumentList"
    env_setter = "Set-MesCliEnvironment"
    runner = "Invoke-MesCli"
    # credential set: the secret goes to the child's standard input, written here and nowhere else.
    stdin_writer = "Write-MesCliSecretInput"
    for required in (builder, env_setter, runner):
        if required not in defined:
            findings.append(f"{required} is not defined: the argv/environment design the checks rely on changed")
    if findings:
        return findings

    # 1. The argument builder can carry no secret: no secret-typed or secret-named parameter, no reference.
    path, node, source = defined[builder]
    body = text(source, node)
    where = f"{rel(path)}:{node.start_point[0] + 1}"
    if re.search(r"SecureString|PSCredential|NetworkCredential", body):
        findings.append(f"{where}: {builder} mentions a credential type")
    for m in SECRET_VARS.finditer(body):
        findings.append(f"{where}: {builder} references {m.group(0)}")
    if re.search(r"--(token|pat|password|user)\b", body, re.IGNORECASE):
        findings.append(f"{where}: {builder} passes a credential option")
    for param in parameter_names(node, source):
        if re.search(r"token|credential|secret|password|pat$|user", param, re.IGNORECASE):
            findings.append(f"{where}: {builder} has a parameter named {param}")

    # 2. Only the runner starts processes, and its argument list comes from the builder's output only.
    for fname, (fpath, fnode, fsource) in defined.items():
        ftext = text(fsource, fnode)
        floc = f"{rel(fpath)}:{fnode.start_point[0] + 1}"
        if fname != runner and re.search(
            r"Diagnostics\.Process\b|Start-Process|\.ArgumentList\.Add|\.Arguments\s*=", ftext
        ):
            findings.append(f"{floc}: {fname} starts a process or sets arguments; only {runner} may")
        if fname != env_setter:
            for var in SECRET_ENV:
                if re.search(rf"\[\s*'{var}'\s*\]\s*=|\$env:{var}\s*=", ftext):
                    findings.append(f"{floc}: {fname} sets {var}; only {env_setter} may")
        # every call of the builder has no secret-looking argument
        for m in re.finditer(rf"{builder}\b[^\n]*", ftext):
            if SECRET_VARS.search(m.group(0)):
                findings.append(f"{floc}: a call of {builder} passes a secret-looking variable")
    path, node, source = defined[runner]
    rtext = text(source, node)
    for m in re.finditer(r"\.ArgumentList\.Add\(\s*\$(\w+)\s*\)|\.Arguments\s*=\s*([^\n]+)", rtext):
        if m.group(1) and m.group(1) != "argument":
            findings.append(
                f"{rel(path)}: {runner} adds ${m.group(1)} to the argument list (expected only the builder's output)"
            )
        if m.group(2) and "ConvertTo-MesWindowsCommandLine -ArgumentList $ArgumentList" not in m.group(2):
            findings.append(f"{rel(path)}: {runner} sets Arguments from something other than the builder's output")
    if not re.search(r"foreach \(\$argument in \$ArgumentList\)", rtext):
        findings.append(f"{rel(path)}: {runner} should copy exactly $ArgumentList into the process arguments")
    if "Remove('MES_TOKEN')" not in rtext or "Remove('MES_PAT')" not in rtext:
        findings.append(f"{rel(path)}: {runner} should drop MES_TOKEN/MES_PAT from the start info once the child runs")
    if "Remove('CLICKHOUSE_PASSWORD')" not in rtext:
        findings.append(
            f"{rel(path)}: {runner} should drop CLICKHOUSE_PASSWORD from the start info once the child runs"
        )
    if not re.search(r"^\s*\$secrets = Set-MesCliEnvironment ", rtext, re.MULTILINE):
        findings.append(
            f"{rel(path)}: {runner} should always call {env_setter} (it also removes the credentials a command does not need)"
        )

    # 3. Environment setter: secrets go to the child's environment dictionary, never to the session's.
    path, node, source = defined[env_setter]
    etext = text(source, node)
    if not re.search(
        r"if \(-not \$ClickHouse\) \{[^}]*Remove\('CLICKHOUSE_USER'\)[^}]*Remove\('CLICKHOUSE_PASSWORD'\)", etext
    ):
        findings.append(
            f"{rel(path)}: {env_setter} should keep inherited CLICKHOUSE_USER/CLICKHOUSE_PASSWORD from commands that talk to no ClickHouse"
        )
    if re.search(r"\$env:(MES_(TOKEN|PAT|USER)|CLICKHOUSE_\w+)\s*=|SetEnvironmentVariable", etext):
        findings.append(f"{rel(path)}: {env_setter} changes the session's own environment")
    if "$StartInfo.EnvironmentVariables" not in etext:
        findings.append(f"{rel(path)}: {env_setter} should write into $StartInfo.EnvironmentVariables")

    # 3b. The standard-input writer sends its plain text to the child's standard input and nowhere else.
    if stdin_writer in defined:
        wpath, wnode, wsource = defined[stdin_writer]
        wtext = text(wsource, wnode)
        for lineno, line in enumerate(wtext.splitlines(), wnode.start_point[0] + 1):
            if re.search(r"\$plainInput\b", line) and not re.search(
                r"^\s*(\$plainInput\s*=|\$Writer\.Write\(\$Prefix \+ \$plainInput\)$)", line
            ):
                findings.append(
                    f"{rel(wpath)}:{lineno}: {stdin_writer} uses the plain secret other than on standard input"
                )

    # 4. No stream or output writes a secret variable; plaintext stays in the two functions that need it.
    for fname, (fpath, fnode, fsource) in defined.items():
        ftext = text(fsource, fnode)
        for lineno, line in enumerate(ftext.splitlines(), fnode.start_point[0] + 1):
            if STREAM_CMDS.search(line) and SECRET_VARS.search(line):
                findings.append(f"{rel(fpath)}:{lineno}: writes a secret-looking variable to a stream: {line.strip()}")
            if (
                re.search(r"GetNetworkCredential|NetworkCredential|SecureStringToBSTR|ConvertFrom-SecureString", line)
                and fname not in (env_setter, stdin_writer)
                and not TASK_PASSWORD.fullmatch(line.strip())
            ):
                findings.append(f"{rel(fpath)}:{lineno}: {fname} turns a secret into plain text; only {env_setter} may")
    # 5. Output objects carry no credential property.
    for path in files:
        src = path.read_text(encoding="utf-8")
        for m in re.finditer(r"\[pscustomobject\]@\{(.*?)\n\s*\}", src, re.DOTALL):
            for prop in re.findall(r"^\s*(\w+)\s*=", m.group(1), re.MULTILINE):
                if re.search(r"token|credential|password|secret|^pat$", prop, re.IGNORECASE):
                    findings.append(
                        f"{rel(path)}:{line_of(src.encode(), m.start())}: output object has a {prop} property"
                    )
    if files and files[0].is_relative_to(MODULE):
        print(f"checked {builder}, {env_setter}, {runner} and every stream write in {len(defined)} functions")
    return findings


# ----------------------------------------------------------------------------------------------
# error kinds
# ----------------------------------------------------------------------------------------------


def check_kinds() -> list[str]:
    findings = []
    rust = (ROOT / "core/src/error.rs").read_text(encoding="utf-8")
    codes = dict(re.findall(r'ErrorKind::(\w+) => "(\w+)"', rust))
    exits = dict(re.findall(r"ErrorKind::(\w+) => (\d+),", rust))
    canonical = {codes[k]: int(exits[k]) for k in codes if k in exits}
    if len(canonical) < 13:
        findings.append(
            f"core/src/error.rs: found only {len(canonical)} kinds; the parser of this check needs updating"
        )
    src = (MODULE / "Private/ErrorKinds.ps1").read_text(encoding="utf-8")
    table = {
        m.group(1): (int(m.group(2)), m.group(3))
        for m in re.finditer(
            r"^\s*(\w+)\s*=\s*@\{\s*ExitCode\s*=\s*(\d+);\s*Category\s*=\s*\[[\w.]+\]::(\w+)", src, re.MULTILINE
        )
    }
    for kind, code in sorted(canonical.items()):
        if kind not in table:
            findings.append(f"powershell/MesBackup/Private/ErrorKinds.ps1: kind {kind!r} is not mapped")
        elif table[kind][0] != code:
            findings.append(
                f"powershell/MesBackup/Private/ErrorKinds.ps1: kind {kind!r} has exit code {table[kind][0]}, core says {code}"
            )
    for kind in table:
        if kind not in canonical:
            findings.append(f"powershell/MesBackup/Private/ErrorKinds.ps1: {kind!r} is not a canonical kind")
    categories = {
        "NotSpecified",
        "OpenError",
        "CloseError",
        "DeviceError",
        "DeadlockDetected",
        "InvalidArgument",
        "InvalidData",
        "InvalidOperation",
        "InvalidResult",
        "InvalidType",
        "MetadataError",
        "NotImplemented",
        "NotInstalled",
        "ObjectNotFound",
        "OperationStopped",
        "OperationTimeout",
        "SyntaxError",
        "ParserError",
        "PermissionDenied",
        "ResourceBusy",
        "ResourceExists",
        "ResourceUnavailable",
        "ReadError",
        "WriteError",
        "FromStdErr",
        "SecurityError",
        "ProtocolError",
        "ConnectionError",
        "AuthenticationError",
        "LimitsExceeded",
        "QuotaExceeded",
        "NotEnabled",
    }
    for kind, (_, category) in table.items():
        if category not in categories:
            findings.append(f"ErrorKinds.ps1: {kind}: {category} is not an ErrorCategory")
    print(f"{len(table)} kinds mapped: " + ", ".join(f"{k}->{c}" for k, (_, c) in table.items()))
    return findings


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    check = argv[1]
    if check == "parse":
        findings = check_parse()
    elif check == "help":
        findings = check_help()
    elif check == "contract":
        findings = check_contract(ROOT / "cli/events.schema.json")
    elif check == "secrets":
        findings = check_secrets()
    elif check == "kinds":
        findings = check_kinds()
    else:
        print(f"unknown check {check!r}")
        return 2
    for f in findings:
        print(f)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
