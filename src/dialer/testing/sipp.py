"""A fake carrier: one SIPp process answering SIP calls on 127.0.0.1, by a fixed number plan.

Used by the SIP tests and the benchmarks to dial something real without a real network. What
happens to a call depends only on the last three digits of the dialled number (the user part
of the Request-URI). The numbers live in +447700900100-999, a range Ofcom keeps for drama, so
they can never ring a real phone; the simulated network's own test numbers are 000-099.

=============  ===============================================================================
last digits    behaviour
=============  ===============================================================================
100            a person answers, says "Hello?", then silence; stays up until the dialer's BYE
101 102 103    the same, then presses 1 / 2 / 3 / 9 by RFC 2833 telephone-event: first
109            ``first_key_seconds`` after the answer, then again every
               ``key_interval_seconds`` (``key_repeats`` presses at most)
111 112 113    the same, but the key arrives as SIP INFO (``application/dtmf-relay``,
119            ``Signal=N``, ``Duration=160``)
120            answers and sends only silence
121            a person says "Hello?" and hangs up (BYE) ``hang_up_after_seconds`` later
130            voicemail: a ~5 s spoken greeting, a 1000 Hz 400 ms beep, then silence while
               the dialer leaves its message; stays up until the dialer's BYE
140            fax: answers with a continuous CED tone (2100 Hz)
141            fax: answers with CNG (1100 Hz, 0.5 s on, 3 s off)
150            like 100, and takes a blind transfer: a REFER gets 202, then a NOTIFY (sipfrag
               ``SIP/2.0 200 OK``, subscription terminated); then waits for the dialer's BYE
151            like 150, but the NOTIFY reports ``SIP/2.0 486 Busy Here`` (a failed transfer);
               the call stays up until the dialer's BYE
160            asks for digest authentication: 401 with ``WWW-Authenticate: Digest`` (MD5, no
               qop); a retried INVITE whose ``Authorization`` is right for ``auth_user`` and
               ``auth_password`` is then 100; ``auth_user`` with a wrong password gets 403
               Forbidden; any other user the same 401 again (the caller then gives up)
180            rings forever: 180 Ringing, never answers; a CANCEL gets 200 + 487
               (``ring_forever_seconds`` later it gives up with 480)
183            183 Session Progress, then 503 Service Unavailable one second later
184            183 Session Progress with SDP, then early media: the SIT for "no circuit" (NC:
               985.2 Hz 380 ms, 1428.5 Hz 380 ms, 1776.7 Hz 380 ms) and 2.5 s of silence,
               looped; never answers; a CANCEL gets 200 + 487 (as 180)
185            the same, with the intercept SIT (IC: 913.8 Hz 274 ms, 1370.6 Hz 274 ms,
               1776.7 Hz 380 ms) and a spoken "number not in service" announcement
190            never answers anything: the dialer's INVITE transaction times out
404 ... 604    answers at once with that status: 404 408 410 480 484 485 486 500 502 503
               600 603 604
other          404 Not In Test Number Plan
=============  ===============================================================================

Every answered call stays up at most ``max_call_seconds``, after which the carrier sends BYE.
The answer offers PCMU (payload type 0) and echoes the offer's telephone-event payload type.
RFC 2833 packets are pre-built with ``telephone_event_pt`` (baresip offers 101); a key-pressing
number dialled with an offer that uses another payload type is refused with 488, so a mismatch
is loud, never silently keyless.

What the dialer sends a call is discarded at SIPp's media port, unless ``answer_audio_port``
names a test's ``RtpListener`` (dialer.testing.sipp_phone): every answer's SDP then points the
dialer's audio there, and ``answers()`` says, per call, when its 200 OK left and which port its
RTP comes from (``RtpListener.first_sound_from``): the time from the answer to the first sound
the callee heard, measured on the carrier's side.

Audio is streamed with SIPp's ``rtp_stream`` (G.711 u-law files made with espeak-ng and sox
into a cache directory on first use; nothing binary is committed), each call from its own media
port. The RFC 2833 packets are played with ``play_pcap_audio``, which needs a raw socket: as a
user without CAP_NET_RAW the key-pressing RFC 2833 numbers still answer and speak, but press
nothing (``SippCarrier.rfc2833`` says which).

Usage::

    with SippCarrier() as carrier:
        uri = carrier.uri(Number.BUSY)     # sip:+447700900486@127.0.0.1:<port>
        ...
        carrier.stats()                    # calls seen, successes, failures
        carrier.refers()                   # (Call-ID, Refer-To) of each REFER received
        carrier.authorizations()           # (Call-ID, Authorization) of each 160 retry
        carrier.answers()                  # each call answered: when its 200 OK left
"""

