"""A tiny server process for the spawn path: answers `initialize` and `shutdown`, writes a line to stderr,
and exits 0 on `exit` after `shutdown` (1 otherwise, or at the end of input)."""
import sys

from lmdbg.framing import FrameDecoder, decode_body, encode_message


def main() -> int:
    decoder = FrameDecoder()
    shut_down = False
    print("stub server ready", file=sys.stderr, flush=True)
    while chunk := sys.stdin.buffer.read1(65536):
        for body in decoder.feed(chunk):
            message = decode_body(body)
            method = message.get("method")
            if method == "exit":
                return 0 if shut_down else 1
            if "id" not in message:
                continue
            if method == "initialize":
                result = {"protocolVersion": "0.1.0", "serverInfo": {"name": "stub", "version": "0"},
                          "capabilities": {}}
            elif method == "shutdown":
                shut_down, result = True, None
            else:
                reply = {"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": method}}
                sys.stdout.buffer.write(encode_message(reply))
                sys.stdout.buffer.flush()
                continue
            sys.stdout.buffer.write(encode_message({"jsonrpc": "2.0", "id": message["id"], "result": result}))
            sys.stdout.buffer.flush()
    return 1


if __name__ == "__main__":
    sys.exit(main())
