"""`Client`: one lmdbg server process and a typed method for each request of the protocol."""
from __future__ import annotations

import collections
import itertools
import logging
import os
import shutil
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, cast

import numpy as np
import numpy.typing as npt

from .errors import LMDBGError, ServerNotFound
from .tensors import decode_tensor, encode_tensor, is_wire_tensor
from .transport import PendingRequest, StderrMode, Transport
from .types import (
    AttributionResult,
    Breakpoint,
    ContrastReduction,
    EvaluateResult,
    ExceptionFilter,
    InitializeResult,
    LaunchResult,
    LogitLensResult,
    ModelInfo,
    Patch,
    PatchPositions,
    PatchSpec,
    PatchSweepResult,
    RequestId,
    SAEFeaturesResult,
    SAEInfo,
    Sampling,
    Scope,
    ServerCapabilities,
    SourceBreakpoint,
    StackFrame,
    SteerFromContrastResult,
    SteeringApplication,
    SteppingGranularity,
    SweepDirection,
    SweepMetric,
    SweepSite,
    TerminatedEvent,
    TokenizeResult,
    VariablesResult,
    WorkDoneProgress,
)

log = logging.getLogger("lmdbg")

#: The protocol version this client was written against (Protocol/lmdbg.schema.json, x-protocolVersion).
PROTOCOL_VERSION = "0.1.0"
CLIENT_NAME = "lmdbg-python"
#: How many unconsumed notifications `wait_for` and `events` keep; older ones are dropped.
EVENT_QUEUE_LIMIT = 10_000


@dataclass(frozen=True)
class Event:
    """A notification from the server: its method and params. `event["hook"]` reads a param."""

    method: str
    params: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.params[key]

    def get(self, key: str, default: Any = None) -> Any:
        """A param, or `default` when absent."""
        return self.params.get(key, default)


EventCallback = Callable[[Event], None]


class Run:
    """A launched run. Iterating yields its stops in order and resumes it with `debug/continue` after
    each; the iteration ends with the run, whose `debug/terminated` params are then `terminated`.
    Leaving the loop early leaves the run stopped where it is."""

    def __init__(self, client: Client, launched: LaunchResult, timeout: float | None) -> None:
        self.session_id = launched["sessionId"]
        self.prompt_tokens = launched["promptTokens"]
        self.terminated: TerminatedEvent | None = None
        self._client = client
        self._timeout = timeout

    def __iter__(self) -> Iterator[Event]:
        while self.terminated is None:
            event = self._client.wait_for("debug/stopped", "debug/terminated", timeout=self._timeout,
                                          predicate=lambda e: e.get("sessionId") == self.session_id)
            if event.method == "debug/terminated":
                self.terminated = cast(TerminatedEvent, event.params)
                return
            yield event
            self._client.continue_()

    def finish(self) -> TerminatedEvent:
        """Continues through every remaining stop to the end of the run; its `debug/terminated` params."""
        for _ in self:
            pass
        assert self.terminated is not None
        return self.terminated


def find_server(explicit: str | os.PathLike[str] | None = None) -> str:
    """The server binary: `explicit`, else `$LMDBG_SERVER`, else the repository's `.build/release/lmdbg` or
    `.build/debug/lmdbg` (when the package runs from its source tree), else `lmdbg` on PATH."""
    for origin, given in (("server argument", explicit), ("$LMDBG_SERVER", os.environ.get("LMDBG_SERVER"))):
        if given:
            found = shutil.which(os.fspath(given))
            if found is None:
                raise ServerNotFound(f"the {origin} names {os.fspath(given)!r}, which is not an executable file")
            return found
    root = Path(__file__).resolve().parents[3]  # lmdbg/ → python/ → Clients/ → the repository
    in_repository = (root / "Package.swift").is_file()
    if in_repository:
        for build in ("release", "debug"):
            candidate = root / ".build" / build / "lmdbg"
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    on_path = shutil.which("lmdbg")
    if on_path is not None:
        return on_path
    build_hint = f", build it (`swift build -c release --product lmdbg` in {root})" if in_repository else ""
    raise ServerNotFound(f"no lmdbg server found: pass server=..., set $LMDBG_SERVER{build_hint}, "
                         "or put lmdbg on PATH")