import enum
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Self
from xml.sax.saxutils import escape

from dialer.testing.sipp_process import ERROR_LOG_HEADER, SippProcess

INSTALL_HINT = "apt-get install -y sip-tester espeak-ng sox"
HOST = "127.0.0.1"
PREFIX = "+447700900"

# Bump when the media recipe changes: the cache directory is keyed by it.
_MEDIA_VERSION = "2"


class SippUnavailable(RuntimeError):
    pass


class Number(enum.StrEnum):
    """The carrier's test numbers, by what they do (see the module docstring)."""

    HUMAN = PREFIX + "100"
    HUMAN_PRESSES_1_RFC2833 = PREFIX + "101"
    HUMAN_PRESSES_2_RFC2833 = PREFIX + "102"
    HUMAN_PRESSES_3_RFC2833 = PREFIX + "103"
    HUMAN_PRESSES_9_RFC2833 = PREFIX + "109"
    HUMAN_PRESSES_1_INFO = PREFIX + "111"
    HUMAN_PRESSES_2_INFO = PREFIX + "112"
    HUMAN_PRESSES_3_INFO = PREFIX + "113"
    HUMAN_PRESSES_9_INFO = PREFIX + "119"
    SILENT = PREFIX + "120"
    HUMAN_HANGS_UP = PREFIX + "121"
    VOICEMAIL = PREFIX + "130"
    FAX_CED = PREFIX + "140"
    FAX_CNG = PREFIX + "141"
    TRANSFERABLE = PREFIX + "150"
    TRANSFER_TARGET_BUSY = PREFIX + "151"
    AUTH_REQUIRED = PREFIX + "160"
    RINGS_FOREVER = PREFIX + "180"
    PROGRESS_THEN_503 = PREFIX + "183"
    SIT_NO_CIRCUIT = PREFIX + "184"
    SIT_NOT_IN_SERVICE = PREFIX + "185"
    NO_RESPONSE = PREFIX + "190"
    NOT_FOUND = PREFIX + "404"
    REQUEST_TIMEOUT = PREFIX + "408"
    GONE = PREFIX + "410"
    TEMPORARILY_UNAVAILABLE = PREFIX + "480"
    ADDRESS_INCOMPLETE = PREFIX + "484"
    AMBIGUOUS = PREFIX + "485"
    BUSY = PREFIX + "486"
    SERVER_ERROR = PREFIX + "500"
    BAD_GATEWAY = PREFIX + "502"
    SERVICE_UNAVAILABLE = PREFIX + "503"
    BUSY_EVERYWHERE = PREFIX + "600"
    DECLINE = PREFIX + "603"
    DOES_NOT_EXIST_ANYWHERE = PREFIX + "604"


#: The final status each rejecting number answers with (183 answers 183 first).
FAILURE_STATUS: dict[Number, int] = {
    **{n: int(n.value[-3:]) for n in Number if n.value[-3] in "456"},
    Number.PROGRESS_THEN_503: 503,
}

#: The ANSI code of the special information tone each early-media number plays.
SIT_CODES: dict[Number, str] = {Number.SIT_NO_CIRCUIT: "NC", Number.SIT_NOT_IN_SERVICE: "IC"}

#: The key each key-pressing number presses, and how.
KEYS: dict[Number, str] = {
    n: n.name.split("_")[2] for n in Number if n.name.startswith("HUMAN_PRESSES_")
}
RFC2833_NUMBERS = frozenset(n for n in KEYS if n.name.endswith("RFC2833"))
INFO_NUMBERS = frozenset(n for n in KEYS if n.name.endswith("INFO"))

