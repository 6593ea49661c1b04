#!/usr/bin/env python3
"""Replays Specs/*.jsonrpc transcripts against the lmdbg server over real stdio (see Specs/README.md).

    python3 scripts/run_specs.py                       # every Specs/*.jsonrpc against .build/release/lmdbg
    python3 scripts/run_specs.py --server PATH FILE...  # chosen transcripts against another binary

For each transcript it starts the server with pipes, sends each block's message framed with
Content-Length, and matches the server's messages, in order, against the block's `// CHECK:` patterns.
Every message the server sends is also checked against Protocol/lmdbg.schema.json. A failure is reported
as `FILE:LINE: error: ...` at the directive concerned. Exit status: 0 all passed, 1 some failed,
2 the run could not start (no server binary, bad transcript syntax, missing jsonschema).
"""
import argparse
import json
import os
import pathlib
import queue
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_SERVER = ROOT / ".build" / "release" / "lmdbg"
DEFAULT_SCHEMA = ROOT / "Protocol" / "lmdbg.schema.json"
DEFAULT_TIMEOUT = 10.0
DIRECTIVES = ("CHECK", "EXIT", "ARGS", "TIMEOUT")
DIRECTIVE_RE = re.compile(r"^//\s*([A-Z][A-Z-]*):(.*)$")

# --- patterns ------------------------------------------------------------------------------------------

WILD_VALUE = "\ue000"  # marks a placeholder string standing for a whole-value wildcard
WILD_IN_STRING = "\ue001"  # marks a wildcard inside a string


class SpecSyntaxError(Exception):
    def __init__(self, path, line, message):
        super().__init__(f"{path}:{line}: error: {message}")


class Wildcard:
    """`{{regex}}` in a value position: matches a value whose compact JSON text fully matches the regex."""

    def __init__(self, regex):
        self.source = regex
        self.regex = re.compile(regex, re.DOTALL)

    def __repr__(self):
        return "{{" + self.source + "}}"


class StringPattern:
    """A string with `{{regex}}` parts: matches a string that fully matches literal parts and regexes."""

    def __init__(self, parts):
        self.parts = parts  # literal strings and Wildcards, alternating
        self.regex = re.compile("".join(p.source if isinstance(p, Wildcard) else re.escape(p) for p in parts),
                                re.DOTALL)

    def __repr__(self):
        return json.dumps("".join(repr(p) if isinstance(p, Wildcard) else p for p in self.parts))


def balance(text):
    """How many brackets `text` leaves open, ignoring strings and {{...}} wildcards; None if it closes too many."""
    depth, i, in_string = 0, 0, False
    while i < len(text):
        c = text[i]
        if text.startswith("{{", i):
            end = text.find("}}", i + 2)
            if end < 0:
                return depth + 1
            i = end + 2
            continue
        if in_string:
            if c == "\\":
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth < 0:
                return None
        i += 1
    return depth


def parse_pattern(text):
    """Parses a CHECK pattern: JSON where `{{regex}}` may stand for a value or for part of a string."""
    regexes, out, i, in_string = [], [], 0, False
    while i < len(text):
        if text.startswith("{{", i):
            end = text.find("}}", i + 2)
            if end < 0:
                raise ValueError("unclosed {{")
            regex = text[i + 2:end]
            try:
                re.compile(regex)
            except re.error as error:
                raise ValueError(f"bad regex {{{{{regex}}}}}: {error}")
            regexes.append(Wildcard(regex))
            index = len(regexes) - 1
            out.append(f"{WILD_IN_STRING}{index}{WILD_IN_STRING}" if in_string else f'"{WILD_VALUE}{index}{WILD_VALUE}"')
            i = end + 2
            continue
        c = text[i]
        out.append(c)
        if in_string:
            if c == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        i += 1
    try:
        raw = json.loads("".join(out))
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON: {error.msg} (column {error.colno})")

    def convert(value):
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        if isinstance(value, str):
            whole = re.fullmatch(f"{WILD_VALUE}(\\d+){WILD_VALUE}", value)
            if whole:
                return regexes[int(whole.group(1))]
            if WILD_IN_STRING in value:
                pieces = value.split(WILD_IN_STRING)
                parts = [regexes[int(p)] if n % 2 else p for n, p in enumerate(pieces)]
                return StringPattern([p for p in parts if p != ""])
        return value

    return convert(raw)


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def show(value, limit=300):
    text = repr(value) if isinstance(value, (Wildcard, StringPattern)) else compact(value)
    return text if len(text) <= limit else text[:limit] + "…"


