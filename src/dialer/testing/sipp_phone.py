"""Phones for the agent tests: a SIPp process that answers every call at once with a steady tone,
and a small RTP listener that hears what the dialer sends to one of its calls.

The same scenario (sipp/phone.xml) plays an agent's desk phone, dialled by URI, and a customer
reached through the trunk: what a call does is spelled in its Request-URI's user part
(``PhoneCall.user``): the tone it sends (700 Hz, 1200 Hz or silence), its one codec (PCMU or
PCMA), where its answer tells the dialer to send audio, and when it hangs up.

SIPp plays audio (``rtp_stream``) but cannot record what it receives, so a test that must know
what reached a phone opens an ``RtpListener`` and names its port in the call: the answer's SDP
points the dialer's RTP there, while SIPp still sends the tone from its own port (the dialer
takes RTP from any source, as most endpoints behind NAT need).

Usage::

    with SippPhone() as phones, RtpListener() as heard:
        uri = phones.uri(PhoneCall(tone=1200, codec=8, rtp_port=heard.port))
        ...
        heard.tone_level(700)           # how much of the last second is a 700 Hz tone
"""

import shutil
import socket
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Self

import numpy as np

from dialer.testing.sipp import HOST, SippUnavailable, _free_port, _run_tool, _udp_port_taken
from dialer.testing.sipp_process import SippProcess

_MEDIA_VERSION = "1"
TONES = (0, 700, 1200)
PCMU, PCMA = 0, 8
_SECONDS = 1.0
_KEPT_PACKETS = 3_000  # a minute of 20 ms packets
_PACKETS_PER_SECOND = 50
# A packet louder than this (peak, of 32767) is sound: about -50 dBFS. The dialer's silence
# between prompts is digital zero; speech and tones peak thousands of times higher.
SOUND_PEAK = 100


@dataclass(frozen=True)
class PhoneCall:
    """What one call to the phone does."""

    tone: int = 0  # Hz: 700, 1200, or 0 for silence
    codec: int = PCMU  # the answer's only payload type: 0 PCMU, 8 PCMA
    rtp_port: int = 0  # where the dialer's audio goes; 0: SIPp's own media port (discarded)
    hang_up_after: int = 0  # whole seconds after the answer; 0: stays until the dialer's BYE

    def __post_init__(self) -> None:
        if self.tone not in TONES or self.codec not in (PCMU, PCMA):
            raise ValueError(f"no such phone call: {self}")

    @property
    def user(self) -> str:
        """The Request-URI's user part (a "number" to dial through a trunk at the phone)."""
        return f"t{self.tone}c{self.codec}r{self.rtp_port}h{self.hang_up_after}"


def _media_root() -> Path:
    return Path(tempfile.gettempdir()) / f"dialer-sipp-phone-media-v{_MEDIA_VERSION}"


def ensure_phone_media() -> Path:
    """Ten seconds of each tone (-10 dBFS) and of near silence, u-law and A-law, raw."""
    root = _media_root()
    if (root / "quiet.al").exists():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".sipp-phone-media-", dir=root.parent))
    try:
        for tone in TONES:
            name = f"tone{tone}" if tone else "quiet"
            wav = staging / f"{name}.wav"
            level = "0.3" if tone else "0"
            _run_tool(
                "sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(wav),
                "synth", "10", "sine", str(tone or 1000), "vol", level,
            )  # fmt: skip
            _run_tool("sox", str(wav), "-t", "ul", str(staging / f"{name}.ul"))
            _run_tool("sox", str(wav), "-t", "al", str(staging / f"{name}.al"))
            wav.unlink()
        try:
            staging.rename(root)
        except OSError:
            if not (root / "quiet.al").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root


class SippPhone(SippProcess):
    """One SIPp process answering calls as sipp/phone.xml says, on 127.0.0.1."""

    def __init__(self, max_call_seconds: float = 120.0) -> None:
        if not shutil.which("sipp"):
            raise SippUnavailable("SIPp is missing")
        self.sipp = shutil.which("sipp") or "sipp"
        self.host = HOST
        self.port = 0
        self.max_call_seconds = max_call_seconds
        super().__init__("dialer-sipp-phone-")

    @property
    def label(self) -> str:
        return f"the SIPp phone on port {self.port}"

    def _scenario(self, media: Path) -> Path:
        text = (resources.files("dialer.testing") / "sipp" / "phone.xml").read_text("latin-1")
        text = text.replace("@MEDIA@", str(media))
        text = text.replace("@MAX_CALL_MS@", str(round(self.max_call_seconds * 1000)))
        path = self.root / "phone.xml"
        path.write_text(text, "latin-1")
        return path

    def start(self, timeout: float = 10.0) -> Self:
        scenario = self._scenario(ensure_phone_media())
        self.port = _free_port()
        media_port = _free_port() & ~1
        args = [
            self.sipp,
            *("-sf", str(scenario)),
            *("-i", HOST, "-p", str(self.port), "-bind_local", "-t", "u1"),
            *("-mi", HOST, "-mp", str(media_port)),
            *("-nostdin", "-f", "60", "-rtp_threadtasks", "64"),
            *("-trace_err", "-error_file", str(self.error_file)),
        ]
        process = self.launch(args, self.root / "stderr.log")
        deadline = time.monotonic() + timeout
        while not _udp_port_taken(self.port):
            code = process.poll()
            if code is not None or time.monotonic() > deadline:
                self.stop()
                raise SippUnavailable(f"SIPp (phone) did not start: exit {code}")
            time.sleep(0.02)
        return self

    def uri(self, call: PhoneCall) -> str:
        """The phone's URI for ``call``, dialled directly (an agent's desk phone)."""
        return f"sip:{call.user}@{self.host}:{self.port}"