_DESCRIPTIONS: dict[Number, str] = {
    Number.HUMAN: "a person answers, says 'Hello?', then silence, until the dialer hangs up",
    Number.SILENT: "answers and sends only silence",
    Number.HUMAN_HANGS_UP: "a person says 'Hello?' and hangs up a few seconds later",
    Number.VOICEMAIL: "voicemail: ~5 s greeting, a 1000 Hz beep, then records in silence",
    Number.FAX_CED: "a fax machine answers with CED (2100 Hz)",
    Number.FAX_CNG: "a fax machine answers with CNG (1100 Hz, 0.5 s on, 3 s off)",
    Number.TRANSFERABLE: "a person answers; a REFER is accepted and reported done (200)",
    Number.TRANSFER_TARGET_BUSY: "a person answers; a REFER is accepted, then fails (486)",
    Number.AUTH_REQUIRED: "401 digest challenge; right credentials: as 100, a wrong password: 403",
    Number.RINGS_FOREVER: "rings and never answers; a CANCEL gets 487 Request Terminated",
    Number.PROGRESS_THEN_503: "183 Session Progress, then 503 Service Unavailable",
    Number.SIT_NO_CIRCUIT: "183 with early media: the no-circuit SIT (NC), never answers",
    Number.SIT_NOT_IN_SERVICE: "183 with early media: intercept SIT (IC) and announcement",
    Number.NO_RESPONSE: "never responds: the dialer's INVITE times out",
}

#: Every number of the plan and what it does, for tests, benchmarks and docs.
SCENARIOS: dict[str, str] = {
    n.value: _DESCRIPTIONS.get(n)
    or (
        f"a person answers and presses {KEYS[n]} by "
        + ("RFC 2833" if n in RFC2833_NUMBERS else "SIP INFO")
        if n in KEYS
        else f"rejected with {FAILURE_STATUS[n]}"
    )
    for n in Number
}


def number_for_status(status: int) -> Number:
    """The number that answers at once with ``status``."""
    return Number(f"{PREFIX}{status}")


def find_sipp() -> str:
    found = shutil.which("sipp")
    if not found:
        raise SippUnavailable(f"SIPp is missing; install it: {INSTALL_HINT}")
    return found


def _free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _udp_port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return True
        return False


def _raw_sockets_allowed() -> bool:
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP).close()
    except OSError:
        return False
    return True


# ---- media -------------------------------------------------------------------------------------


def _media_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dialer" / f"sipp-media-v{_MEDIA_VERSION}"


def _run_tool(*args: str) -> None:
    try:
        subprocess.run(args, check=True, capture_output=True)
    except FileNotFoundError as exc:
        raise SippUnavailable(f"{args[0]} is missing; install it: {INSTALL_HINT}") from exc


