"""The answer detector's settings: app_amd's parameters and this project's additions
(detection.py explains the detector, docs/speech-and-detection.md the figures behind them)."""

from dataclasses import dataclass, fields

from dialer.domain.amd_mode import AmdMode
from dialer.telephony.vad import GateSettings


@dataclass(frozen=True, slots=True)
class AmdSettings:
    """app_amd's parameters (times in ms of audio), then this module's additions.

    ``maximum_number_of_words``: app_amd decides MACHINE when the count goes *past* it. Its
    default is 2 in current Asterisk and was 3 before; 6 here (4 until h-amd8). A word is any
    100 ms of voice after 50 ms of silence, so a person's short answer ("Hello, this is
    Sarah.") often counts 3 or 4, and hanging up on a person is the worse mistake: it counts
    against the abandoned-call limit, while a machine taken for a person only hears the call
    flow (docs/speech-and-detection.md has the figures for 3 and 4, "h-amd8" for 6).

    ``silence_threshold``: frames quieter than this (RMS, dBFS) are silence whatever the noise;
    -40 dBFS is about app_amd's 256 (mean absolute sample value). Louder frames are voice only
    ``noise_margin`` dB above the noise floor: the quietest frame of the last ``noise_window``
    ms, capped at ``noise_ceiling`` so that a long steady sound (music on a greeting) stays
    sound rather than becoming the floor.

    ``tonality``: the share of a frame's power in one +-50 Hz band that makes it a tone. A tone
    of ``beep_low_hz``-``beep_high_hz`` lasting ``beep_min_length`` is a beep; CED (2100 Hz)
    for ``ced_min_length`` or CNG (1100 Hz) for ``cng_min_length`` is a fax.

    ``greeting_end_silence`` and ``greeting_end_max_wait``: the GreetingEndDetector's silence
    after speech, and how long it waits at most.
    """

    initial_silence: int = 2500
    greeting: int = 2500
    after_greeting_silence: int = 800
    total_analysis_time: int = 5000
    min_word_length: int = 100
    between_words_silence: int = 50
    maximum_number_of_words: int = 6
    silence_threshold: float = -40.0
    maximum_word_length: int = 5000
    # Not in app_amd:
    noise_margin: float = 10.0
    noise_window: int = 2000
    noise_ceiling: float = -35.0
    beep_min_length: int = 120
    beep_low_hz: float = 400.0
    beep_high_hz: float = 2500.0
    ced_min_length: int = 500
    cng_min_length: int = 400
    tonality: float = 0.85
    greeting_end_silence: int = 2000
    greeting_end_max_wait: int = 60000
    # The voice gate (vad.py): voicing, and the callee's level against the room's talk.
    periodicity: float = 0.45
    voicing_hangover: int = 100
    background_margin: float = 10.0
    talker_decay: float = 2.0
    # The gate's phrase hold and melody test (vad.GateSettings explains them; h-ear's values,
    # the defaults since h-amd8: docs/speech-and-detection.md "h-ear" and "h-amd8").
    voice_hold: int = 300
    voice_hold_threshold: float = -55.0
    voice_hold_margin: float = 6.0
    voice_hold_range: float = 10.0
    melody_frames: int = 4
    melody_drift: float = 0.004
    # The callee's level locked after their first phrase (vad.GateSettings; 12 dB since h-amd8,
    # docs/speech-and-detection.md "h-amd7" and "h-amd8" have the figures).
    foreground_lock: float = 12.0
    # Before the first word, this much of a melody's held notes (Frame.note, the gate's melody
    # test) is a machine: music before a greeting (MELODY-<ms>). 0: off; needs melody_frames.
    # 200 measured in docs/speech-and-detection.md "h-amd6", the default since h-amd8.
    melody_notes: int = 200
    # A person's opening: a short utterance ("Hello?", "Er,") of at most opening_max_voice,
    # then at least opening_pause of silence. After one (up to `openings` times) the counts
    # start again with the looser greeting_after_opening and words_after_opening, since what
    # follows is a person going on talking more often than a machine's greeting. 650 ms, not
    # 900: a machine's first clause ("Hello, this is Peter.") is heard as 0.7-0.9 s of voice,
    # and taken for an opening it let the greeting talk on to "not sure" at 5 s.
    opening_max_voice: int = 650
    opening_pause: int = 300
    openings: int = 2
    greeting_after_opening: int = 3000
    words_after_opening: int = 10
    # A beep is steady: its frequency moves less than this over the tone (a voice's harmonic
    # follows the pitch). After a beep the greeting detector waits beep_settle for a second
    # tone (two-tone beeps, pips) or more speech before calling the greeting over.
    beep_max_drift: float = 12.0
    # A beep has no voice's neighbouring harmonics around it (tones.py marks the frames that
    # have them): on a band-limited line a vowel's harmonic can otherwise pass for one.
    beep_pure: bool = True
    beep_settle: int = 160
    # After a greeting, a steady tone this long may be one of a row of short pips (the
    # GreetingEndDetector's only: a 50 ms pip is two tonal frames of the 40 ms window).
    pip_min_length: int = 40
    # At total_analysis_time, still talking with voice this share of the time since the first
    # word is a machine (people have stopped by then); anything else is "not sure", which the
    # mode decides: a person, or a machine (AmdMode).
    sustained_talk: float = 0.6
    # After this much voice in all, a pause must be long_talk_silence (not
    # after_greeting_silence) to be a person waiting: a machine's greeting pauses between
    # sentences (up to 1.5 s, and the gate hears its silence start as a sentence trails off),
    # while a person who said a sentence's worth waits 3 s or more for an answer. A short
    # hello (under 1.2 s of voice: "Hello, Jones residence." included) keeps the 800 ms.
    long_talk_voice: int = 1200
    long_talk_silence: int = 1600
    # Before the first word, this much sound by level (dB above the noise floor, and no more
    # than 15 dB under silence_threshold) for min_word_length is someone there: no
    # INITIALSILENCE, even if the voice gate heard no word (a soft or far "hello"). 0: off.
    initial_sound_margin: float = 6.0
    # A tone that ended too short for a beep, or with a voice's harmonics around it, counts as
    # the voice it was (a vowel on a band-limited line is often tonal for 60-100 ms).
    tones_as_voice: bool = True
    mode: AmdMode = AmdMode.PREFER_PEOPLE
    # Decide person or machine by the trained classifier (answer_model.py), with the speech
    # rules above alongside (their verdict stands where its margin does not contradict it);
    # the fax, beep and initial-silence rules apply as always. On by default since h-amd5: out
    # of fold on 2190 tune items it judged fewer people machines than the rules alone (5.9%
    # against 7.7%) and missed fewer machines (21.5% against 28.4%) at the same people p95
    # (docs/speech-and-detection.md, "h-amd5", has the figures).
    classifier: bool = True
    # A message left on a machine starts after this much quiet and stops, to start again,
    # whenever the greeting speaks again or a tone begins (message_start.MessageStart): the
    # last start is then within 300 ms of a beepless greeting's end or at the beep. 0: wait
    # for the end (greeting_end_silence, or the beep) and start once. 200 ms was chosen on the
    # tune half (160-260 ms measured; docs/speech-and-detection.md, "h-restart").
    message_quiet: int = 200

    def gate(self) -> GateSettings:
        """The voice gate's settings: every GateSettings field, from the field of this name (a
        field added to the gate is carried without a line here to forget)."""
        return GateSettings(**{f.name: getattr(self, f.name) for f in fields(GateSettings)})