def match(pattern, actual, path="$"):
    """None when `actual` matches `pattern`, else a sentence saying where and how it differs.

    Objects match when every member of the pattern matches (the actual object may have more members);
    arrays match element by element and must have the same length; other values must be equal.
    """
    if isinstance(pattern, Wildcard):
        return None if pattern.regex.fullmatch(compact(actual)) else f"{path}: {show(actual)} does not match {pattern!r}"
    if isinstance(pattern, StringPattern):
        if not isinstance(actual, str):
            return f"{path}: expected a string matching {pattern!r}, got {show(actual)}"
        return None if pattern.regex.fullmatch(actual) else f"{path}: {show(actual)} does not match {pattern!r}"
    if isinstance(pattern, dict):
        if not isinstance(actual, dict):
            return f"{path}: expected an object, got {show(actual)}"
        for key, value in pattern.items():
            if key not in actual:
                return f"{path}: member {json.dumps(key)} is missing (got {show(actual)})"
            problem = match(value, actual[key], f"{path}.{key}")
            if problem:
                return problem
        return None
    if isinstance(pattern, list):
        if not isinstance(actual, list):
            return f"{path}: expected an array, got {show(actual)}"
        if len(pattern) != len(actual):
            return f"{path}: expected {len(pattern)} elements, got {len(actual)}: {show(actual)}"
        for index, (p, a) in enumerate(zip(pattern, actual)):
            problem = match(p, a, f"{path}[{index}]")
            if problem:
                return problem
        return None
    same_kind = (isinstance(pattern, bool) == isinstance(actual, bool)) and (
        (pattern is None) == (actual is None))
    if same_kind and type(pattern) in (int, float) and type(actual) in (int, float):
        equal = pattern == actual
    else:
        equal = same_kind and type(pattern) is type(actual) and pattern == actual
    return None if equal else f"{path}: expected {show(pattern)}, got {show(actual)}"


# --- transcripts ---------------------------------------------------------------------------------------

class Check:
    def __init__(self, line, text):
        self.line, self.text = line, text
        self.pattern = None


class Block:
    def __init__(self, line):
        self.line = line  # first line of the block
        self.body_lines = []  # (line number, text)
        self.checks = []

    @property
    def body(self):
        lines = [text for _, text in self.body_lines]
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        return "\n".join(lines)

    @property
    def body_line(self):
        for number, text in self.body_lines:
            if text.strip():
                return number
        return self.line


class Transcript:
    def __init__(self, path):
        self.path = path
        self.blocks = []
        self.args = []
        self.exit_code = None
        self.exit_line = None
        self.timeout = None