class Client:
    """A debugging session with one lmdbg server process.

    `with Client(model="smollm2") as dbg:` starts the server, initializes, loads the model, and at the end
    sends `shutdown` and `exit`. Each request of the protocol is a method that waits for the answer and
    raises `RPCError` for an error answer. Notifications reach callbacks registered with `on` (called on the
    reader thread, in arrival order) and queue up for `wait_for` and `events`.
    """

    def __init__(self, model: str | os.PathLike[str] | None = None, *,
                 server: str | os.PathLike[str] | None = None, server_args: Sequence[str] = (),
                 stderr: StderrMode = "capture", env: Mapping[str, str] | None = None,
                 timeout: float | None = None) -> None:
        """`model`: a model name for `model/load` or the path of a model file. `server`: the binary (see
        `find_server`). `stderr`: the server's stderr is kept (`"capture"`, see `server_stderr`), passed
        through (`"inherit"`), dropped (`"discard"`) or written to a file. `timeout`: the longest wait for an
        answer, in seconds (None: no limit); on expiry the request is cancelled and `TimeoutError` raised."""
        self.model = model
        self.timeout = timeout
        self.initialize_result: InitializeResult | None = None
        self.model_info: ModelInfo | None = None
        self.returncode: int | None = None
        self._server = server
        self._server_args = list(server_args)
        self._stderr = stderr
        self._env = dict(env) if env is not None else None
        self._transport: Transport | None = None
        self._callbacks: dict[str, list[EventCallback]] = collections.defaultdict(list)
        self._progress: dict[RequestId, Callable[[WorkDoneProgress], None]] = {}
        self._progress_tokens = itertools.count(1)
        self._events: collections.deque[Event] = collections.deque(maxlen=EVENT_QUEUE_LIMIT)
        self._events_changed = threading.Condition()
        self._closed_reason: LMDBGError | None = None
        self._finished = False

    # --- connecting --------------------------------------------------------------------------------------

    def start(self) -> Client:
        """Starts the server, sends `initialize` and `initialized`, and loads `model` if one was given."""
        if self._transport is not None:
            raise RuntimeError("the client was already started")
        command = [find_server(self._server), *self._server_args]
        environment = None if self._env is None else {**os.environ, **self._env}
        self._transport = Transport.spawn(command, stderr=self._stderr, env=environment,
                                          on_notification=self.handle_notification, on_close=self.handle_close)
        return self._handshake()

    def connect(self, incoming: IO[bytes], outgoing: IO[bytes]) -> Client:
        """Like `start`, but talks to a server over the given streams instead of spawning one."""
        if self._transport is not None:
            raise RuntimeError("the client was already started")
        self._transport = Transport(incoming, outgoing, on_notification=self.handle_notification,
                                    on_close=self.handle_close)
        self._transport.start()
        return self._handshake()

    def _handshake(self) -> Client:
        self.initialize()
        self.initialized()
        if self.model is not None:
            model = os.fspath(self.model)
            if os.path.isfile(model):
                self.load_model(path=os.path.abspath(model))
            else:
                self.load_model(model)
        return self

    def close(self, timeout: float = 10.0) -> int | None:
        """`shutdown`, `exit`, then waits for the process (killing it after `timeout`); its exit status."""
        transport = self._transport
        if transport is None or self._finished:
            return self.returncode
        self._finished = True
        if transport.closed is None:
            try:
                transport.request("shutdown").result(timeout)
                transport.notify("exit")
            except (LMDBGError, TimeoutError) as error:
                log.warning("closing the session: %s", error)
        transport.close_output()
        try:
            self.returncode = transport.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("the server did not exit within %s s; killing it", timeout)
            transport.kill()
            self.returncode = transport.wait(timeout)
        return self.returncode

    def __enter__(self) -> Client:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    @property
    def transport(self) -> Transport:
        """The connection (for raw messages: `send_raw`, `unmatched`)."""
        if self._transport is None:
            raise RuntimeError("the client is not started: use `with Client(...)` or call start()")
        return self._transport

    @property
    def capabilities(self) -> ServerCapabilities:
        """What the server said it supports in its `initialize` answer."""
        if self.initialize_result is None:
            raise RuntimeError("not initialized yet")
        return self.initialize_result["capabilities"]

    @property
    def server_stderr(self) -> str:
        """The last lines of the server's stderr (with `stderr="capture"`)."""
        return self.transport.stderr_text()

    # --- raw requests ------------------------------------------------------------------------------------

    def request(self, method: str, params: dict[str, Any] | None = None) -> PendingRequest:
        """Sends any request without waiting: `.result(timeout)` waits, `.cancel()` sends `$/cancelRequest`."""
        return self.transport.request(method, params)

    def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        """Sends any notification."""
        self.transport.notify(method, params)

    def _call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        transport = self.transport
        if transport.in_reader_thread():
            raise RuntimeError(f"{method}: a callback cannot wait for an answer (it would block the thread that "
                               "reads answers); use client.request(...) there, or handle the event elsewhere")
        pending = transport.request(method, params)
        try:
            return pending.result(self.timeout)
        except (KeyboardInterrupt, TimeoutError):
            try:
                pending.cancel()
            except LMDBGError:
                pass
            raise

    # --- lifecycle -----------------------------------------------------------------------------------------

    def initialize(self) -> InitializeResult:
        """`initialize`: the server's version, identity and capabilities (called by `start`)."""
        result = cast(InitializeResult, self._call("initialize", {
            "clientInfo": {"name": CLIENT_NAME, "version": PROTOCOL_VERSION}, "protocolVersion": PROTOCOL_VERSION}))
        self.initialize_result = result
        if result["protocolVersion"].split(".")[:2] != PROTOCOL_VERSION.split(".")[:2]:
            warnings.warn(f"the server speaks protocol {result['protocolVersion']}, this client "
                          f"{PROTOCOL_VERSION}; some requests may not work", stacklevel=2)
        return result

    def initialized(self) -> None:
        """`initialized` (notification; sent by `start`)."""
        self.notify("initialized")

    def shutdown(self) -> None:
        """`shutdown`: ends the run and frees the model; only `exit` may follow (`close` sends both)."""
        self._call("shutdown")

    def exit(self) -> None:
        """`exit` (notification): the server exits."""
        self.notify("exit")

    def cancel_request(self, request_id: RequestId) -> None:
        """`$/cancelRequest` (notification) for a request id; `PendingRequest.cancel` does the same."""
        self.notify("$/cancelRequest", {"id": request_id})

    # --- model ---------------------------------------------------------------------------------------------

    def load_model(self, name: str | None = None, *, path: str | os.PathLike[str] | None = None,
                   progress: Callable[[WorkDoneProgress], None] | None = None) -> ModelInfo:
        """`model/load` by name (in the server's model directory) or by path; `progress` receives each
        `$/progress` value of the load. The answer is also kept as `model_info`."""
        if (name is None) == (path is None):
            raise ValueError("load_model takes exactly one of name and path")
        params: dict[str, Any] = {"name": name} if name is not None else {"path": os.fspath(cast(str, path))}
        token: RequestId | None = None
        if progress is not None:
            token = f"{CLIENT_NAME}-load-{next(self._progress_tokens)}"
            self._progress[token] = progress
            params["workDoneToken"] = token
        try:
            info = cast(ModelInfo, self._call("model/load", params))
        finally:
            if token is not None:
                self._progress.pop(token, None)
        self.model_info = info
        return info

    def tokenize(self, text: str, add_special_tokens: bool = True) -> TokenizeResult:
        """`model/tokenize`: token ids and pieces, as `launch` tokenizes a prompt; with
        `add_special_tokens=False`, without the BOS the model file asks for."""
        params: dict[str, Any] = {"text": text}
        if not add_special_tokens:
            params["addSpecialTokens"] = False
        return cast(TokenizeResult, self._call("model/tokenize", params))

    # --- runs ----------------------------------------------------------------------------------------------

    def launch(self, prompt: str, *, max_new_tokens: int | None = None, stop_on_entry: bool | None = None,
               sampling: Sampling | None = None) -> LaunchResult:
        """`session/launch`: starts a run; stops and the end arrive as events."""
        params: dict[str, Any] = {"prompt": prompt}
        if max_new_tokens is not None:
            params["maxNewTokens"] = max_new_tokens
        if stop_on_entry is not None:
            params["stopOnEntry"] = stop_on_entry
        if sampling is not None:
            params["sampling"] = dict(sampling)
        return cast(LaunchResult, self._call("session/launch", params))

    def run(self, prompt: str, *, max_new_tokens: int | None = None, sampling: Sampling | None = None,
            timeout: float | None = None) -> Run:
        """Launches a run (`session/launch`) to iterate over its stops: `for stop in dbg.run(prompt): ...`.
        `timeout` bounds each wait for the next stop."""
        launched = self.launch(prompt, max_new_tokens=max_new_tokens, sampling=sampling)
        return Run(self, launched, timeout)

    def restart(self) -> LaunchResult:
        """`debug/restart`: the last launch again, with the current breakpoints and patches."""
        return cast(LaunchResult, self._call("debug/restart"))

    def set_breakpoints(self, breakpoints: Iterable[SourceBreakpoint | str]) -> list[Breakpoint]:
        """`debug/setBreakpoints`: replaces all breakpoints; a string is a hook name or glob alone."""
        specs = [{"hook": b} if isinstance(b, str) else dict(b) for b in breakpoints]
        return cast(list[Breakpoint], self._call("debug/setBreakpoints", {"breakpoints": specs})["breakpoints"])

    def set_exception_breakpoints(self, filters: Iterable[ExceptionFilter], *,
                                  massive_threshold: float | None = None) -> None:
        """`debug/setExceptionBreakpoints`: stop on NaN, infinities or massive activations."""
        params: dict[str, Any] = {"filters": list(filters)}
        if massive_threshold is not None:
            params["massiveThreshold"] = massive_threshold
        self._call("debug/setExceptionBreakpoints", params)

    def continue_(self) -> None:
        """`debug/continue`: resumes until the next breakpoint or the end of the run."""
        self._call("debug/continue")

    def next(self, granularity: SteppingGranularity | None = None) -> None:
        """`debug/next`: one hook point (default), layer or token step further."""
        self._call("debug/next", None if granularity is None else {"granularity": granularity})

    def step_in(self) -> None:
        """`debug/stepIn`: to the next hook point."""
        self._call("debug/stepIn")

    def step_out(self) -> None:
        """`debug/stepOut`: to the end of the current layer (or of the token step)."""
        self._call("debug/stepOut")

    def step_back(self) -> None:
        """`debug/stepBack`: to the previous hook point in the record."""
        self._call("debug/stepBack")

    def pause(self) -> None:
        """`debug/pause`: stops a running run at the next hook point."""
        self._call("debug/pause")

    # --- inspection ----------------------------------------------------------------------------------------

    def stack_trace(self) -> list[StackFrame]:
        """`debug/stackTrace`: the frames of the current stop, innermost first."""
        return cast(list[StackFrame], self._call("debug/stackTrace")["frames"])

    def scopes(self, frame_id: int) -> list[Scope]:
        """`debug/scopes` of a frame."""
        return cast(list[Scope], self._call("debug/scopes", {"frameId": frame_id})["scopes"])

    def variables(self, variables_reference: int, *, start: int | None = None,
                  count: int | None = None) -> VariablesResult:
        """`debug/variables`: the children of a reference, optionally a page of them."""
        params: dict[str, Any] = {"variablesReference": variables_reference}
        if start is not None:
            params["start"] = start
        if count is not None:
            params["count"] = count
        return cast(VariablesResult, self._call("debug/variables", params))

    def evaluate(self, expression: str, *, frame_id: int | None = None) -> EvaluateResult:
        """`debug/evaluate`: an expression in the context of the stop (see docs/expressions.md)."""
        params: dict[str, Any] = {"expression": expression}
        if frame_id is not None:
            params["frameId"] = frame_id
        return cast(EvaluateResult, self._call("debug/evaluate", params))

    def read_tensor(self, hook: str | None = None, *, expression: str | None = None,
                    slice: str | None = None) -> npt.NDArray[np.float32]:
        """`tensor/read`: a hook's activation in the current token step, or an expression's value, as a
        float32 array; `slice` is applied by the server, e.g. `"[-1, :10]"`."""
        if (hook is None) == (expression is None):
            raise ValueError("read_tensor takes exactly one of hook and expression")
        params: dict[str, Any] = {"hook": hook} if hook is not None else {"expression": expression}
        if slice is not None:
            params["slice"] = slice
        return decode_tensor(self._call("tensor/read", params))

    # --- patches -------------------------------------------------------------------------------------------

    def set_patches(self, patches: Iterable[PatchSpec]) -> list[int]:
        """`patch/set`: adds patches (all or none) and answers their ids; numpy operands are encoded."""
        specs = []
        for patch in patches:
            spec: dict[str, Any] = dict(patch)
            for member in ("value", "vector"):
                if member in spec and not is_wire_tensor(spec[member]):
                    spec[member] = encode_tensor(spec[member])
            specs.append(spec)
        return cast(list[int], self._call("patch/set", {"patches": specs})["ids"])

    def list_patches(self) -> list[Patch]:
        """`patch/list`: the patches in force, in the order they apply, operands as numpy arrays."""
        patches = self._call("patch/list")["patches"]
        for patch in patches:
            for member in ("value", "vector"):
                if member in patch:
                    patch[member] = decode_tensor(patch[member])
        return cast(list[Patch], patches)

    def clear_patches(self, ids: Iterable[int] | None = None) -> None:
        """`patch/clear`: removes the listed patches, or all."""
        self._call("patch/clear", None if ids is None else {"ids": list(ids)})

    # --- analyses (docs/analyses.md) -----------------------------------------------------------------------

    def logit_lens(self, prompt: str | None = None, *, positions: Sequence[int] | None = None, k: int | None = None,
                   expression: str | None = None) -> LogitLensResult:
        """`analysis/logitLens`: every layer's resid_pre/mid/post lensed at `positions` (default the last) of
        `prompt` (default the current run's tokens); or, at a stop, each row of `expression`'s value."""
        params: dict[str, Any] = {}
        for member, value in (("prompt", prompt), ("k", k), ("expression", expression)):
            if value is not None:
                params[member] = value
        if positions is not None:
            params["positions"] = list(positions)
        return cast(LogitLensResult, self._call("analysis/logitLens", params))

    def attribution(self, token: int, *, baseline: int | None = None, prompt: str | None = None,
                    position: int | None = None) -> AttributionResult:
        """`analysis/attribution`: direct logit attribution of `token` (minus `baseline`) at `position` (default
        the last) to the embedding, every layer's attention (`attention[layer]`) and its heads
        (`heads[layer][head]`, empty on Gemma 3), and every MLP; GPT-2 adds `posEmbed` and `constant`."""
        params: dict[str, Any] = {"token": token}
        for member, value in (("baseline", baseline), ("prompt", prompt), ("position", position)):
            if value is not None:
                params[member] = value
        return cast(AttributionResult, self._call("analysis/attribution", params))

    def patch_sweep(self, clean: str, corrupted: str, site: SweepSite, metric: SweepMetric, *,
                    direction: SweepDirection | None = None, positions: Sequence[int] | None = None,
                    progress: Callable[[WorkDoneProgress], None] | None = None) -> PatchSweepResult:
        """`analysis/patchSweep`: an activation-patching grid, [layer, position] (or [layer, head] for `headZ`),
        as numpy arrays with NaN where not computed. Interrupting the wait (Ctrl-C) cancels the sweep; the
        server then answers the cells done so far (`cancelled`), which `request(...)` can still collect."""
        params: dict[str, Any] = {"clean": clean, "corrupted": corrupted, "site": site, "metric": dict(metric)}
        if direction is not None:
            params["direction"] = direction
        if positions is not None:
            params["positions"] = list(positions)
        token: RequestId | None = None
        if progress is not None:
            token = f"{CLIENT_NAME}-sweep-{next(self._progress_tokens)}"
            self._progress[token] = progress
            params["workDoneToken"] = token
        try:
            result = self._call("analysis/patchSweep", params)
        finally:
            if token is not None:
                self._progress.pop(token, None)
        for grid in ("values", "normalised"):
            result[grid] = np.array([[np.nan if v is None else v for v in row] for row in result[grid]], np.float64)
        return cast(PatchSweepResult, result)

    def steer_from_contrast(self, pairs: Iterable[tuple[str, str]], *, layer: int | None = None,
                            hook: str | None = None, reduction: ContrastReduction | None = None,
                            apply: SteeringApplication | None = None, scale: float | None = None,
                            positions: PatchPositions | None = None) -> SteerFromContrastResult:
        """`steer/fromContrast`: the mean (positive − negative) activation at `blocks.<layer>.hook_resid_pre` (or
        `hook`) over `(positive, negative)` prompt pairs; by default also added as a patch (`apply`)."""
        if (layer is None) == (hook is None):
            raise ValueError("steer_from_contrast takes exactly one of layer and hook")
        params: dict[str, Any] = {"pairs": [{"positive": p, "negative": n} for p, n in pairs]}
        for member, value in (("layer", layer), ("hook", hook), ("reduction", reduction), ("apply", apply),
                              ("scale", scale), ("positions", positions)):
            if value is not None:
                params[member] = value
        result = self._call("steer/fromContrast", params)
        result["direction"] = decode_tensor(result["direction"])
        if "vector" in result.get("patch", {}):
            result["patch"]["vector"] = decode_tensor(result["patch"]["vector"])
        return cast(SteerFromContrastResult, result)

    def load_sae(self, path: str | os.PathLike[str], *, name: str | None = None) -> SAEInfo:
        """`sae/load`: a SAELens-format SAE directory, attached at its hook (features at stops, `feature(i)` in
        expressions, the `ablateFeatures` and `steerFeatures` patch operations)."""
        params: dict[str, Any] = {"path": os.fspath(path)}
        if name is not None:
            params["name"] = name
        return cast(SAEInfo, self._call("sae/load", params))

    def sae_features(self, sae: int | None = None, *, k: int | None = None) -> SAEFeaturesResult:
        """`sae/features`: at a stop, each position's most active features and reconstruction error."""
        params: dict[str, Any] = {}
        if sae is not None:
            params["sae"] = sae
        if k is not None:
            params["k"] = k
        return cast(SAEFeaturesResult, self._call("sae/features", params))

    # --- events --------------------------------------------------------------------------------------------

    def on(self, method: str, callback: EventCallback) -> Callable[[], None]:
        """Calls `callback(event)` for each notification `method` (`"*"`: every one), on the reader thread,
        before later answers are delivered. A callback must not wait for answers. Returns an unsubscriber."""
        self._callbacks[method].append(callback)
        return lambda: self._callbacks[method].remove(callback)

    def wait_for(self, *methods: str, timeout: float | None = None,
                 predicate: Callable[[Event], bool] | None = None) -> Event:
        """The next queued event among `methods` (any method if none) that `predicate` accepts.

        Events are consumed in arrival order; those skipped on the way are dropped. Raises `TimeoutError`
        when none comes within `timeout` seconds, and `ServerExited` when the connection ends first.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._events_changed:
            while True:
                while self._events:
                    event = self._events.popleft()
                    if (not methods or event.method in methods) and (predicate is None or predicate(event)):
                        return event
                if self._closed_reason is not None:
                    raise self._closed_reason
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutError(f"no {' or '.join(methods) or 'event'} within {timeout} s")
                self._events_changed.wait(remaining)

    def events(self, *methods: str, timeout: float | None = None) -> Iterator[Event]:
        """Yields queued and arriving events among `methods` (all if none) until `timeout` seconds pass
        without one, or the connection ends."""
        while True:
            try:
                yield self.wait_for(*methods, timeout=timeout)
            except (TimeoutError, LMDBGError):
                return

    def clear_events(self) -> list[Event]:
        """Drops and returns the queued events."""
        with self._events_changed:
            dropped = list(self._events)
            self._events.clear()
            return dropped

    def handle_notification(self, method: str, params: dict[str, Any]) -> None:
        """Delivers one notification: progress handler, callbacks, then the event queue."""
        event = Event(method, params)
        if method == "$/progress":
            handler = self._progress.get(params.get("token"))  # type: ignore[arg-type]
            if handler is not None:
                self._run_callback(handler, params.get("value"))
        for callback in [*self._callbacks.get(method, ()), *self._callbacks.get("*", ())]:
            self._run_callback(callback, event)
        with self._events_changed:
            if len(self._events) == self._events.maxlen:
                log.warning("more than %d events not consumed; dropping the oldest", EVENT_QUEUE_LIMIT)
            self._events.append(event)
            self._events_changed.notify_all()

    def handle_close(self, reason: LMDBGError) -> None:
        """Wakes event waiters when the connection ends."""
        with self._events_changed:
            self._closed_reason = reason
            self._events_changed.notify_all()

    @staticmethod
    def _run_callback(callback: Callable[[Any], None], argument: Any) -> None:
        try:
            callback(argument)
        except Exception:
            log.exception("an lmdbg event callback failed")
