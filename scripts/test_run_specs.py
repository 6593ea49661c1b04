#!/usr/bin/env python3
"""Tests of scripts/run_specs.py: its pattern matcher, its transcript parser, and whole runs against
Specs/selftest/fake_lmdbg.py, a stand-in server that can misbehave on purpose.

    python3 -m unittest scripts/test_run_specs.py      (or run this file)
"""
import io
import os
import pathlib
import subprocess
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import run_specs  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
FAKE = ROOT / "Specs" / "selftest" / "fake_lmdbg.py"
# The transcripts the fake server can pass: those that load no model (the others need the real lmdbg).
SPECS = sorted(str(p) for p in (ROOT / "Specs").glob("*.jsonrpc") if '"model/load"' not in p.read_text())


def matches(pattern_text, actual):
    return run_specs.match(run_specs.parse_pattern(pattern_text), actual) is None


class PatternTests(unittest.TestCase):
    def test_objects_match_as_subsets(self):
        self.assertTrue(matches('{"id": 1}', {"id": 1, "result": {}}))
        self.assertFalse(matches('{"id": 1, "result": {}}', {"id": 1}))
        self.assertTrue(matches('{"result": {"a": {"b": 2}}}', {"result": {"a": {"b": 2, "c": 3}, "d": 4}}))
        self.assertFalse(matches('{"result": {"a": {"b": 2}}}', {"result": {"a": {"b": 3}}}))

    def test_arrays_match_exactly(self):
        self.assertTrue(matches("[1, 2]", [1, 2]))
        self.assertFalse(matches("[1, 2]", [1, 2, 3]))
        self.assertFalse(matches("[1, 2]", [2, 1]))
        self.assertTrue(matches('[{"a": 1}]', [{"a": 1, "b": 2}]))

    def test_scalars(self):
        self.assertTrue(matches("null", None))
        self.assertFalse(matches("null", 0))
        self.assertTrue(matches("1", 1.0))
        self.assertFalse(matches("1", True))
        self.assertFalse(matches("true", 1))
        self.assertFalse(matches('"1"', 1))

    def test_value_wildcards(self):
        self.assertTrue(matches('{"id": {{.*}}}', {"id": "abc"}))
        self.assertTrue(matches('{"id": {{.*}}}', {"id": {"nested": [1]}}))
        self.assertTrue(matches('{"id": {{[0-9]+}}}', {"id": 42}))
        self.assertFalse(matches('{"id": {{[0-9]+}}}', {"id": "42"}))  # the JSON text of "42" has quotes
        self.assertTrue(matches('{"id": {{5|null}}}', {"id": None}))
        self.assertFalse(matches('{"id": {{.*}}}', {}))  # a wildcard member still has to be there

    def test_string_wildcards(self):
        self.assertTrue(matches('"blocks.{{[0-9]+}}.hook_resid_post"', "blocks.12.hook_resid_post"))
        self.assertFalse(matches('"blocks.{{[0-9]+}}.hook_resid_post"', "blocks.x.hook_resid_post"))
        self.assertFalse(matches('"a{{.*}}"', "ba"))  # the whole string must match
        self.assertTrue(matches('"a.b{{.*}}"', "a.bc"))
        self.assertFalse(matches('"a.b{{.*}}"', "axbc"))  # literal parts are not regexes
        self.assertFalse(matches('"{{.*}}"', 3))
        self.assertTrue(matches(r'"{{\d+\.\d+}}"', "0.1"))  # backslashes are the regex's, not JSON's

    def test_failure_names_the_path(self):
        problem = run_specs.match(run_specs.parse_pattern('{"error": {"code": -32601}}'),
                                  {"error": {"code": -32600, "message": "x"}})
        self.assertIn("$.error.code", problem)
        self.assertIn("-32601", problem)
        problem = run_specs.match(run_specs.parse_pattern('{"a": [1, {"b": 2}]}'), {"a": [1, {"b": 3}]})
        self.assertIn("$.a[1].b", problem)

    def test_bad_patterns(self):
        for text in ['{"id": }', '{"id": {{[}}}', '{"id": {{.*', "[1,"]:
            with self.assertRaises(ValueError, msg=text):
                run_specs.parse_pattern(text)


