"""Validates NDJSON events (stdin) against a JSON Schema (argv[1]); prints every failure, exits 1 on any."""

import json
import sys

try:
    import jsonschema
except ImportError:
    print("python package 'jsonschema' is missing: pip install jsonschema (scripts/suites/20-cli.sh does)")
    sys.exit(2)

with open(sys.argv[1], encoding="utf-8") as schema_file:
    schema = json.load(schema_file)
validator = jsonschema.Draft202012Validator(schema)
jsonschema.Draft202012Validator.check_schema(schema)
bad = 0
for n, line in enumerate(sys.stdin, 1):
    line = line.strip()
    if not line:
        continue
    event = json.loads(line)
    errors = sorted(validator.iter_errors(event), key=lambda e: list(e.path))
    if errors:
        bad += 1
        best = jsonschema.exceptions.best_match(errors)
        print(f"line {n}: {best.message} at {list(best.absolute_path)}\n  {line[:400]}")
sys.exit(1 if bad else 0)
