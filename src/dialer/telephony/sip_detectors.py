"""What a SIP call needs of its detectors (telephony.detection's, or the SIT detector), as
protocols, so the call does not depend on how they hear."""

from typing import Protocol

from dialer.domain.call import AnsweredBy
from dialer.telephony.amd_settings import AmdSettings
from dialer.telephony.greeting_end import GreetingEnd


class Verdict(Protocol):
    @property
    def by(self) -> AnsweredBy: ...


class GreetingEnding(Protocol):
    def feed(self, pcm: bytes) -> bool: ...


class SitDetecting(Protocol):
    def feed(self, pcm: bytes) -> str | None: ...


class MessageStarting(Protocol):
    """When a message left on a machine starts, stops, and starts again (message_start.py)."""

    @property
    def final(self) -> bool: ...

    @property
    def starts(self) -> list[GreetingEnd]: ...

    def feed(self, pcm: bytes) -> str | None: ...


class AnswerDetecting(Protocol):
    """Streaming answering-machine and fax detection (telephony.detection)."""

    def feed(self, pcm: bytes) -> Verdict | None: ...

    def greeting_end(self) -> GreetingEnding:
        """Listening for the end of a machine's greeting, carrying on from what was heard (a
        long pause before the greeting must not pass for its end)."""
        ...

    def message_start(self) -> MessageStarting:
        """Listening to start a message on the machine, and to stop and start it again while
        its greeting goes on, carrying on from what was heard."""
        ...

    @property
    def settings(self) -> AmdSettings: ...