class TranscriptParserTests(unittest.TestCase):
    def parse(self, text):
        handle = tempfile.NamedTemporaryFile("w", suffix=".jsonrpc", delete=False)
        self.addCleanup(os.unlink, handle.name)
        handle.write(textwrap.dedent(text))
        handle.close()
        return run_specs.parse_transcript(handle.name)

    def test_blocks_checks_and_exit(self):
        transcript = self.parse("""\
            // a comment
            {"jsonrpc": "2.0", "id": 1,
             "method": "initialize"}
            // CHECK: {"id": 1}
            // CHECK: {"method": "debug/output"}
            ---
            ---
            // CHECK: {"method": "debug/stopped"}
            ---
            {"jsonrpc": "2.0", "method": "exit"}
            // EXIT: 0
            // trailing comment
            """)
        self.assertEqual(len(transcript.blocks), 3)  # the empty block is dropped
        first = transcript.blocks[0]
        self.assertEqual(first.body, '{"jsonrpc": "2.0", "id": 1,\n "method": "initialize"}')
        self.assertEqual(first.body_line, 2)
        self.assertEqual([c.line for c in first.checks], [4, 5])
        self.assertEqual(transcript.blocks[1].body, "")
        self.assertEqual(transcript.blocks[1].checks[0].line, 8)
        self.assertEqual(transcript.exit_code, 0)
        self.assertEqual(transcript.exit_line, 11)

    def test_multiline_check(self):
        transcript = self.parse("""\
            {"jsonrpc": "2.0", "id": 1, "method": "initialize"}
            // CHECK: {"id": 1, "result": {
            //   "serverInfo": {"name": "lmdbg"}
            // }}
            """)
        check = transcript.blocks[0].checks[0]
        self.assertEqual(check.line, 2)
        self.assertTrue(run_specs.match(check.pattern, {"id": 1, "result": {"serverInfo": {"name": "lmdbg"}}}) is None)

    def test_syntax_errors_name_the_line(self):
        cases = [
            ('{"id": 1}\n// CHEKC: {"id": 1}\n', ":2:", "unknown directive"),
            ('{"id": 1}\n// CHECK: {"id": \n', ":2:", "not closed"),
            ('{"id": 1}\n\n// CHECK: {"id": 1}}\n', ":3:", "closes more"),
            ('{"id": 1}\n// CHECK: {"id" 1}\n', ":2:", "bad CHECK pattern"),
            ('// EXIT: zero\n', ":1:", "exit code"),
            ('// EXIT: 0\n{"id": 1}\n', ":2:", "follow EXIT"),
        ]
        for text, line, message in cases:
            with self.assertRaises(run_specs.SpecSyntaxError, msg=text) as caught:
                self.parse(text)
            self.assertIn(line, str(caught.exception), text)
            self.assertIn(message, str(caught.exception), text)


def run(*args, timeout=60):
    """Runs run_specs.py as a program: (exit status, stdout + stderr)."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "run_specs.py"), *args],
                            capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    return result.returncode, result.stdout + result.stderr


class EndToEndTests(unittest.TestCase):
    def test_the_transcripts_pass_against_the_fake_server(self):
        self.assertTrue(SPECS, "no Specs/*.jsonrpc")
        status, output = run("--server", str(FAKE), *SPECS)
        self.assertEqual(status, 0, output)
        self.assertEqual(output.count("PASS "), len(SPECS), output)

    def test_a_failing_check_is_reported_at_its_line(self):
        status, output = run("--server", str(FAKE), "Specs/selftest/failing.jsonrpc")
        self.assertEqual(status, 1, output)
        self.assertIn("FAIL Specs/selftest/failing.jsonrpc", output)
        self.assertIn("Specs/selftest/failing.jsonrpc:7: error: CHECK failed: $.result.patches: expected 1 elements, got 0", output)

    def misbehaving(self, kind, spec="Specs/errors.jsonrpc", timeout="2"):
        return run("--timeout", timeout, "--server", f"{FAKE} --misbehave {kind}", spec)

    def test_a_wrong_error_code(self):
        status, output = self.misbehaving("wrong-code")
        self.assertEqual(status, 1, output)
        self.assertIn("Specs/errors.jsonrpc:17: error: CHECK failed: $.error.code: expected -32601, got -32600", output)

    def test_a_server_that_does_not_exit(self):
        status, output = self.misbehaving("no-exit", "Specs/lifecycle.jsonrpc", timeout="1")
        self.assertEqual(status, 1, output)
        self.assertIn("did not exit within 1 s", output)

    def test_unframed_output(self):
        status, output = self.misbehaving("unframed", "Specs/lifecycle.jsonrpc")
        self.assertEqual(status, 1, output)
        self.assertIn("Specs/lifecycle.jsonrpc:13: error: header line not ended by CRLF", output)

    def test_an_unchecked_message_at_the_end(self):
        status, output = self.misbehaving("extra", "Specs/lifecycle.jsonrpc")
        self.assertEqual(status, 1, output)
        self.assertIn("unexpected message after the last CHECK", output)

    def test_a_message_that_breaks_the_schema(self):
        status, output = self.misbehaving("bad-schema", "Specs/exit-without-shutdown.jsonrpc")
        self.assertEqual(status, 1, output)
        self.assertIn("Specs/exit-without-shutdown.jsonrpc:3: error: the server's message does not follow the schema: "
                      "result: 'capabilities' is a required property", output)
        status, output = run("--no-schema", "--timeout", "2", "--server", f"{FAKE} --misbehave bad-schema",
                             "Specs/exit-without-shutdown.jsonrpc")
        self.assertEqual(status, 0, output)

    def test_a_crash(self):
        status, output = self.misbehaving("crash")
        self.assertEqual(status, 1, output)
        self.assertIn("the server closed stdout; it exited with code 3", output)
        status, output = self.misbehaving("crash", "Specs/exit-without-shutdown.jsonrpc")
        self.assertIn("Specs/exit-without-shutdown.jsonrpc:8: error: EXIT: expected exit code 1, got 3", output)

    def test_a_missing_server_fails_clearly(self):
        status, output = run("--server", "/nonexistent/lmdbg", *SPECS)
        self.assertEqual(status, 2, output)
        self.assertIn("the server '/nonexistent/lmdbg' does not exist or is not executable", output)
        self.assertNotIn("PASS", output)

    def test_the_default_server_is_the_release_binary(self):
        env = dict(os.environ)
        env.pop("LMDBG_SERVER", None)
        result = subprocess.run([sys.executable, str(ROOT / "scripts" / "run_specs.py"), "--help"],
                                capture_output=True, text=True, env=env, cwd=ROOT)
        self.assertIn(".build/release/lmdbg", result.stdout)


if __name__ == "__main__":
    unittest.main()
