"""A call flow's dry run: the steps the engine's walker takes for a keypress sequence and a
sample number, each spoken step rendered by the speech synthesizer the calls use and kept, a
bounded while, as WAV for its tenant (docs/callflows.md, Dry run).

The walk is the engine's own (domain/walker.py over the flow's graph, domain/ivr.py): every say
and prompt is heard to the end, each gather takes the next press of the sequence (none left:
the gather times out), and a transfer is answered unless the request says otherwise.
"""

import asyncio
import hashlib
import io
import json
import threading
import wave
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from dialer.domain.callflow import parse_callflow
from dialer.domain.campaign import MAX_PARAMETERS
from dialer.domain.errors import FieldErrors, NotFound
from dialer.domain.ivr import KEYPAD
from dialer.domain.templates import Callee, custom_fields
from dialer.domain.tenant import Tenant
from dialer.domain.walker import Gather, Hangup, Play, Say, Step, StepResult, Transfer, Walker
from dialer.ports import SpeechSynthesizer
from dialer.ports.store import CatalogSession, UnitOfWork
from dialer.services.campaign_input import MAX_NAME_LENGTH, MAX_PARAMETER_LENGTH

MAX_PRESSES = 50
MAX_PRESS_DIGITS = 20
MAX_RENDERS = 20  # spoken steps rendered per dry run; later ones come without audio
AUDIO_ITEMS = 256
AUDIO_BYTES = 32 * 1024 * 1024
_RATE = 8000  # the synthesizer's PCM: 8 kHz mono 16-bit, a phone line


@dataclass(frozen=True, slots=True)
class DryStep:
    node: str  # the node's path, as flow validation names it: nodes.<name>
    kind: str  # say, play, gather, transfer, hangup
    text: str | None = None  # said (a gather's prompt), placeholders filled
    voice: str | None = None
    key: str | None = None  # a gather: what was pressed; "" when the wait timed out
    target: str | None = None  # a transfer's number or queue:<name>; a play's file
    audio: str | None = None  # the token of the rendered speech (AudioCache)
    audio_error: str | None = None


@dataclass(frozen=True, slots=True)
class DryRun:
    steps: list[DryStep]
    ended: str  # hangup, transfer, or capped (the walk's step limit)
    stage: str
    keys: str
    sms: list[str]
    transferred_to: str | None
    unused_keys: list[str] = field(default_factory=list)


class AudioCache:
    """Rendered WAV by token, each for one tenant; least recently used out past the bounds."""

    def __init__(self, max_items: int = AUDIO_ITEMS, max_bytes: int = AUDIO_BYTES) -> None:
        self._items: OrderedDict[str, tuple[int, bytes]] = OrderedDict()
        self._bytes = 0
        self._max_items, self._max_bytes = max_items, max_bytes
        self._lock = threading.Lock()

    def put(self, token: str, tenant_id: int, wav: bytes) -> None:
        with self._lock:
            old = self._items.pop(token, None)
            if old is not None:
                self._bytes -= len(old[1])
            self._items[token] = (tenant_id, wav)
            self._bytes += len(wav)
            while self._items and (
                len(self._items) > self._max_items or self._bytes > self._max_bytes
            ):
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= len(dropped)

    def get(self, token: str, tenant_id: int) -> bytes | None:
        """The WAV, only for the tenant it was rendered for."""
        with self._lock:
            item = self._items.get(token)
            if item is None or item[0] != tenant_id:
                return None
            self._items.move_to_end(token)
            return item[1]


def audio_token(tenant_id: int, text: str, voice: str | None) -> str:
    return hashlib.sha256(f"{tenant_id}\0{voice or ''}\0{text}".encode()).hexdigest()[:32]


def to_wav(pcm: bytes) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(_RATE)
        wav.writeframes(pcm)
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class DryRunInput:
    presses: list[str]
    callee: Callee
    transfer_answers: bool


def read_input(body: Any) -> DryRunInput:
    """``keys`` (a string, one press per key, or a list of presses), ``number`` (``name``,
    ``parameters`` as a campaign's numbers give them, ``customData``) and
    ``transferAnswers``; every problem reported by its path."""
    errors = FieldErrors()
    if body is None:
        body = {}
    if not isinstance(body, dict):
        errors.add("$", "Send an object with keys and number.")
        errors.raise_if_any()
    presses = _presses(body.get("keys"), errors)
    callee = _callee(body.get("number"), errors)
    answers = body.get("transferAnswers", True)
    if not isinstance(answers, bool):
        errors.add("transferAnswers", "Must be true or false.")
    errors.raise_if_any()
    return DryRunInput(presses, callee, bool(answers))


def _presses(value: Any, errors: FieldErrors) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = list(value)
    if not isinstance(value, list):
        errors.add("keys", "Must be a string of keys (one press each) or a list of presses.")
        return []
    if len(value) > MAX_PRESSES:
        errors.add("keys", f"At most {MAX_PRESSES} presses.")
        return []
    presses: list[str] = []
    for i, press in enumerate(value):
        if not isinstance(press, str) or len(press) > MAX_PRESS_DIGITS:
            errors.add(f"keys[{i}]", f"Must be a string of at most {MAX_PRESS_DIGITS} keys.")
        elif not set(press) <= KEYPAD:
            errors.add(f"keys[{i}]", f"{press[:20]!r} holds a key no keypad has: 0-9, * and #.")
        else:
            presses.append(press)
    return presses


