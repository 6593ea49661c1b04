"""The protocol's types (Protocol/lmdbg.schema.json, `$defs`) as TypedDicts, written out by hand.

JSON objects stay dicts at runtime; these types only describe them. Member names are the protocol's
(camelCase). Where a tensor travels, the client hands out and accepts numpy arrays instead of
`WireTensor`s: `Patch.value`, `Patch.vector` and the result of `tensor/read`.
"""
from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

import numpy as np
import numpy.typing as npt

RequestId = int | str
ProgressToken = int | str
#: A number that may not be finite: a JSON number, or "NaN", "Infinity", "-Infinity" (see `to_float`).
FloatValue = float | int | Literal["NaN", "Infinity", "-Infinity"]

TensorDType = Literal["float32"]
ExceptionFilter = Literal["nan", "inf", "massive"]
SteppingGranularity = Literal["hook", "layer", "token"]
FrameKind = Literal["hook", "layer", "token"]
ValueType = Literal["tensor", "number", "tokens", "bool", "string"]
PatchOperation = Literal["set", "add", "zero", "mean", "scale", "projectOut", "resample", "ablateFeatures",
                         "steerFeatures"]
PatchPositions = list[int] | Literal["all", "prompt", "generated"]
StopReason = Literal["entry", "breakpoint", "step", "exception", "pause"]
OutputCategory = Literal["generated", "log"]
TerminationReason = Literal["endOfSequence", "maxNewTokens", "superseded", "error"]
SessionState = Literal["none", "running", "stopped", "terminated"]
#: A dimension of a hook point's shape: a size, "pos" or "kpos".
ShapeDimension = int | Literal["pos", "kpos"]
#: `EvaluateResult.value`: a FloatValue, a bool, a string or token ids.
EvaluatedValue = FloatValue | bool | str | list[int]


class WireTensor(TypedDict):
    dtype: TensorDType
    shape: list[int]
    data: str


# --- lifecycle ---------------------------------------------------------------------------------------

class ClientInfo(TypedDict):
    name: str
    version: NotRequired[str]


class ServerInfo(TypedDict):
    name: str
    version: str


class ExceptionBreakpointsFilter(TypedDict):
    filter: ExceptionFilter
    label: str
    description: NotRequired[str]


class ServerCapabilities(TypedDict):
    stepBack: bool
    conditionalBreakpoints: bool
    hitConditionalBreakpoints: bool
    logPoints: bool
    exceptionBreakpointFilters: list[ExceptionBreakpointsFilter]
    patchOperations: list[PatchOperation]
    tensorDtypes: list[TensorDType]
    workDoneProgress: bool


class InitializeResult(TypedDict):
    protocolVersion: str
    serverInfo: ServerInfo
    capabilities: ServerCapabilities


class WorkDoneProgressBegin(TypedDict):
    kind: Literal["begin"]
    title: str
    message: NotRequired[str]
    percentage: NotRequired[int]


class WorkDoneProgressReport(TypedDict):
    kind: Literal["report"]
    message: NotRequired[str]
    percentage: NotRequired[int]


class WorkDoneProgressEnd(TypedDict):
    kind: Literal["end"]
    message: NotRequired[str]


WorkDoneProgress = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd


class ProgressParams(TypedDict):
    token: ProgressToken
    value: WorkDoneProgress


# --- model -------------------------------------------------------------------------------------------

class ModelConfig(TypedDict):
    nLayers: int
    dModel: int
    nHeads: int
    nKVHeads: int
    dHead: int
    dMLP: int
    vocabSize: int
    contextLength: int


class HookPointInfo(TypedDict):
    name: str
    shape: list[ShapeDimension]


class ModelInfo(TypedDict):
    name: str
    path: str
    architecture: str
    config: ModelConfig
    hookPoints: list[HookPointInfo]


class TokenizeResult(TypedDict):
    tokens: list[int]
    pieces: list[str]


# --- runs and breakpoints ----------------------------------------------------------------------------

class Sampling(TypedDict, total=False):
    temperature: float
    topK: int
    topP: float
    seed: int


class LaunchResult(TypedDict):
    sessionId: int
    promptTokens: list[int]


class SourceBreakpoint(TypedDict):
    hook: str
    condition: NotRequired[str]
    hitCondition: NotRequired[str]
    logMessage: NotRequired[str]


class Breakpoint(TypedDict):
    id: int
    verified: bool
    message: NotRequired[str]
    hooks: int


# --- inspection --------------------------------------------------------------------------------------

class StackFrame(TypedDict):
    id: int
    name: str
    kind: FrameKind
    hook: NotRequired[str]
    layer: NotRequired[int]
    tokenStep: int


class Scope(TypedDict):
    name: str
    variablesReference: int


class TopDim(TypedDict):
    index: list[int]
    value: FloatValue


class TensorSummary(TypedDict):
    norm: FloatValue
    mean: FloatValue
    min: FloatValue
    max: FloatValue
    topDims: list[TopDim]
    nanCount: NotRequired[int]
    infCount: NotRequired[int]