def _build_audio(folder: Path) -> None:
    """The looped u-law streams: raw, headerless, 8 kHz, as rtp_stream plays them."""
    work = folder / "work"
    work.mkdir()

    def speech(name: str, text: str) -> Path:
        raw = work / f"{name}-22k.wav"
        _run_tool("espeak-ng", "-w", str(raw), text)
        out = work / f"{name}.wav"
        _run_tool("sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(out))
        return out

    def synth(name: str, seconds: float, *effect: str) -> Path:
        out = work / f"{name}.wav"
        _run_tool(
            "sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(out), "synth", str(seconds),
            *effect,
        )  # fmt: skip
        return out

    def ulaw(name: str, *parts: Path) -> None:
        _run_tool("sox", *map(str, parts), "-t", "ul", str(folder / f"{name}.ul"))

    hello = speech("hello", "Hello?")
    greeting = speech(
        "greeting",
        "Hello, you have reached the voicemail of Alex. "
        "I can't take your call right now. Please leave a message after the tone.",
    )
    # Silence streams as RTP too: a detector sees a live, quiet line, not a dead one.
    gap = synth("gap", 0.3, "sine", "1000", "vol", "0")
    silence = synth("silence", 10, "sine", "1000", "vol", "0")
    long_silence = synth("long-silence", 60, "sine", "1000", "vol", "0")
    beep = synth("beep", 0.4, "sine", "1000", "vol", "0.5")
    ulaw("human", hello, long_silence)
    ulaw("silence", silence)
    ulaw("voicemail", greeting, gap, beep, long_silence, long_silence)
    ulaw("fax_ced", synth("ced", 3.0, "sine", "2100", "vol", "0.5"), gap)
    ulaw("fax_cng", synth("cng", 0.5, "sine", "1100", "vol", "0.5"), synth("cng-off", 3.0,
         "sine", "1100", "vol", "0"))  # fmt: skip

    def sit(name: str, *segments: tuple[float, float]) -> list[Path]:
        # Back to back, no gap: the standard allows at most 4 ms between segments.
        return [
            synth(f"{name}-{i}", seconds, "sine", str(hz), "vol", "0.25")
            for i, (hz, seconds) in enumerate(segments)
        ]

    # ANSI T1.209 codes (telephony.detection.SIT_CLASSES): the third segment is always 1776.7 Hz.
    no_circuit = sit("sit-nc", (985.2, 0.380), (1428.5, 0.380), (1776.7, 0.380))
    intercept = sit("sit-ic", (913.8, 0.274), (1370.6, 0.274), (1776.7, 0.380))
    not_in_service = speech(
        "not-in-service",
        "The number you have dialled is not in service. Please check the number and try again.",
    )
    # The SIT, then where the announcement would be: a quiet line, then the SIT again.
    ulaw("sit_no_circuit", *no_circuit, synth("sit-pause", 2.5, "sine", "1000", "vol", "0"))
    after = synth("sit-after", 1.5, "sine", "1000", "vol", "0")
    ulaw("sit_not_in_service", *intercept, gap, not_in_service, after)
    shutil.rmtree(work)


def _pcap(packets: list[tuple[float, bytes]]) -> bytes:
    """A pcap of RTP packets in Ethernet/IPv4/UDP frames, as play_pcap_audio reads them.

    Addresses and ports are placeholders: SIPp sends each payload to the call's remote media
    address, keeping only the pcap's timing and the destination port's offset from the lowest.
    """
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    loopback = bytes([127, 0, 0, 1])
    for at, rtp in packets:
        udp = struct.pack("!HHHH", 4000, 6000, 8 + len(rtp), 0) + rtp
        ip = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, loopback, loopback
        )
        frame = bytes(12) + b"\x08\x00" + ip + udp
        sec, usec = int(at), round((at - int(at)) * 1_000_000)
        out.append(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
    return b"".join(out)


_EVENT_CODES = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}


def _dtmf_pcap(key: str, payload_type: int, tone_ms: int = 200) -> bytes:
    """One RFC 2833 event: a marked start, updates every 20 ms, and three end packets."""
    event, volume, ssrc, timestamp = _EVENT_CODES[key], 10, 0x2833_0000 + ord(key), 48_000
    steps = tone_ms // 20
    packets: list[tuple[float, bytes]] = []
    for i in range(steps + 3):
        end = i >= steps
        # The end packet goes three times, 1 ms apart, as RFC 4733 asks for robustness.
        at = steps * 0.02 + (i - steps) * 0.001 if end else i * 0.02
        duration = min(i + 1, steps) * 160
        marker = 0x80 if i == 0 else 0
        header = struct.pack("!BBHII", 0x80, marker | payload_type, 1000 + i, timestamp, ssrc)
        body = struct.pack("!BBH", event, (0x80 if end else 0) | volume, duration)
        packets.append((at, header + body))
    return _pcap(packets)


def ensure_media(telephone_event_pt: int) -> Path:
    """The media folder, built on first use; safe when several processes race to build it."""
    root = _media_root()
    if not (root / "human.ul").exists():
        root.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".sipp-media-", dir=root.parent))
        try:
            _build_audio(staging)
            try:
                staging.rename(root)
            except OSError:
                if not (root / "human.ul").exists():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    for key in sorted({k for n, k in KEYS.items() if n in RFC2833_NUMBERS}):
        target = root / f"dtmf_{key}_pt{telephone_event_pt}.pcap"
        if not target.exists():
            fd, tmp = tempfile.mkstemp(dir=root, suffix=".pcap")
            with os.fdopen(fd, "wb") as out:
                out.write(_dtmf_pcap(key, telephone_event_pt))
            os.replace(tmp, target)
    return root


