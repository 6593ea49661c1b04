"""Python client for lmdbg, a debugger for transformer language models.

    with lmdbg.Client(model="smollm2") as dbg:
        dbg.set_breakpoints(["blocks.5.hook_resid_post"])
        dbg.launch("The Eiffel Tower is in the city of")
        stop = dbg.wait_for("debug/stopped")
        resid = dbg.read_tensor(stop["hook"])   # numpy float32 [pos, d_model]
"""
from .client import PROTOCOL_VERSION, Client, Event, Run, find_server
from .errors import ErrorCode, LMDBGError, ProtocolError, RPCError, ServerExited, ServerNotFound
from .framing import FrameDecoder, encode_message
from .tensors import decode_tensor, encode_tensor, to_float
from .transport import PendingRequest, Transport

__all__ = [
    "PROTOCOL_VERSION", "Client", "Event", "Run", "find_server",
    "ErrorCode", "LMDBGError", "ProtocolError", "RPCError", "ServerExited", "ServerNotFound",
    "FrameDecoder", "encode_message",
    "decode_tensor", "encode_tensor", "to_float",
    "PendingRequest", "Transport",
]
