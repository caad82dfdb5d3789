"""Text to speech with espeak-ng, as 8 kHz mono signed 16-bit little-endian PCM (a phone line).

espeak-ng speaks at 22,050 Hz; every render is resampled to the line's 8 kHz (``pcm.py``).
Renders are cached by text, voice, speed and espeak-ng version, in memory and optionally on
disk; ``stream`` renders phrase by phrase so a long personalised prompt starts playing after its
first phrase, not after all of it.
"""

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import subprocess
import sys
from collections import OrderedDict
from collections.abc import AsyncIterator
from pathlib import Path

from dialer.telephony.pcm import SpeechError, wav_to_pcm8k
from dialer.telephony.slots import PrioritySlots

log = logging.getLogger(__name__)


# Part of every cache key: bump it when the resampler's output changes, so disk caches refill.
_PCM_FORMAT = "s16le-8k-v1"
_VOICE_CHARS = re.compile(r"[A-Za-z0-9_+-]{1,64}")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+")
_OTHER_LANGUAGE = re.compile(r"\(([^\s)]+) \d+\)")
_RENDER_TIMEOUT_S = 60  # a phrase takes espeak-ng well under a second


def split_phrases(text: str, max_chars: int = 120) -> list[str]:
    """Sentences, and long sentences cut at commas, semicolons and colons (then at spaces), each
    at most ``max_chars`` where the text allows: the units ``stream`` renders one at a time."""
    phrases: list[str] = []
    for sentence in _SENTENCE_END.split(" ".join(text.split())):
        pieces = [sentence] if len(sentence) <= max_chars else _CLAUSE_END.split(sentence)
        current = ""
        for piece in pieces:
            if current and len(current) + 1 + len(piece) > max_chars:
                phrases.extend(_cut_at_spaces(current, max_chars))
                current = piece
            else:
                current = f"{current} {piece}" if current else piece
        if current:
            phrases.extend(_cut_at_spaces(current, max_chars))
    return [p for p in phrases if p.strip()]


def _cut_at_spaces(phrase: str, max_chars: int) -> list[str]:
    out: list[str] = []
    while len(phrase) > max_chars:
        cut = phrase.rfind(" ", 0, max_chars + 1)
        if cut <= 0:
            cut = max_chars
        out.append(phrase[:cut].strip())
        phrase = phrase[cut:].strip()
    out.append(phrase)
    return out


# --- espeak-ng -------------------------------------------------------------------------------


