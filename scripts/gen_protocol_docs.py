#!/usr/bin/env python3
"""Generates Protocol/README.md from Protocol/lmdbg.schema.json (Python 3 standard library only).

    python3 scripts/gen_protocol_docs.py           # rewrite Protocol/README.md
    python3 scripts/gen_protocol_docs.py --check   # exit 1 if the committed README.md is stale
    python3 scripts/gen_protocol_docs.py --stdout  # print the markdown
"""
import argparse
import difflib
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "Protocol" / "lmdbg.schema.json"
README = ROOT / "Protocol" / "README.md"

DIRECTIONS = {"clientToServer": "client → server", "serverToClient": "server → client"}
# Members of the JSON-RPC envelope, described in their own section rather than with the types.
ENVELOPE = ["Message", "RequestMessage", "NotificationMessage", "ResponseMessage", "ResponseError", "RequestId"]


def ref_name(ref):
    prefix = "#/$defs/"
    if not ref.startswith(prefix):
        raise SystemExit(f"gen_protocol_docs: unsupported $ref {ref!r}")
    return ref[len(prefix):]


def anchor(name):
    return f"type-{name}"


def cell(text):
    """Makes text safe for one markdown table cell."""
    return str(text).replace("\n", " ").replace("|", "\\|")


def first_sentence(text):
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def literal(value):
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def type_of(schema):
    """A one-line rendering of a schema's type, with links to named types."""
    if schema is True or schema == {} or (isinstance(schema, dict) and set(schema) <= {"description"}):
        return "any"
    parts = []
    if "$ref" in schema:
        name = ref_name(schema["$ref"])
        parts.append(f"[`{name}`](#{anchor(name)})")
    if "const" in schema:
        parts.append(literal(schema["const"]))
    if "enum" in schema:
        parts.append(" \\| ".join(literal(v) for v in schema["enum"]))
    for key in ("oneOf", "anyOf"):
        if key in schema and all(set(s) != {"required"} for s in schema[key]):
            parts.append(" \\| ".join(type_of(s) for s in schema[key]))
    if "type" in schema:
        kind = schema["type"]
        if kind == "array":
            item = type_of(schema.get("items", {}))
            parts.append(f"{item}[]" if " " not in item or item.startswith("[") else f"({item})[]")
        else:
            text = f"`{kind}`"
            bounds = []
            if "minimum" in schema:
                bounds.append(f"≥ {schema['minimum']}")
            if "maximum" in schema:
                bounds.append(f"≤ {schema['maximum']}")
            parts.append(" ".join([text] + bounds))
    return " ".join(parts) if parts else "any"


def member_notes(schema, member_schema, defs):
    text = member_schema.get("description", "")
    if not text and "$ref" in member_schema:
        target = defs[ref_name(member_schema["$ref"])]
        # An enum's description explains each value: keep all of it. Otherwise a pointer is enough.
        text = target.get("description", "")
        if "enum" not in target:
            text = first_sentence(text)
    if "default" in member_schema:
        text = (text + " " if text else "") + f"Default: {literal(member_schema['default'])}."
    return text


def exclusive_groups(schema):
    """For `oneOf: [{required: [a]}, {required: [b]}]` on an object: [a, b]."""
    groups = schema.get("oneOf", [])
    if groups and all(set(g) == {"required"} for g in groups):
        return [name for g in groups for name in g["required"]]
    return None


def object_table(schema, defs):
    """The members of an object schema as a markdown table, or a sentence when it has none."""
    lines = []
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    if not properties:
        return ["No members: `{}`."]
    lines.append("| member | type | required | description |")
    lines.append("|---|---|---|---|")
    for name, member in properties.items():
        mark = "yes" if name in required else ""
        lines.append(f"| `{name}` | {cell(type_of(member))} | {mark} | {cell(member_notes(schema, member, defs))} |")
    exclusive = exclusive_groups(schema)
    if exclusive:
        lines.append("")
        lines.append("Exactly one of " + ", ".join(f"`{n}`" for n in exclusive) + ".")
    return lines


def describe_schema(name, defs, heading_level=None):
    """Renders a named schema: description, then a table or its type."""
    schema = defs[name]
    lines = []
    if schema.get("description"):
        lines += [schema["description"], ""]
    if schema.get("type") == "object":
        lines += object_table(schema, defs)
    else:
        lines.append(f"Type: {type_of(schema)}")
    return lines


