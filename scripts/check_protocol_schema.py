#!/usr/bin/env python3
"""Checks Protocol/lmdbg.schema.json with Python's `jsonschema`.

- the schema is a valid draft 2020-12 schema (meta-schema check);
- every `$ref` resolves, every `$defs` entry is reachable from a method, an error or `Message`;
- every `examples` entry of a `$defs` entry validates against it;
- the `x-methods` and `x-errors` tables are consistent;
- with --instances FILE: each {"def", "instance", "valid"} case gets the expected verdict
  (the same file is used by the Swift validator's tests, so both validators must agree).

Exit status 0 when all checks pass, 1 otherwise; each problem is printed on its own line.
"""
import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "Protocol" / "lmdbg.schema.json"

try:
    import jsonschema
except ImportError:  # pragma: no cover - environment problem, not a schema problem
    sys.exit("check_protocol_schema: the Python package `jsonschema` is missing (scripts/bootstrap installs it)")


def walk(node, path=""):
    """Yields (path, value) for every nested value."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}/{index}")


def ref_name(ref):
    prefix = "#/$defs/"
    return ref[len(prefix):] if ref.startswith(prefix) else None


def validator_for(schema, name):
    """A validator of the `$defs` entry `name`, resolving refs within the whole schema."""
    sub = dict(schema)
    sub.pop("$ref", None)
    sub["$ref"] = f"#/$defs/{name}"
    return jsonschema.Draft202012Validator(sub, format_checker=jsonschema.FormatChecker())


def check(schema, instances_path=None):
    problems = []
    defs = schema.get("$defs", {})

    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as error:
        problems.append(f"meta-schema: {error.message} at {'/'.join(map(str, error.absolute_path))}")

    # Every $ref resolves to a $defs entry.
    referenced = set()
    for path, value in walk(schema):
        if isinstance(value, dict) and "$ref" in value:
            name = ref_name(value["$ref"])
            if name is None or name not in defs:
                problems.append(f"{path}: unresolved $ref {value['$ref']!r}")
            else:
                referenced.add(name)

    # Examples validate.
    for name, definition in defs.items():
        for index, example in enumerate(definition.get("examples", [])):
            for error in validator_for(schema, name).iter_errors(example):
                problems.append(f"$defs/{name}/examples/{index}: {error.message}")

    # The error table.
    errors = schema.get("x-errors", [])
    codes = [entry.get("code") for entry in errors]
    if len(codes) != len(set(codes)):
        problems.append("x-errors: duplicate codes")
    for entry in errors:
        for key in ("code", "name", "description"):
            if key not in entry:
                problems.append(f"x-errors: entry {entry.get('code')} lacks {key!r}")

    # The method table.
    methods = schema.get("x-methods", [])
    seen_methods, seen_types = set(), set()
    for entry in methods:
        method = entry.get("method", "?")
        where = f"x-methods/{method}"
        if method in seen_methods:
            problems.append(f"{where}: duplicate method")
        seen_methods.add(method)
        swift_type = entry.get("swiftType")
        if not swift_type:
            problems.append(f"{where}: no swiftType")
        elif swift_type in seen_types:
            problems.append(f"{where}: duplicate swiftType {swift_type}")
        seen_types.add(swift_type)
        kind, direction = entry.get("kind"), entry.get("direction")
        if kind not in ("request", "notification"):
            problems.append(f"{where}: kind must be request or notification")
        if direction not in ("clientToServer", "serverToClient"):
            problems.append(f"{where}: direction must be clientToServer or serverToClient")
        if not entry.get("description"):
            problems.append(f"{where}: no description")
        params = ref_name(entry.get("params", {}).get("$ref", ""))
        if params is None:
            problems.append(f"{where}: params must be a $ref to a $defs entry")
        elif defs.get(params, {}).get("type") != "object":
            problems.append(f"{where}: params {params} must be an object schema")
        if kind == "request":
            if direction != "clientToServer":
                problems.append(f"{where}: the server sends no requests")
            if ref_name(entry.get("result", {}).get("$ref", "")) is None:
                problems.append(f"{where}: a request needs a result $ref")
            listed = entry.get("errors")
            if not isinstance(listed, list) or not listed:
                problems.append(f"{where}: a request needs its error codes")
            else:
                for code in listed:
                    if code not in codes:
                        problems.append(f"{where}: error {code} is not in x-errors")
                if len(listed) != len(set(listed)):
                    problems.append(f"{where}: duplicate error codes")
        elif "result" in entry or "errors" in entry:
            problems.append(f"{where}: a notification has no result or errors")
        unknown = set(entry) - {"method", "kind", "direction", "swiftType", "params", "result", "errors", "description"}
        if unknown:
            problems.append(f"{where}: unknown members {sorted(unknown)}")

    # Every $defs entry is used.
    roots = {"Message"}
    for entry in methods:
        for key in ("params", "result"):
            if key in entry:
                roots.add(ref_name(entry[key]["$ref"]))
    for entry in errors:
        if "data" in entry:
            roots.add(ref_name(entry["data"]["$ref"]))
    reachable, stack = set(), [r for r in roots if r in defs]
    while stack:
        name = stack.pop()
        if name in reachable:
            continue
        reachable.add(name)
        for _, value in walk(defs[name]):
            if isinstance(value, dict) and "$ref" in value:
                target = ref_name(value["$ref"])
                if target in defs:
                    stack.append(target)
    for name in sorted(set(defs) - reachable):
        problems.append(f"$defs/{name}: not used by any method, error or Message")

    if instances_path is not None:
        cases = json.loads(pathlib.Path(instances_path).read_text())
        for index, case in enumerate(cases):
            name = case["def"]
            if name not in defs:
                problems.append(f"{instances_path}#{index}: no $defs entry {name!r}")
                continue
            errors_found = list(validator_for(schema, name).iter_errors(case["instance"]))
            if bool(case["valid"]) == bool(errors_found):
                verdict = "valid" if case["valid"] else "invalid"
                problems.append(f"{instances_path}#{index} ({name}, {case.get('why', '')}): expected {verdict}, "
                                f"jsonschema says {'; '.join(e.message for e in errors_found) or 'valid'}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", default=str(SCHEMA))
    parser.add_argument("--instances", help="a JSON file of {def, instance, valid, why} cases")
    args = parser.parse_args()
    schema = json.loads(pathlib.Path(args.schema).read_text())
    problems = check(schema, args.instances)
    for problem in problems:
        print(f"{args.schema}: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"check_protocol_schema: ok ({len(schema['$defs'])} definitions, {len(schema['x-methods'])} methods)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