def parse_transcript(path):
    transcript = Transcript(path)
    block = Block(1)
    transcript.blocks.append(block)
    open_check = None
    lines = pathlib.Path(path).read_text(encoding="utf-8").split("\n")
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if open_check is not None:
            if not stripped.startswith("//"):
                raise SpecSyntaxError(path, open_check.line, "CHECK pattern is not closed (unbalanced brackets)")
            open_check.text += "\n" + stripped[2:]
            depth = balance(open_check.text)
            if depth is None:
                raise SpecSyntaxError(path, number, "CHECK pattern closes more brackets than it opens")
            if depth == 0:
                open_check = None
            continue
        if stripped == "---":
            block = Block(number + 1)
            transcript.blocks.append(block)
            continue
        directive = DIRECTIVE_RE.match(stripped)
        if directive:
            name, value = directive.group(1), directive.group(2).strip()
            if name not in DIRECTIVES:
                raise SpecSyntaxError(path, number, f"unknown directive {name}: (known: {', '.join(DIRECTIVES)})")
            if name == "CHECK":
                check = Check(number, value)
                block.checks.append(check)
                depth = balance(value)
                if depth is None:
                    raise SpecSyntaxError(path, number, "CHECK pattern closes more brackets than it opens")
                if depth > 0:
                    open_check = check
            elif name == "EXIT":
                if not re.fullmatch(r"-?\d+", value):
                    raise SpecSyntaxError(path, number, f"EXIT needs an exit code, got {value!r}")
                if transcript.exit_code is not None:
                    raise SpecSyntaxError(path, number, "EXIT may appear once")
                transcript.exit_code, transcript.exit_line = int(value), number
            elif name == "ARGS":
                transcript.args += [os.path.expandvars(a) for a in shlex.split(value)]
            elif name == "TIMEOUT":
                try:
                    transcript.timeout = float(value)
                except ValueError:
                    raise SpecSyntaxError(path, number, f"TIMEOUT needs seconds, got {value!r}")
            continue
        if stripped.startswith("//"):
            continue  # a comment
        if transcript.exit_line is not None and stripped:
            raise SpecSyntaxError(path, number, "nothing may follow EXIT but comments")
        block.body_lines.append((number, line))
    if open_check is not None:
        raise SpecSyntaxError(path, open_check.line, "CHECK pattern is not closed (unbalanced brackets)")
    for block in transcript.blocks:
        for check in block.checks:
            try:
                check.pattern = parse_pattern(check.text)
            except ValueError as error:
                raise SpecSyntaxError(path, check.line, f"bad CHECK pattern: {error}")
    transcript.blocks = [b for b in transcript.blocks if b.body or b.checks]
    return transcript


# --- schema checks of what the server sends -----------------------------------------------------------

class SchemaChecker:
    """Checks each server message against the protocol schema (needs the `jsonschema` package)."""

    ENVELOPE_CODES = {-32700, -32600, -32601, -32002}

    def __init__(self, schema_path):
        import jsonschema  # noqa: F401  (reported by main when missing)
        self.jsonschema = jsonschema
        self.schema = json.loads(pathlib.Path(schema_path).read_text(encoding="utf-8"))
        self.methods = {m["method"]: m for m in self.schema["x-methods"]}
        self.errors = {e["code"]: e for e in self.schema["x-errors"]}
        self.validators = {}

    def validator(self, ref):
        if ref not in self.validators:
            sub = dict(self.schema)
            sub["$ref"] = ref
            self.validators[ref] = self.jsonschema.Draft202012Validator(sub)
        return self.validators[ref]

    def problems(self, ref, value, where):
        return [f"{where}{'.' if e.absolute_path else ''}{'.'.join(map(str, e.absolute_path))}: {e.message}"
                for e in self.validator(ref).iter_errors(value)]

    def check(self, message, sent_methods):
        """A list of problems with one server message; `sent_methods` maps request ids to methods."""
        found = self.problems("#/$defs/Message", message, "message")
        if found or not isinstance(message, dict):
            return found
        if "method" in message:
            if "id" in message:
                return ["the server sent a request; this protocol has none"]
            entry = self.methods.get(message["method"])
            if entry is None or entry["direction"] != "serverToClient" or entry["kind"] != "notification":
                return [f"the server sent {message['method']!r}, which is not a server → client notification"]
            return self.problems(entry["params"]["$ref"], message.get("params", {}), "params")
        method = sent_methods.get(json.dumps(message.get("id")))
        entry = self.methods.get(method) if method else None
        if "error" in message:
            code = message["error"]["code"]
            allowed = set(entry["errors"]) if entry else set()
            if code not in allowed | self.ENVELOPE_CODES:
                known = self.errors.get(code)
                return [f"error code {code} ({known['name'] if known else 'unknown'}) is not listed for "
                        f"{method or 'this request'} in the schema"]
            data_ref = self.errors.get(code, {}).get("data", {}).get("$ref")
            if data_ref and "data" in message["error"]:
                return self.problems(data_ref, message["error"]["data"], "error.data")
            return []
        if entry is None:
            return [] if method is None and message.get("id") is None else \
                [f"a result for id {message.get('id')!r}, which names no request of the protocol sent"]
        return self.problems(entry["result"]["$ref"], message.get("result"), "result")