# ---- the carrier -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SippStats:
    """Counters from SIPp's statistics file (refreshed once a second)."""

    calls: int  # calls seen (INVITEs that started a scenario)
    successful: int  # scenarios that ran to the end: answered, rejected or cancelled as planned
    failed: int  # scenarios SIPp aborted: unexpected messages, retransmission timeouts
    current: int  # calls in progress


@dataclass(frozen=True)
class SippAnswer:
    """One call the carrier answered, from its action log."""

    call_id: str
    callee: str  # the Request-URI's user part: the number dialled, as the dialer sent it
    at: float  # when the 200 OK left, in seconds since the epoch (SIPp's clock, time.time())
    dialer_rtp_port: int | None  # the port of the dialer's SDP offer, where its RTP comes from


_ANSWER_LINE = re.compile(
    r"^ANSWER (?P<call_id>\S+) rtp=(?P<port>\d*) at=\S+\s+\S+\s+(?P<epoch>\d+\.\d+)"
    r"\s+INVITE sips?:(?P<callee>[^@\s]+)@"
)


@dataclass(frozen=True)
class SippMessage:
    """One SIP message SIPp sent or received, from its short message trace."""

    direction: str  # "S" sent, "R" received
    call_id: str
    cseq: str  # "CSeq:38309 INVITE"
    first_line: str  # the request line or the status line

    @property
    def method(self) -> str | None:
        """A request's method; None for a response."""
        return None if self.first_line.startswith("SIP/") else self.first_line.split(" ", 1)[0]

    @property
    def status(self) -> int | None:
        """A response's status code; None for a request."""
        if not self.first_line.startswith("SIP/"):
            return None
        return int(self.first_line.split(" ", 2)[1])


