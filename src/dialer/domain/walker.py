"""Walking a call flow's graph: a pure state machine the engine drives one step at a time.

The walker never touches the line. ``start()`` says what to do first; the engine does it and
hands the result to ``advance()``, which says what to do next, until a ``Hangup``. Meanwhile
the walker keeps what the attempt records: the stage reached, the keys pressed, and the SMS
texts to send. Keeping it pure lets every rule of a walk be tested without a network, and lets
the engine and the simulated network share one reading of a flow.
"""

from dataclasses import dataclass
from datetime import timedelta

from dialer.domain.codes import Stage
from dialer.domain.ivr import End, Graph, Menu, Node, PlayAudio, Speak, TransferTo
from dialer.domain.records import quick_init
from dialer.domain.templates import Callee

# Nodes entered (and gathers repeated) per call; validation forbids loops without a gather,
# so only a callee who keeps answering a menu gets near it.
MAX_STEPS = 200


@quick_init
@dataclass(frozen=True, slots=True)
class Say:
    text: str
    voice: str | None


@dataclass(frozen=True, slots=True)
class Play:
    audio: str  # the file name as the flow gives it; the engine finds the file


@quick_init
@dataclass(frozen=True, slots=True)
class Gather:
    prompt: str | None  # said before waiting for keys
    voice: str | None
    timeout: timedelta | None  # None: the engine's gather timeout
    max_digits: int


@dataclass(frozen=True, slots=True)
class Transfer:
    target: str  # E.164 or queue:<name>


@quick_init
@dataclass(frozen=True, slots=True)
class Hangup:
    """The walk is over: hang up (a transferred call has left already)."""


Step = Say | Play | Gather | Transfer | Hangup
# Say and Play: completed (False: the callee hung up). Gather: the digits pressed, "" for none,
# None if the callee hung up. Transfer: whether the callee was handed over.
StepResult = bool | str | None


class Walker:
    """One call's walk through ``graph`` for ``callee``."""

    def __init__(self, graph: Graph, callee: Callee, max_steps: int = MAX_STEPS) -> None:
        self._graph = graph
        self._callee = callee
        self._max_steps = max_steps
        self._steps = 0
        self._node: Node | None = None
        self._tries = 0  # gathers made at the current menu node
        self._step: Step | None = None
        self._explicit: Stage | None = None  # the last stage node reached
        self._implied: Stage | None = None  # what the last transfer says
        self._heard = False  # a say, play or gather prompt was heard to the end
        self._left = False  # the callee hung up
        self._sms_nodes: set[str] = set()
        self.keys = ""
        self.sms: list[str] = []
        self.capped = False
        self.transferred_to: str | None = None

    @property
    def node_name(self) -> str | None:
        """The node whose step was returned last (a dry run shows the path walked)."""
        return None if self._node is None else self._node.name

    @property
    def done(self) -> bool:
        return isinstance(self._step, Hangup)

    @property
    def stage(self) -> Stage:
        """A stage node's stage wins; then what a transfer implies; a callee who left before
        hearing anything declined the call; anyone else answered it."""
        if self._explicit is not None:
            return self._explicit
        if self._implied is not None:
            return self._implied
        if self._left and not self._heard:
            return Stage.CALL_DECLINED
        return Stage.ANSWERED

    def start(self) -> Step:
        if self._step is not None:
            raise RuntimeError("a walk starts once")
        return self._enter(self._graph.start)

    def advance(self, result: StepResult) -> Step:
        """The result of the step last returned; gives the next step (Hangup at the end)."""
        step, node = self._step, self._node
        if step is None or node is None:
            raise RuntimeError("advance() before start()")
        if isinstance(step, Hangup):
            return step
        if isinstance(step, Say | Play):
            if result is not True:
                return self._callee_left()
            self._heard = True
            return self._go(node.next)
        if isinstance(step, Gather):
            return self._gathered(node, step, result)
        assert isinstance(node.action, TransferTo)
        if result is True:
            self._implied = (
                Stage.CALL_TRANSFERRED_TO_CALL_CENTRE
                if node.action.to_queue
                else Stage.CALLEE_TRANSFER_ACCEPTED
            )
            self.transferred_to = node.action.target
            return self._finish()
        self._implied = Stage.CALLEE_TRANSFER_REQUEST
        return self._go(node.next)

    def _gathered(self, node: Node, step: Gather, result: StepResult) -> Step:
        if not isinstance(result, str):
            return self._callee_left()
        menu = node.action
        assert isinstance(menu, Menu)
        # A result at all means any prompt was said to the end before the wait.
        self._heard = self._heard or step.prompt is not None or bool(result)
        self.keys += result
        target = menu.branches.get(result)
        if target is not None:
            return self._go(target)
        if self._tries >= menu.attempts:
            return self._go(menu.default)
        capped = self._count()  # asking again is a step too
        return capped if capped is not None else self._gather(menu)

    def _go(self, name: str | None) -> Step:
        return self._finish() if name is None else self._enter(name)

    def _enter(self, name: str) -> Step:
        """Enter nodes until one has something to do on the line."""
        while True:
            capped = self._count()
            if capped is not None:
                return capped
            node = self._graph.nodes[name]
            self._node = node
            if node.stage is not None:
                self._explicit = node.stage
            if node.sms is not None and node.name not in self._sms_nodes:
                # Once per node and call: a menu that loops back must not send it again.
                self._sms_nodes.add(node.name)
                self.sms.append(node.sms.fill(self._callee))
            action = node.action
            if action is None:
                if node.next is None:
                    return self._finish()
                name = node.next
                continue
            if isinstance(action, Speak):
                return self._emit(Say(action.text.fill(self._callee), action.voice))
            if isinstance(action, PlayAudio):
                return self._emit(Play(action.name))
            if isinstance(action, Menu):
                self._tries = 0
                return self._gather(action)
            if isinstance(action, TransferTo):
                return self._emit(Transfer(action.target))
            assert isinstance(action, End)
            return self._finish()

    def _gather(self, menu: Menu) -> Step:
        self._tries += 1
        prompt = menu.prompt.fill(self._callee) if menu.prompt is not None else None
        timeout = timedelta(seconds=menu.timeout) if menu.timeout is not None else None
        return self._emit(Gather(prompt, menu.voice, timeout, menu.max_digits))

    def _count(self) -> Step | None:
        """Count a step; past the cap, end the walk."""
        self._steps += 1
        if self._steps > self._max_steps:
            self.capped = True
            return self._finish()
        return None

    def _emit(self, step: Step) -> Step:
        self._step = step
        return step

    def _callee_left(self) -> Step:
        self._left = True
        return self._finish()

    def _finish(self) -> Step:
        return self._emit(Hangup())