def _callee(value: Any, errors: FieldErrors) -> Callee:
    if value is None:
        return Callee()
    if not isinstance(value, dict):
        errors.add("number", "Must be an object with name, parameters and customData.")
        return Callee()
    props = {k.lower(): v for k, v in value.items() if isinstance(k, str)}
    name = props.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME_LENGTH):
        errors.add("number.name", f"Must be a string of at most {MAX_NAME_LENGTH} characters.")
        name = None
    parameters: dict[int, str] = {}
    raw = props.get("parameters") or []
    if not isinstance(raw, list):
        errors.add("number.parameters", "Must be an array of {parameter, value} objects.")
        raw = []
    for j, item in enumerate(raw):
        path = f"number.parameters[{j}]"
        lowered = {k.lower(): v for k, v in item.items()} if isinstance(item, dict) else {}
        n, text = lowered.get("parameter"), lowered.get("value")
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_PARAMETERS:
            errors.add(f"{path}.parameter", f"Must be a whole number from 1 to {MAX_PARAMETERS}.")
        elif not isinstance(text, str) or len(text) > MAX_PARAMETER_LENGTH:
            errors.add(
                f"{path}.value", f"Must be a string of at most {MAX_PARAMETER_LENGTH} characters."
            )
        else:
            parameters[n] = text
    custom = props.get("customdata")
    if custom is not None and not isinstance(custom, dict):
        errors.add("number.customData", "Must be a JSON object.")
        custom = None
    fields = custom_fields(json.dumps(custom)) if custom else {}
    return Callee(name, parameters, fields)


class CallFlowDryRun:
    def __init__(
        self,
        store: UnitOfWork[CatalogSession],
        synthesizer: SpeechSynthesizer | None,
        cache: AudioCache | None = None,
    ) -> None:
        """``synthesizer``: None where this process has none (the steps come without audio)."""
        self._store = store
        self._synthesizer = synthesizer
        self.cache = cache or AudioCache()

    def _flow_document(self, tenant: Tenant, callflow_id: int) -> str:
        with self._store.read() as session:
            record = session.catalog.get_callflow(tenant.id, callflow_id)
        if record is None:
            raise NotFound(f"call flow {callflow_id}")
        return record.definition

    async def run(self, tenant: Tenant, callflow_id: int, given: DryRunInput) -> DryRun:
        definition = await asyncio.to_thread(self._flow_document, tenant, callflow_id)
        flow, problems = parse_callflow(json.loads(definition))
        # Stored flows were validated on upload; one that no longer parses is the store's fault.
        assert flow is not None, problems
        walker = Walker(flow.graph, given.callee)
        presses = iter(given.presses)
        steps: list[DryStep] = []
        step: Step = walker.start()
        while not isinstance(step, Hangup):
            node = f"nodes.{walker.node_name}"
            result: StepResult
            if isinstance(step, Say):
                steps.append(DryStep(node, "say", step.text, step.voice))
                result = True
            elif isinstance(step, Play):
                steps.append(DryStep(node, "play", target=step.audio))
                result = True
            elif isinstance(step, Gather):
                key = next(presses, "")
                steps.append(DryStep(node, "gather", step.prompt, step.voice, key=key))
                result = key
            else:
                assert isinstance(step, Transfer)
                steps.append(DryStep(node, "transfer", target=step.target))
                result = given.transfer_answers
            step = walker.advance(result)
        steps.append(DryStep(f"nodes.{walker.node_name}", "hangup"))
        ended = "capped" if walker.capped else "transfer" if walker.transferred_to else "hangup"
        return DryRun(
            await self._render(tenant, steps),
            ended,
            walker.stage.api_name,
            walker.keys,
            list(walker.sms),
            walker.transferred_to,
            list(presses),
        )

    async def _render(self, tenant: Tenant, steps: list[DryStep]) -> list[DryStep]:
        """Each spoken step with the token of its WAV; the first MAX_RENDERS texts only."""
        if self._synthesizer is None:
            return steps
        done: dict[str, str | None] = {}
        out: list[DryStep] = []
        for step in steps:
            if step.text is None or not step.text.strip():
                out.append(step)
                continue
            token = audio_token(tenant.id, step.text, step.voice)
            if token not in done and len(done) >= MAX_RENDERS:
                out.append(_replace(step, None, f"only {MAX_RENDERS} texts are rendered per run"))
                continue
            if token not in done:
                done[token] = await self._render_one(tenant, token, step)
            error = done[token]
            out.append(_replace(step, None if error else token, error))
        return out

    async def _render_one(self, tenant: Tenant, token: str, step: DryStep) -> str | None:
        """Render into the cache; the error's text if the synthesizer failed."""
        assert self._synthesizer is not None
        assert step.text is not None
        if self.cache.get(token, tenant.id) is not None:
            return None
        try:
            pcm = await self._synthesizer.render(step.text, step.voice)
        except Exception as exc:  # noqa: BLE001 - SpeechError (an adapter's), a missing program
            # The step is shown without audio: a dry run is for reading the flow too.
            return f"speech failed: {exc}"
        self.cache.put(token, tenant.id, await asyncio.to_thread(to_wav, pcm))
        return None


def _replace(step: DryStep, audio: str | None, error: str | None) -> DryStep:
    return DryStep(step.node, step.kind, step.text, step.voice, step.key, step.target, audio, error)


def texts(run: DryRun) -> Iterator[str]:
    """What the run says, in order (for logs and tests)."""
    return (s.text for s in run.steps if s.text)