# --- talking to the server -----------------------------------------------------------------------------

class Server:
    """The server process, with a reader thread turning its stdout into messages."""

    def __init__(self, command):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, cwd=ROOT)
        self.messages = queue.Queue()
        self.stderr = bytearray()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self):
        stream = self.process.stdout
        try:
            while True:
                headers = {}
                while True:
                    line = stream.readline()
                    if not line:
                        self.messages.put(("eof", "the server closed stdout" if not headers else
                                           "the server closed stdout inside a header"))
                        return
                    if line in (b"\r\n", b"\n"):
                        if headers:
                            break
                        continue
                    if not line.endswith(b"\r\n"):
                        self.messages.put(("error", f"header line not ended by CRLF: {line[:200]!r}"))
                        return
                    name, sep, value = line[:-2].decode("latin-1").partition(":")
                    if not sep:
                        self.messages.put(("error", f"not a header line: {line[:200]!r}"))
                        return
                    headers[name.strip().lower()] = value.strip()
                if "content-length" not in headers or not headers["content-length"].isdigit():
                    self.messages.put(("error", f"no valid Content-Length header in {headers}"))
                    return
                length = int(headers["content-length"])
                body = stream.read(length)
                if len(body) < length:
                    self.messages.put(("eof", f"the server closed stdout after {len(body)} of {length} body bytes"))
                    return
                try:
                    self.messages.put(("message", json.loads(body.decode("utf-8"))))
                except (UnicodeDecodeError, json.JSONDecodeError) as error:
                    self.messages.put(("error", f"message body is not JSON ({error}): {body[:200]!r}"))
                    return
        except Exception as error:  # the reader must always report
            self.messages.put(("error", f"reading the server's output failed: {error}"))

    def _read_stderr(self):
        for chunk in iter(lambda: self.process.stderr.read1(4096), b""):
            self.stderr += chunk

    def send(self, body):
        data = body.encode("utf-8")
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        self.process.stdin.flush()

    def receive(self, timeout):
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            return ("timeout", None)

    def close_stdin(self):
        try:
            self.process.stdin.close()
        except OSError:
            pass

    def wait(self, timeout):
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stderr_tail(self, lines=15):
        text = self.stderr.decode("utf-8", "replace").rstrip()
        if not text:
            return ""
        tail = text.split("\n")[-lines:]
        return "\n".join("    | " + line for line in tail)


def run_transcript(transcript, server_command, timeout, checker):
    """Runs one transcript; returns a list of failure lines (empty when it passed) and the count of checks."""
    path = transcript.path
    wait = transcript.timeout or timeout
    failures = []
    checks_done = 0
    sent_methods = {}

    def fail(line, message):
        failures.append(f"{path}:{line}: error: {message}")

    try:
        server = Server(server_command + transcript.args)
    except OSError as error:
        return [f"{path}:1: error: cannot start {shlex.join(server_command)}: {error}"], 0

    def describe_end(kind, detail):
        code = server.wait(0.5)
        status = f"; it exited with code {code}" if code is not None else ""
        return f"{detail}{status}" if kind != "timeout" else f"no message from the server within {wait:g} s{status}"

    def receive_checked(line):
        """The next server message, schema-checked, or None after reporting why there is none."""
        kind, payload = server.receive(wait)
        if kind != "message":
            fail(line, describe_end(kind, payload))
            return None
        if checker:
            for problem in checker.check(payload, sent_methods):
                fail(line, f"the server's message does not follow the schema: {problem}\n    message: {show(payload)}")
        return payload

    try:
        for block in transcript.blocks:
            body = block.body
            if body:
                try:
                    sent = json.loads(body)
                    if isinstance(sent, dict) and "id" in sent and "method" in sent:
                        sent_methods[json.dumps(sent["id"])] = sent["method"]
                except json.JSONDecodeError:
                    pass  # malformed on purpose
                try:
                    server.send(body)
                except OSError as error:
                    fail(block.body_line, f"cannot send the message: {error} (" + describe_end("eof", "the server is gone") + ")")
                    break
            for check in block.checks:
                message = receive_checked(check.line)
                if message is None:
                    break
                checks_done += 1
                problem = match(check.pattern, message)
                if problem:
                    expected = "\n              ".join(l.strip() for l in check.text.strip().split("\n"))
                    fail(check.line, f"CHECK failed: {problem}\n    expected: {expected}\n    received: {show(message, 2000)}")
                    break
            if failures:
                break

        if not failures:
            server.close_stdin()
            code = server.wait(wait)
            line = transcript.exit_line or (transcript.blocks[-1].line if transcript.blocks else 1)
            # Whatever the server sent after the last CHECK is a failure: nothing goes unchecked.
            while True:
                kind, payload = server.receive(0.2 if code is not None else 0)
                if kind == "message":
                    fail(line, f"unexpected message after the last CHECK: {show(payload, 2000)}")
                elif kind == "error":
                    fail(line, f"malformed output after the last CHECK: {payload}")
                else:
                    break
            if code is None:
                fail(line, f"the server did not exit within {wait:g} s after its stdin was closed")
            elif transcript.exit_code is not None and code != transcript.exit_code:
                fail(transcript.exit_line, f"EXIT: expected exit code {transcript.exit_code}, got {code}")
    finally:
        server.kill()
    if failures:
        tail = server.stderr_tail()
        if tail:
            failures.append("    server stderr (last lines):\n" + tail)
    return failures, checks_done


