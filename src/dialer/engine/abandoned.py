"""What an abandoned call hears (docs/agents-engine.md, Abandoned calls): the information
message, spoken by espeak-ng through the network's speech or played from a recording, and,
under the US rule, the opt-out key listened for while it plays.

A campaign that needs a message and has none is refused at its start (docs/compliance.md);
should the engine meet one anyway (a message removed while the campaign ran), the customer is
still never left on silence: a default message naming the tenant plays, and a warning is
logged.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from dialer.domain.abandonment import AbandonRules, ComplianceSettings, InfoMessage
from dialer.ports import Call

log = logging.getLogger(__name__)

# The message must be heard within the 2 s: the engine stops looking for an agent this much
# before they are up, for the network to start the audio (a SIP call's first RTP packet).
MESSAGE_LEAD = timedelta(milliseconds=300)
# US: how long after the message a key still counts as the answer to its opt-out offer
# (a key pressed during the message is kept by the network until this listen).
OPT_OUT_LISTEN = timedelta(seconds=4)


def default_message(tenant_name: str, rules: AbandonRules, opt_out_key: str) -> InfoMessage:
    """What plays when a campaign that needs a message has none."""
    name = tenant_name or "the company"
    text = (
        f"This call was from {name}. We are sorry we could not connect you to an adviser. "
        f"We will try again later, or you can call us back on the number shown."
    )
    if rules.opt_out_by_key:
        text += (
            f" This was a telemarketing call. To be added to our do not call list, "
            f"press {opt_out_key} now."
        )
    return InfoMessage(text)


@dataclass(frozen=True, slots=True)
class Announcement:
    """The message an abandoned call of one campaign hears, ready to play."""

    message: InfoMessage
    opt_out_key: str | None  # US: the key that opts the number out; None: no key listened for

    @classmethod
    def of(
        cls,
        message: InfoMessage | None,
        settings: ComplianceSettings,
        rules: AbandonRules,
        tenant_name: str,
    ) -> "Announcement | None":
        """``message``: the campaign's own, else its tenant's; None when the regime plays no
        message (regime none)."""
        if not rules.enforced:
            return None
        if message is None or not (message.text.strip() or message.recording):
            log.warning(
                "an abandoned call's campaign has no information message under the %s rule;"
                " playing the default one",
                rules.regime.value,
            )
            message = default_message(tenant_name, rules, settings.opt_out_key)
        key = settings.opt_out_key if rules.opt_out_by_key else None
        return cls(message, key)

    def prepare(self, call: Call) -> None:
        """Have the network render the speech while the customer waits for an agent, so it
        starts at once if none comes."""
        if self.message.recording is None:
            call.prepare(self.message.text, None)

    async def play(self, call: Call, audio: Path) -> tuple[bool, bool]:
        """Play the message; (heard to its end, opted out by key)."""
        if self.message.recording is not None:
            heard = await call.play(str(audio / self.message.recording))
        else:
            heard = await call.say(self.message.text, None)
        if not heard or self.opt_out_key is None:
            return heard, False
        keys = await call.gather(1, OPT_OUT_LISTEN)
        return heard, keys == self.opt_out_key