# G.711 decoding tables (ITU-T G.711), built once.
def _ulaw_table() -> "np.ndarray[tuple[int], np.dtype[np.int16]]":
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign, exponent, mantissa = codes & 0x80, (codes >> 4) & 0x07, codes & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


def _alaw_table() -> "np.ndarray[tuple[int], np.dtype[np.int16]]":
    codes = np.arange(256, dtype=np.int32) ^ 0x55
    sign, exponent, mantissa = codes & 0x80, (codes >> 4) & 0x07, codes & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << (exponent - 1)
    )
    return np.where(sign != 0, magnitude, -magnitude).astype(np.int16)


_DECODE = {PCMU: _ulaw_table(), PCMA: _alaw_table()}


class RtpListener:
    """A UDP socket on 127.0.0.1 keeping the G.711 audio of the RTP packets it receives."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((HOST, 0))
        self._sock.settimeout(0.1)
        self.port: int = self._sock.getsockname()[1]
        self._lock = threading.Lock()
        self._samples: list[np.ndarray[tuple[int], np.dtype[np.int16]]] = []
        self._arrived: list[float] = []  # time.monotonic() of each kept packet
        # By the sender's port (each call's RTP comes from its own): time.time() of the first
        # packet with sound, comparable with another process's clock (SippCarrier.answers).
        self._first_sound: dict[int, float] = {}
        # By the sender's port too: its last second of audio, to tell what each call heard.
        self._last_from: dict[int, deque[np.ndarray[tuple[int], np.dtype[np.int16]]]] = {}
        self.packets = 0
        self.payload_types: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"rtp-{self.port}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                packet, sender = self._sock.recvfrom(2048)
            except TimeoutError:
                continue
            except OSError:
                return
            if len(packet) <= 12 or packet[0] >> 6 != 2:
                continue
            payload_type = packet[1] & 0x7F
            table = _DECODE.get(payload_type)
            if table is None:
                continue
            header = 12 + 4 * (packet[0] & 0x0F)
            samples = table[np.frombuffer(packet[header:], dtype=np.uint8)]
            loud = len(samples) > 0 and int(np.abs(samples.astype(np.int32)).max()) > SOUND_PEAK
            with self._lock:
                if loud and sender[1] not in self._first_sound:
                    self._first_sound[sender[1]] = time.time()
                if sender[1] not in self._last_from:
                    self._last_from[sender[1]] = deque(maxlen=_PACKETS_PER_SECOND)
                self._last_from[sender[1]].append(samples)
                self.packets += 1
                self.payload_types.add(payload_type)
                self._samples.append(samples)
                self._arrived.append(time.monotonic())
                if len(self._samples) > _KEPT_PACKETS:
                    del self._samples[: len(self._samples) - _KEPT_PACKETS]
                    del self._arrived[: len(self._arrived) - _KEPT_PACKETS]

    def heard(self) -> "np.ndarray[tuple[int], np.dtype[np.int16]]":
        """Everything kept so far (the last minute), 8 kHz samples."""
        with self._lock:
            return np.concatenate(self._samples) if self._samples else np.zeros(0, np.int16)

    def recent(self, seconds: float = _SECONDS) -> "np.ndarray[tuple[int], np.dtype[np.int16]]":
        return self.heard()[-int(seconds * 8000) :]

    def first_heard(self, hz: float, share: float = 0.5, window: float = 0.1) -> int | None:
        """The sample index where a ``window``-second stretch first is mostly ``hz``."""
        samples, size = self.heard(), int(window * 8000)
        for start in range(0, len(samples) - size + 1, 160):
            if tone_share(samples[start : start + size], hz) >= share:
                return start
        return None

    def clear(self) -> None:
        with self._lock:
            self._samples.clear()
            self._arrived.clear()

    def arrived_with(self, hz: float, after: float = 0.0) -> float | None:
        """When (time.monotonic(), the clock of asyncio's loop too) the first packet that is
        mostly ``hz`` arrived, at or after ``after``; None if none has."""
        with self._lock:
            packets = list(zip(self._arrived, self._samples, strict=True))
        for at, samples in packets:
            if at >= after and tone_share(samples, hz) >= 0.5:
                return at
        return None

    def first_sound_from(self, port: int) -> float | None:
        """When (time.time()) the first packet with sound came from ``port`` of 127.0.0.1 (one
        call's RTP, when several calls send here); None if none has."""
        with self._lock:
            return self._first_sound.get(port)

    def tone_level_from(self, port: int, hz: float) -> float:
        """The share of the last second's energy at ``hz`` (0..1) in the audio that came from
        ``port`` of 127.0.0.1 (one call's RTP, when several calls send here)."""
        with self._lock:
            kept = list(self._last_from.get(port, ()))
        return tone_share(np.concatenate(kept), hz) if kept else 0.0

    def tone_level(self, hz: float, seconds: float = _SECONDS) -> float:
        """The share of the last ``seconds``' energy at ``hz`` (0..1): near 1 for a pure tone."""
        return tone_share(self.recent(seconds), hz)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1.0)
        self._sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def tone_share(samples: "np.ndarray[tuple[int], np.dtype[np.int16]]", hz: float) -> float:
    """The share of ``samples``' energy within 30 Hz of ``hz`` (8 kHz audio)."""
    if len(samples) < 160:
        return 0.0
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples)))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / 8000)
    total = float(spectrum.sum())
    if total <= 0:
        return 0.0
    return float(spectrum[np.abs(freqs - hz) <= 30].sum()) / total