def resolve_server(text):
    """The server command as a list, or None when its program cannot be found."""
    command = shlex.split(text)
    if not command:
        return None
    program = command[0]
    if os.sep in program:
        path = pathlib.Path(program)
        if not path.is_absolute():
            path = pathlib.Path.cwd() / path
        if not (path.is_file() and os.access(path, os.X_OK)):
            return None
        command[0] = str(path)
        return command
    found = shutil.which(program)
    return [found] + command[1:] if found else None


def main(argv=None):
    parser = argparse.ArgumentParser(description="Replays Specs/*.jsonrpc transcripts against the lmdbg server.")
    parser.add_argument("files", nargs="*", help="transcripts (default: Specs/*.jsonrpc)")
    parser.add_argument("--server", default=os.environ.get("LMDBG_SERVER", str(DEFAULT_SERVER)),
                        help="the server command (default: $LMDBG_SERVER or .build/release/lmdbg)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help="seconds to wait for each message and for the exit (default %(default)s)")
    parser.add_argument("--schema", default=str(DEFAULT_SCHEMA), help="the protocol schema")
    parser.add_argument("--no-schema", action="store_true", help="do not check server messages against the schema")
    args = parser.parse_args(argv)

    command = resolve_server(args.server)
    if command is None:
        print(f"run_specs: error: the server {args.server!r} does not exist or is not executable; build it with "
              f"`swift build -c release --product lmdbg`, or pass --server", file=sys.stderr)
        return 2
    checker = None
    if not args.no_schema:
        try:
            checker = SchemaChecker(args.schema)
        except ImportError:
            print("run_specs: error: the Python package `jsonschema` is missing (scripts/bootstrap installs it); "
                  "--no-schema skips the schema checks", file=sys.stderr)
            return 2
    files = args.files or sorted(str(p.relative_to(pathlib.Path.cwd())) if p.is_relative_to(pathlib.Path.cwd()) else str(p)
                                 for p in (ROOT / "Specs").glob("*.jsonrpc"))
    if not files:
        print("run_specs: error: no transcripts to run", file=sys.stderr)
        return 2
    try:
        transcripts = [parse_transcript(f) for f in files]
    except SpecSyntaxError as error:
        print(error, file=sys.stderr)
        return 2
    except OSError as error:
        print(f"run_specs: error: {error}", file=sys.stderr)
        return 2

    failed = 0
    for transcript in transcripts:
        started = time.monotonic()
        failures, checks = run_transcript(transcript, command, args.timeout, checker)
        elapsed = time.monotonic() - started
        if failures:
            failed += 1
            print(f"FAIL {transcript.path} ({elapsed:.1f} s)")
            for failure in failures:
                print(failure)
        else:
            print(f"PASS {transcript.path} ({checks} checks, {elapsed:.1f} s)")
    print(f"run_specs: {len(transcripts) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