def pretty(value, indent=0, used=0, width=100):
    """JSON with short values kept on one line and long ones broken up, two spaces per level.

    `indent` is the nesting depth in spaces; `used` is how many columns the line already holds.
    """
    flat = json.dumps(value, ensure_ascii=False)
    if used + len(flat) <= width or not isinstance(value, (dict, list)) or not value:
        return flat
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            prefix = f"{inner}{json.dumps(key, ensure_ascii=False)}: "
            items.append(prefix + pretty(item, indent + 2, len(prefix), width))
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    items = [inner + pretty(item, indent + 2, len(inner), width) for item in value]
    return "[\n" + ",\n".join(items) + "\n" + pad + "]"


def json_block(value):
    return ["```json", pretty(value), "```"]


def render(schema):
    defs = schema["$defs"]
    methods = schema["x-methods"]
    errors = {e["code"]: e for e in schema["x-errors"]}
    version = schema["x-protocolVersion"]
    out = []
    add = out.append

    add("<!-- Generated by scripts/gen_protocol_docs.py from lmdbg.schema.json: do not edit by hand. -->")
    add("<!-- Edit the schema, then run `python3 scripts/gen_protocol_docs.py`; `--check` tells when this file is stale. -->")
    add("")
    add(f"# {schema['title']} {version}")
    add("")
    add(schema["description"])
    add("")
    add("Contents: " + " · ".join(
        [f"[{s['title']}](#{s['title'].lower().replace(' ', '-').replace(',', '')})" for s in schema["x-sections"]]
        + ["[Methods](#methods)", "[Errors](#errors)", "[Types](#types)", "[JSON-RPC envelope](#json-rpc-envelope)"]))
    add("")
    for section in schema["x-sections"]:
        add(f"## {section['title']}")
        add("")
        out.extend(section["lines"])
        add("")

    # --- method index ---
    add("## Methods")
    add("")
    add("| method | kind | direction | params | result | summary |")
    add("|---|---|---|---|---|---|")
    for m in methods:
        params = ref_name(m["params"]["$ref"])
        result = f"[`{ref_name(m['result']['$ref'])}`](#{anchor(ref_name(m['result']['$ref']))})" if "result" in m else ""
        add(f"| [`{m['method']}`](#method-{m['method'].replace('/', '-').replace('$', '')}) | {m['kind']} "
            f"| {DIRECTIONS[m['direction']]} | [`{params}`](#{anchor(params)}) | {result} "
            f"| {cell(first_sentence(m['description']))} |")
    add("")

    groups = [
        ("Requests (client → server)", lambda m: m["kind"] == "request"),
        ("Notifications (client → server)", lambda m: m["kind"] == "notification" and m["direction"] == "clientToServer"),
        ("Notifications (server → client)", lambda m: m["kind"] == "notification" and m["direction"] == "serverToClient"),
    ]
    rendered_inline = set()
    for title, belongs in groups:
        add(f"### {title}")
        add("")
        for m in filter(belongs, methods):
            method_id = m["method"].replace("/", "-").replace("$", "")
            add(f'<a id="method-{method_id}"></a>')
            add(f"#### `{m['method']}`")
            add("")
            add(m["description"])
            add("")
            add(f"Swift type: `{m['swiftType']}`.")
            add("")
            params = ref_name(m["params"]["$ref"])
            params_schema = defs[params]
            rendered_inline.add(params)
            add(f'<a id="{anchor(params)}"></a>')
            label = "Params"
            if not params_schema.get("properties"):
                add(f"**{label}** (`{params}`): none; send `{{}}` or leave `params` out.")
                add("")
            else:
                add(f"**{label}** (`{params}`):")
                add("")
                out.extend(describe_schema(params, defs))
                add("")
            if "result" in m:
                result = ref_name(m["result"]["$ref"])
                first_use = result not in rendered_inline
                if first_use:
                    add(f'<a id="{anchor(result)}"></a>')
                    rendered_inline.add(result)
                result_schema = defs[result]
                if result_schema.get("type") == "object" and not result_schema.get("properties"):
                    add(f"**Result** (`{result}`): `{{}}`.")
                    add("")
                elif result_schema.get("type") == "null":
                    add(f"**Result** (`{result}`): `null`.")
                    add("")
                elif not first_use:
                    add(f"**Result**: [`{result}`](#{anchor(result)}), as above.")
                    add("")
                else:
                    add(f"**Result** (`{result}`):")
                    add("")
                    out.extend(describe_schema(result, defs))
                    add("")
                add("**Errors:** " + ", ".join(f"[`{c}`](#error-{abs(c)}) {errors[c]['name']}" for c in m["errors"]) + ".")
                add("")
            example = {"jsonrpc": "2.0"}
            if m["kind"] == "request":
                example["id"] = 1
            example["method"] = m["method"]
            if params_schema.get("examples"):
                example["params"] = params_schema["examples"][0]
            lines = ["**Example:**", ""] + json_block(example)
            if "result" in m:
                result_schema = defs[ref_name(m["result"]["$ref"])]
                if result_schema.get("type") == "null":
                    answer = None
                elif result_schema.get("examples"):
                    answer = result_schema["examples"][0]
                elif result_schema.get("type") == "object" and not result_schema.get("properties"):
                    answer = {}
                else:
                    answer = ...
                if answer is not ...:
                    lines += ["", "→"] + [""] + json_block({"jsonrpc": "2.0", "id": 1, "result": answer})
            out.extend(lines)
            add("")

    # --- errors ---
    add("## Errors")
    add("")
    add("A failed request is answered with `{\"jsonrpc\": \"2.0\", \"id\": <id>, \"error\": {\"code\", \"message\", \"data\"?}}`. "
        "Codes from -32768 to -32000 are JSON-RPC's and LSP's range; lmdbg's own codes sit in LSP's unused part of it.")
    add("")
    add("| code | name | meaning | data |")
    add("|---|---|---|---|")
    for code, e in errors.items():
        data = ""
        if "data" in e:
            data_name = ref_name(e["data"]["$ref"])
            data = f"[`{data_name}`](#{anchor(data_name)})"
        add(f'| <a id="error-{abs(code)}"></a>`{code}` | {e["name"]} | {cell(e["description"])} | {data} |')
    add("")

    # --- types ---
    add("## Types")
    add("")
    add("The types that params and results use, in alphabetical order.")
    add("")
    for name in sorted(defs, key=str.lower):
        if name in rendered_inline or name in ENVELOPE:
            continue
        add(f'<a id="{anchor(name)}"></a>')
        add(f"### `{name}`")
        add("")
        out.extend(describe_schema(name, defs))
        add("")
        for example in defs[name].get("examples", [])[:1]:
            add("Example:")
            add("")
            out.extend(json_block(example))
            add("")

    add("## JSON-RPC envelope")
    add("")
    for name in ENVELOPE:
        add(f'<a id="{anchor(name)}"></a>')
        add(f"### `{name}`")
        add("")
        out.extend(describe_schema(name, defs))
        add("")

    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description="Generates Protocol/README.md from the schema.")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="fail if the markdown on disk is not what the schema generates")
    mode.add_argument("--stdout", action="store_true", help="print the markdown instead of writing it")
    parser.add_argument("--schema", default=str(SCHEMA))
    parser.add_argument("--output", default=str(README))
    args = parser.parse_args()

    markdown = render(json.loads(pathlib.Path(args.schema).read_text(encoding="utf-8")))
    output = pathlib.Path(args.output)
    if args.stdout:
        sys.stdout.write(markdown)
        return 0
    if args.check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current == markdown:
            print(f"gen_protocol_docs: {output} is up to date")
            return 0
        diff = list(difflib.unified_diff(current.splitlines(), markdown.splitlines(),
                                         f"{output} (committed)", f"{output} (generated)", lineterm="", n=1))
        sys.stderr.write("\n".join(diff[:40]) + ("\n…\n" if len(diff) > 40 else "\n"))
        sys.stderr.write(f"gen_protocol_docs: {output} is stale; run `python3 scripts/gen_protocol_docs.py`\n")
        return 1
    output.write_text(markdown, encoding="utf-8")
    print(f"gen_protocol_docs: wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
