"""What a campaign's answering-machine detector does when it is not sure (docs/speech-and-
detection.md has each mode's measured rates).

- ``people`` (the default): not sure is a person. Hanging up on a person, or playing them a
  message meant for a tape, counts as an abandoned call under UK rules and loses the contact;
  a machine taken for a person only hears the call flow.
- ``agents``: not sure is a machine, sparing agents answerphones at the cost of more people
  judged machines.
"""

from enum import StrEnum


class AmdMode(StrEnum):
    PREFER_PEOPLE = "people"
    PREFER_AGENTS = "agents"