class Variable(TypedDict):
    name: str
    value: str
    type: ValueType
    shape: NotRequired[list[int]]
    summary: NotRequired[TensorSummary]
    variablesReference: int
    evaluateName: NotRequired[str]


class VariablesResult(TypedDict):
    variables: list[Variable]
    total: int


class EvaluateResult(TypedDict):
    result: str
    type: ValueType
    shape: NotRequired[list[int]]
    value: NotRequired[EvaluatedValue]
    summary: NotRequired[TensorSummary]
    variablesReference: int


# --- patches -----------------------------------------------------------------------------------------

class PatchSpec(TypedDict):
    """An intervention as the client sends it; `value` and `vector` may be numpy arrays (or `WireTensor`s)."""

    hook: str
    positions: NotRequired[PatchPositions]
    heads: NotRequired[list[int]]
    op: PatchOperation
    value: NotRequired[npt.ArrayLike | WireTensor]
    vector: NotRequired[npt.ArrayLike | WireTensor]
    scale: NotRequired[float]
    source: NotRequired[str]
    sae: NotRequired[int]
    features: NotRequired[list[int]]


class Patch(TypedDict):
    """A patch in force, as `patch/list` answers it, with `value` and `vector` decoded to numpy."""

    id: int
    hooks: int
    hook: str
    positions: PatchPositions
    heads: NotRequired[list[int]]
    op: PatchOperation
    value: NotRequired[npt.NDArray[np.float32]]
    vector: NotRequired[npt.NDArray[np.float32]]
    scale: NotRequired[float]
    source: NotRequired[str]
    sae: NotRequired[int]
    features: NotRequired[list[int]]


# --- analyses (docs/analyses.md) ------------------------------------------------------------------------

SweepSite = Literal["residPre", "attnOut", "mlpOut", "headZ"]
SweepDirection = Literal["denoise", "noise"]
ContrastReduction = Literal["lastPosition", "meanOverPositions"]
SteeringApplication = Literal["none", "add", "ablate"]


class LensToken(TypedDict):
    token: int
    piece: str
    logit: float
    probability: float


class LensRow(TypedDict):
    """Table mode: `hook` and `position`; expression mode: `index`."""

    hook: NotRequired[str]
    position: NotRequired[int]
    index: NotRequired[int]
    top: list[LensToken]


class LogitLensResult(TypedDict):
    tokens: NotRequired[list[int]]
    rows: list[LensRow]


class AttributionResult(TypedDict):
    position: int
    token: int
    baseline: NotRequired[int]
    logit: float
    total: float
    finalScale: float
    embed: float
    posEmbed: NotRequired[float]
    attention: list[float]
    heads: list[list[float]]
    mlp: list[float]
    constant: NotRequired[float]


class SweepMetric(TypedDict):
    """`{"kind": "logitDifference", "token": a, "baseline": b}`, `{"kind": "probability", "token": t}` or
    `{"kind": "klDivergence"}`."""

    kind: Literal["logitDifference", "probability", "klDivergence"]
    token: NotRequired[int]
    baseline: NotRequired[int]


class PatchSweepResult(TypedDict):
    """`values` and `normalised` as numpy [layer, column] float arrays, NaN where not computed."""

    site: SweepSite
    direction: SweepDirection
    columnAxis: Literal["position", "head"]
    columns: list[int]
    values: npt.NDArray[np.float64]
    normalised: npt.NDArray[np.float64]
    clean: float
    corrupted: float
    completed: int
    total: int
    cancelled: bool


class SteerFromContrastResult(TypedDict):
    """`direction` decoded to numpy."""

    hook: str
    direction: npt.NDArray[np.float32]
    norm: float
    patch: NotRequired[Patch]


class SAEInfo(TypedDict):
    id: int
    name: str
    hook: str
    dIn: int
    dSae: int
    architecture: Literal["relu", "jumprelu", "topk"]
    k: NotRequired[int]


class FeatureActivation(TypedDict):
    feature: int
    activation: float


class FeatureRow(TypedDict):
    position: int
    features: list[FeatureActivation]
    l0: int
    errorNorm: float
    relativeError: float


class SAEFeaturesResult(TypedDict):
    sae: int
    hook: str
    rows: list[FeatureRow]


# --- notifications -----------------------------------------------------------------------------------

class PositionRange(TypedDict):
    start: int
    end: int


class StoppedEvent(TypedDict):
    sessionId: int
    reason: StopReason
    hook: NotRequired[str]
    layer: NotRequired[int]
    positions: PositionRange
    tokenStep: int
    breakpointIds: NotRequired[list[int]]
    exceptionFilter: NotRequired[ExceptionFilter]
    recorded: NotRequired[bool]
    description: NotRequired[str]


class OutputEvent(TypedDict):
    sessionId: NotRequired[int]
    category: OutputCategory
    text: str
    token: NotRequired[int]


class TerminatedEvent(TypedDict):
    sessionId: int
    reason: TerminationReason
    tokens: list[int]
    text: str
    activePatches: list[int]
    message: NotRequired[str]