class EspeakSynthesizer:
    """A SpeechSynthesizer running the espeak-ng program, one process per uncached phrase.

    ``speed``: words per minute (espeak-ng ``-s``, its default 175). ``max_processes`` bounds
    the espeak-ng processes running at once (default: twice the CPU count, as a render is
    partly process start-up and pipe waits), so a burst of answered
    calls queues renders instead of thrashing. ``disk_max_bytes`` bounds the disk cache; the
    least recently used files go first.
    """

    def __init__(
        self,
        cache_dir: Path | None = None,
        default_voice: str = "en",
        memory_items: int = 512,
        *,
        speed: int | None = None,
        max_processes: int | None = None,
        disk_max_bytes: int = 256 * 1024 * 1024,
        binary: str = "espeak-ng",
    ) -> None:
        if speed is not None and not 80 <= speed <= 500:
            raise SpeechError(f"speed {speed} is outside espeak-ng's 80-500 words per minute")
        self.cache_dir = cache_dir
        self.default_voice = default_voice
        self.memory_items = memory_items
        self.speed = speed
        self.disk_max_bytes = disk_max_bytes
        self.binary = binary
        self.runs = 0  # espeak-ng renders started: how tests tell a cache hit from a render
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._inflight: dict[str, asyncio.Task[bytes]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._slots = PrioritySlots(max_processes or 2 * (os.cpu_count() or 1))
        self._setup_lock = asyncio.Lock()
        self._version: str | None = None
        self._voices: frozenset[str] = frozenset()
        self._variants: frozenset[str] = frozenset()
        self._disk_bytes: int | None = None  # estimate; None until the directory is scanned

    async def render(self, text: str, voice: str | None) -> bytes:
        return await self._phrase(" ".join(text.split()), await self._check_voice(voice))

    async def stream(self, text: str, voice: str | None) -> AsyncIterator[bytes]:
        checked = await self._check_voice(voice)
        phrases = split_phrases(text)
        if not phrases:
            return
        # Only the first phrase renders alone, so it is ready as soon as possible; each later
        # one starts just before the previous is handed over and renders while that plays.
        ahead: asyncio.Task[bytes] | None = None
        try:
            pcm = await self._phrase(phrases[0], checked, urgent=True)
            for phrase in phrases[1:]:
                ahead = asyncio.ensure_future(self._phrase(phrase, checked))
                yield pcm
                pcm = await ahead
                ahead = None
            yield pcm
        finally:
            if ahead is not None:
                ahead.cancel()  # only this waiter: the render itself finishes into the cache

    def prepare(self, text: str, voice: str | None) -> None:
        """Start rendering ``text``'s first phrase (what ``stream`` yields first) into the
        cache and return at once: called while the phone rings, so speech starts on answer."""
        phrases = split_phrases(text)
        if not phrases:
            return
        task = asyncio.get_running_loop().create_task(self._prepare(phrases[0], voice))
        self._background.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(self._background.discard)

    async def _prepare(self, phrase: str, voice: str | None) -> None:
        with contextlib.suppress(SpeechError):  # a hint: whoever says it gets the same error
            await self._phrase(phrase, await self._check_voice(voice), urgent=True)

    async def voices(self) -> frozenset[str]:
        """Voice and language names this espeak-ng knows (lower case), without variants."""
        await self._setup()
        return self._voices

    # -- cache

    async def _phrase(self, text: str, voice: str, *, urgent: bool = False) -> bytes:
        """``urgent``: the first words of a call (rendered before anything said later)."""
        assert self._version is not None
        key = hashlib.sha256(
            "\0".join([_PCM_FORMAT, self._version, voice, str(self.speed), text]).encode()
        ).hexdigest()
        cached = self._memory.get(key)
        if cached is not None:
            self._memory.move_to_end(key)
            return cached
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._fill(key, text, voice, urgent))
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        # Shielded: one waiter giving up (a callee hanging up) must not cancel the others' render.
        return await asyncio.shield(task)

    def _forget(self, key: str, task: asyncio.Task[bytes]) -> None:
        self._inflight.pop(key, None)
        if not task.cancelled():
            task.exception()  # retrieved: its waiters, if any are left, have it raised to them

    async def _fill(self, key: str, text: str, voice: str, urgent: bool) -> bytes:
        pcm = None
        if self.cache_dir:
            try:
                pcm = await asyncio.to_thread(self._read_disk, key)
            except OSError as e:  # a broken disk cache costs a render, not the call's speech
                log.warning("speech cache %s unreadable: %s", self.cache_dir, e)
        if pcm is None:
            pcm = await self._run(text, voice, urgent)
            if self.cache_dir:
                try:
                    await asyncio.to_thread(self._write_disk, key, pcm)
                except OSError as e:
                    log.warning("speech cache %s unwritable: %s", self.cache_dir, e)
        self._memory[key] = pcm
        while len(self._memory) > self.memory_items:
            self._memory.popitem(last=False)
        return pcm

    def _read_disk(self, key: str) -> bytes | None:
        assert self.cache_dir is not None
        path = self.cache_dir / f"{key}.pcm"
        try:
            pcm = path.read_bytes()
            os.utime(path)  # the mtime orders eviction: least recently used first
        except FileNotFoundError:
            return None
        return pcm

    def _write_disk(self, key: str, pcm: bytes) -> None:
        assert self.cache_dir is not None
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.cache_dir / f".{key}.{os.getpid()}.tmp"
        tmp.write_bytes(pcm)
        os.replace(tmp, self.cache_dir / f"{key}.pcm")  # readers never see half a file
        if self._disk_bytes is None:
            self._disk_bytes = sum(p.stat().st_size for p in self.cache_dir.glob("*.pcm"))
        else:
            self._disk_bytes += len(pcm)
        if self._disk_bytes > self.disk_max_bytes:
            self._prune_disk()

    def _prune_disk(self) -> None:
        assert self.cache_dir is not None
        files = []
        for path in self.cache_dir.glob("*.pcm"):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            files.append((stat.st_mtime, stat.st_size, path))
        files.sort()
        total = sum(size for _, size, _ in files)
        for _, size, path in files:
            if total <= self.disk_max_bytes * 3 // 4:  # prune to 3/4 so this runs rarely
                break
            path.unlink(missing_ok=True)
            total -= size
        self._disk_bytes = total

    # -- espeak-ng

    async def _run(self, text: str, voice: str, urgent: bool) -> bytes:
        args = [self.binary, "-v", voice, "-b", "1", "--stdout"]
        if self.speed is not None:
            args += ["-s", str(self.speed)]
        async with self._slots.taken(urgent=urgent):
            self.runs += 1
            return await asyncio.to_thread(self._espeak, args, text, voice)

    def _espeak(self, args: list[str], text: str, voice: str) -> bytes:
        """Run espeak-ng (in a worker thread) and convert what it says to 8 kHz PCM.

        A thread, not asyncio.create_subprocess_exec: on Python 3.11, a loop shutting down
        while a subprocess is being started (its transport connecting) waits for it for ever;
        a thread is never cancelled, so shutdown waits for at most one render. The text goes on
        stdin: as an argument, text starting with "-" would be an option.
        """
        try:
            done = subprocess.run(
                args, input=text.encode(), capture_output=True, timeout=_RENDER_TIMEOUT_S
            )
        except FileNotFoundError:
            raise SpeechError(_not_installed(self.binary)) from None
        except subprocess.TimeoutExpired:
            message = f"espeak-ng took over {_RENDER_TIMEOUT_S} s (voice {voice!r})"
            raise SpeechError(message) from None
        if done.returncode != 0 or not done.stdout:
            message = done.stderr.decode(errors="replace").strip()
            raise SpeechError(
                f"espeak-ng failed for voice {voice!r}: "
                f"{message or f'exit status {done.returncode}'}"
            )
        return wav_to_pcm8k(done.stdout)

    async def _check_voice(self, voice: str | None) -> str:
        name = self.default_voice if voice is None else voice
        if not _VOICE_CHARS.fullmatch(name):
            raise SpeechError(
                f"voice {name!r} is not a voice name: letters, digits, '_', '+' and '-' only"
            )
        await self._setup()
        base, _, variant = name.lower().partition("+")
        if base not in self._voices:
            raise SpeechError(f"unknown voice {name!r}: `espeak-ng --voices` lists them")
        if variant and variant not in self._variants:
            raise SpeechError(
                f"unknown voice variant {variant!r} in {name!r}: `espeak-ng --voices=variant`"
            )
        return name

    async def _setup(self) -> None:
        """Ask espeak-ng once for its version (part of every cache key) and its voices."""
        async with self._setup_lock:
            if self._version is not None:
                return
            version = await self._ask("--version")
            voices = await self._ask("--voices")
            variants = await self._ask("--voices=variant")
            self._voices = frozenset(_voice_names(voices))
            self._variants = frozenset(_voice_names(variants, variants=True))
            self._version = version.strip().splitlines()[0] if version.strip() else "unknown"

    async def _ask(self, option: str) -> str:
        try:
            done = await asyncio.to_thread(
                subprocess.run, [self.binary, option], capture_output=True, timeout=30
            )
        except FileNotFoundError:
            raise SpeechError(_not_installed(self.binary)) from None
        except subprocess.TimeoutExpired:
            raise SpeechError(f"{self.binary} {option} did not answer in 30 s") from None
        if done.returncode != 0:
            error = done.stderr.decode(errors="replace").strip()
            raise SpeechError(f"{self.binary} {option} failed: {error}")
        return done.stdout.decode(sys.getfilesystemencoding(), errors="replace")


def _not_installed(binary: str) -> str:
    return f"{binary} is not installed (Debian: apt-get install espeak-ng)"


def _voice_names(listing: str, *, variants: bool = False) -> set[str]:
    """Names a ``-v`` accepts, from ``espeak-ng --voices`` (languages, file names, and the
    languages in brackets) or ``--voices=variant`` (the variant files' names)."""
    names: set[str] = set()
    for line in listing.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 5:
            continue
        file_name = fields[4].lower()
        if variants:
            names.add(file_name.removeprefix("!v/"))
            continue
        names.update({fields[1].lower(), file_name, file_name.rsplit("/", 1)[-1]})
        names.update(m.lower() for m in _OTHER_LANGUAGE.findall(line))
    return names