class SippCarrier(SippProcess):
    """One SIPp process answering the number plan above on 127.0.0.1."""

    def __init__(
        self,
        *,
        telephone_event_pt: int = 101,
        ring_seconds: float = 0.2,
        ring_forever_seconds: float = 300.0,
        max_call_seconds: float = 120.0,
        hang_up_after_seconds: float = 4.0,
        first_key_seconds: float = 2.5,
        key_interval_seconds: float = 3.0,
        key_repeats: int = 10,
        no_response_seconds: float = 40.0,
        trace_messages: bool = True,
        auth_user: str = "dialer-trunk",
        auth_password: str = "s3cret",  # noqa: S107 (the fake carrier's, for tests)
        answer_audio_port: int = 0,
    ) -> None:
        if not 96 <= telephone_event_pt <= 127:
            raise ValueError(f"telephone_event_pt must be 96-127, got {telephone_event_pt}")
        for name, value in (("auth_user", auth_user), ("auth_password", auth_password)):
            # They go into the scenario (a latin-1 file) as SIPp message text, where a bracket
            # would start a keyword.
            if not (value.isascii() and value.isprintable()) or "[" in value or "]" in value:
                raise ValueError(f"{name} must be printable ASCII, without brackets: {value!r}")
        self.sipp = find_sipp()
        self.host = HOST
        self.telephone_event_pt = telephone_event_pt
        self.port = 0
        self.control_port = 0
        self.media_port = 0
        self.rfc2833 = _raw_sockets_allowed()
        self.trace_messages = trace_messages
        self.auth_user = auth_user
        self.auth_password = auth_password
        # Where every answer's SDP tells the dialer to send its audio: a test's RtpListener
        # (SIPp cannot record what it hears), or 0 for SIPp's own media port (discarded).
        self.answer_audio_port = answer_audio_port
        self._timeouts = {
            # SIPp reads 0 as "no timeout", so every wait is at least a millisecond.
            "RING_MS": ring_seconds,
            "RING_FOREVER_MS": ring_forever_seconds,
            "MAX_CALL_MS": max_call_seconds,
            "HANG_UP_AFTER_MS": hang_up_after_seconds,
            "FIRST_KEY_MS": first_key_seconds,
            "KEY_INTERVAL_MS": key_interval_seconds,
            "NO_RESPONSE_MS": no_response_seconds,
        }
        self._key_repeats = key_repeats
        super().__init__("dialer-sipp-")

    # -- files

    @property
    def stat_file(self) -> Path:
        return self.root / "stat.csv"

    @property
    def message_file(self) -> Path:
        return self.root / "messages.csv"

    @property
    def log_file(self) -> Path:
        """The scenario's own ``<log>`` actions (the REFERs, the authenticated retries)."""
        return self.root / "actions.log"

    @property
    def stderr_file(self) -> Path:
        return self.root / "stderr.log"

    def _scenario(self, media: Path) -> Path:
        text = (resources.files("dialer.testing") / "sipp" / "carrier.xml").read_text("latin-1")
        if "," in str(media):
            # rtp_stream's argument is "file,loops,payload type".
            raise SippUnavailable(f"the media cache path must not contain a comma: {media}")
        values = {
            **{k: str(max(1, round(v * 1000))) for k, v in self._timeouts.items()},
            "KEY_REPEATS": str(self._key_repeats),
            "TE_PT": str(self.telephone_event_pt),
            "MEDIA": str(media),
            # Attribute values of the verifyauth action.
            "AUTH_USER": escape(self.auth_user, {'"': "&quot;"}),
            "AUTH_PASSWORD": escape(self.auth_password, {'"': "&quot;"}),
            "ANSWER_AUDIO_PORT": str(self.answer_audio_port or "[rtpstream_audio_port]"),
        }
        if not self.rfc2833:
            # play_pcap_audio without a raw socket is a fatal SIPp error, for every call.
            text = re.sub(r'<exec play_pcap_audio="[^"]*"/>', "", text)
        text = re.sub(r"@([A-Z_0-9]+)@", lambda m: values[m.group(1)], text)
        path = self.root / "carrier.xml"
        path.write_text(text, "latin-1")
        return path

    # -- lifecycle

    def start(self, timeout: float = 10.0) -> Self:
        media = ensure_media(self.telephone_event_pt)
        scenario = self._scenario(media)
        self.port = _free_port()
        self.control_port = _free_port()
        self.media_port = _free_port() & ~1  # RTP on even ports, RTCP on the odd one above
        args = [
            self.sipp,
            *("-sf", str(scenario)),
            *("-i", HOST, "-p", str(self.port), "-bind_local", "-t", "u1"),
            *("-mi", HOST, "-mp", str(self.media_port)),
            *("-ci", HOST, "-cp", str(self.control_port)),
            # Answers INFO, UPDATE, OPTIONS and NOTIFY inside calls: the dialer's own keys.
            "-aa",
            "-nostdin",
            # The screen is redrawn to stdout, which nobody reads: rarely.
            *("-f", "60"),
            *("-trace_err", "-error_file", str(self.error_file)),
            # Only the scenario's <log> actions, one line per REFER: cheap under load.
            *("-trace_logs", "-log_file", str(self.log_file)),
            *("-trace_stat", "-stf", str(self.stat_file), "-fd", "1"),
            # Many calls at once: keep the rtp_stream threads busy, not numerous.
            *("-rtp_threadtasks", "64"),
        ]
        if self.trace_messages:
            args += ["-trace_shortmsg", "-shortmessage_file", str(self.message_file)]
        self.launch(args, self.stderr_file)
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Return once SIPp holds its SIP port; raise if it exits or never does."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process is None:
                raise SippUnavailable("SIPp was never started")
            code = self.process.poll()
            if code is not None:
                raise SippUnavailable(f"SIPp exited with {code}: {self._stderr_tail()}")
            if _udp_port_taken(self.port) and _udp_port_taken(self.control_port):
                return
            if time.monotonic() > deadline:
                raise SippUnavailable(f"SIPp did not open port {self.port} in {timeout} s")
            time.sleep(0.02)

    def _stderr_tail(self) -> str:
        try:
            return self.stderr_file.read_text(errors="replace")[-2000:].strip()
        except OSError:
            return ""

    # -- use

    def uri(self, number: str) -> str:
        return f"sip:{number}@{self.host}:{self.port}"

    def stats(self) -> SippStats:
        """The latest counters; SIPp writes them once a second, so they may lag by that."""
        try:
            lines = self.stat_file.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return SippStats(0, 0, 0, 0)
        if len(lines) < 2:
            return SippStats(0, 0, 0, 0)
        header = lines[0].rstrip(";").split(";")
        row = dict(zip(header, lines[-1].rstrip(";").split(";"), strict=False))

        def count(name: str) -> int:
            try:
                return int(row.get(name, "0"))
            except ValueError:
                return 0

        return SippStats(
            calls=count("IncomingCall(C)"),
            successful=count("SuccessfulCall(C)"),
            failed=count("FailedCall(C)"),
            current=count("CurrentCall"),
        )

    def messages(self) -> Iterator[SippMessage]:
        """Every SIP message so far (needs ``trace_messages``); SIPp writes them as it goes."""
        try:
            text = self.message_file.read_text(errors="replace")
        except FileNotFoundError:
            return
        for line in text.splitlines():
            # date, time, epoch, direction, Call-ID, CSeq, first line: tab-separated.
            fields = line.split("\t")
            if len(fields) >= 7 and fields[3] in ("S", "R"):
                yield SippMessage(fields[3], fields[4], fields[5], fields[6])

    def refers(self) -> list[tuple[str, str]]:
        """(Call-ID, Refer-To header value) of each REFER received so far, in order."""
        try:
            text = self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return []
        found = []
        for line in text.splitlines():
            # The scenario logs "REFER <Call-ID> <Refer-To>", and SIPp adds nothing to it.
            fields = line.split(None, 2)
            if len(fields) == 3 and fields[0] == "REFER":
                found.append((fields[1], fields[2].strip()))
        return found

    def answers(self) -> list[SippAnswer]:
        """Each call answered so far (its 200 OK sent), in order; from the action log."""
        try:
            text = self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return []
        found = []
        for line in text.splitlines():
            if match := _ANSWER_LINE.match(line):
                port = match["port"]
                found.append(
                    SippAnswer(
                        match["call_id"],
                        match["callee"],
                        float(match["epoch"]),
                        int(port) if port else None,
                    )
                )
        return found

    def authorizations(self) -> list[tuple[str, str]]:
        """(Call-ID, Authorization header value) of each INVITE retried after 160's challenge.

        The value is "" for a retry without one. The short message trace has no headers, so
        the scenario logs this one itself.
        """
        try:
            text = self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return []
        found = []
        for line in text.splitlines():
            # "AUTH <Call-ID> <Authorization>", the header value empty when there was none.
            fields = line.split(None, 2)
            if len(fields) >= 2 and fields[0] == "AUTH":
                found.append((fields[1], fields[2].strip() if len(fields) == 3 else ""))
        return found

    @property
    def label(self) -> str:
        return f"the SIPp carrier on port {self.port}"

    def errors(self) -> str:
        """SIPp's log of unexpected messages, empty when there were none.

        The scenario's planned waits (a ``recv`` with ``ontimeout``) log a line each time they
        expire; those are left out.
        """
        text = _PLANNED_TIMEOUT.sub("", super().errors())
        return "" if text.strip() == ERROR_LOG_HEADER else text


# SIPp glues its error log entries together with no separator, so each pattern ends where the
# next entry's date begins.
_NEXT_ENTRY = r"(?=\d{4}-\d\d-\d\d\t|\s|$)"
_PLANNED_TIMEOUT = re.compile(
    r"\d{4}-\d\d-\d\d\t[^\t]*\t[^:]*: (?:"
    r"Call-Id: \S+, receive timeout on message .*?jumping to label \d+?"
    # -aa answering the dialer's INFO (its own keys) is logged, but is what we asked for.
    r"|Automatic response mode for an unexpected INFO, NOTIFY, OPTIONS or UPDATE for call: \S+?"
    r")" + _NEXT_ENTRY
)
