"""Phone-number normalisation with ``phonenumbers``, spread over processes for big lists.

A number is judged *possible* (right length for its country), not *valid*: the allocation check
lags newly opened ranges and rejects numbers carriers route fine (the Dialer API seed's own
``0501234567`` among them).
"""

import os
import re
import select
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from multiprocessing import get_context

import phonenumbers
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    NumberParseException,
    PhoneMetadata,
    PhoneNumberFormat,
    PhoneNumberType,
    ValidationResult,
    national_significant_number,
)
from phonenumbers.phonenumberutil import _number_type_helper

# What may appear in a number as people write it; letters and anything else make it garbage.
_NUMBER_SHAPE = re.compile(r"^\+?[\d\s().\-/]*\d[\d\s().\-/]*$")
MAX_NUMBER_LENGTH = 40


def looks_like_number(raw: str) -> bool:
    return len(raw) <= MAX_NUMBER_LENGTH and _NUMBER_SHAPE.match(raw) is not None


def supported_region(region: str) -> bool:
    return region in phonenumbers.SUPPORTED_REGIONS


def to_e164(raw: str, region: str) -> str | None:
    try:
        parsed = phonenumbers.parse(raw, region)
    except NumberParseException:
        return None
    # IS_POSSIBLE only: a local-only number (no area code) cannot be routed by a trunk.
    if phonenumbers.is_possible_number_with_reason(parsed) != ValidationResult.IS_POSSIBLE:
        return None
    return str(phonenumbers.format_number(parsed, PhoneNumberFormat.E164))


Classified = tuple[str | None, int | None]


def classify(raw: str, region: str) -> Classified:
    """E.164 form and number type code of a number, or (None, None) when it is not possible.

    The type is ``NOT_VALID`` (99) for a possible number outside every allocated range, such
    as a US number written without its +1 in a GB tenant: it is still dialled, but reported.
    """
    try:
        parsed = phonenumbers.parse(raw, region)
    except NumberParseException:
        return None, None
    if phonenumbers.is_possible_number_with_reason(parsed) != ValidationResult.IS_POSSIBLE:
        return None, None
    e164 = str(phonenumbers.format_number(parsed, PhoneNumberFormat.E164))
    return e164, _type_code(parsed)


def number_type_of(e164: str) -> int:
    """The type code of a number stored in E.164 form (see ``classify``)."""
    return _type_code(phonenumbers.parse(e164))


def _type_code(parsed: phonenumbers.PhoneNumber) -> int:
    """``phonenumbers.number_type``, in half its time for numbers of a shared country code.

    For a code several regions share (+44: GB, GG, IM, JE; +1: US, CA, ...), ``number_type``
    first finds the number's region by judging the number against each region's types, then
    judges it again against the region found: classifying a GB mobile matched every type pattern
    twice, and doubled the cost of a big upload. This returns the first judgement. It follows
    ``region_code_for_number`` step by step (the library is pinned; a test compares the two).
    """
    regions = COUNTRY_CODE_TO_REGION_CODE.get(parsed.country_code or 0)
    if regions is None or len(regions) == 1:
        return int(phonenumbers.number_type(parsed))
    national = national_significant_number(parsed)
    for region in regions:
        metadata = PhoneMetadata.metadata_for_region(region.upper(), None)
        if metadata is None:
            continue
        if metadata.leading_digits is not None:
            if re.compile(metadata.leading_digits).match(national):
                return int(_number_type_helper(national, metadata))
        else:
            kind = int(_number_type_helper(national, metadata))
            if kind != PhoneNumberType.UNKNOWN:
                return kind
    return int(PhoneNumberType.UNKNOWN)


def _exit_with(parent_pid: int) -> None:
    """Worker initialiser: leave as soon as the server process is gone, however it went.

    A worker whose server was killed would otherwise wait on its task queue forever, and keep
    the forkserver alive too (it holds the forkserver's liveness pipe).
    """

    def watch() -> None:
        try:
            fd = os.pidfd_open(parent_pid)
        except (AttributeError, OSError):  # not Linux 5.3+: poll instead
            while True:
                try:
                    os.kill(parent_pid, 0)
                except ProcessLookupError:
                    os._exit(0)
                time.sleep(1)
        select.select([fd], [], [])
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _normalise_chunk(raws: Sequence[str], region: str) -> list[str | None]:
    return [to_e164(raw, region) for raw in raws]


def _classify_chunk(raws: Sequence[str], region: str) -> list[Classified]:
    return [classify(raw, region) for raw in raws]


class _Deferred:
    """Work done in the caller's thread, only when (and if) the result is asked for."""

    def __init__(self, raws: Sequence[str], region: str) -> None:
        self._raws, self._region = raws, region

    def chunks(self) -> Iterator[list[Classified]]:
        yield _classify_chunk(self._raws, self._region)

    def cancel(self) -> None:
        self._raws = []


class _Pooled:
    def __init__(self, futures: "list[Future[list[Classified]]]") -> None:
        self._futures = futures

    def chunks(self) -> Iterator[list[Classified]]:
        for future in self._futures:
            yield future.result()

    def cancel(self) -> None:
        for future in self._futures:
            future.cancel()


class LocalNormaliser:
    """Parses in the calling thread: for small lists, tests, and the CLI."""

    def normalise(self, raws: Sequence[str], region: str) -> list[str | None]:
        return _normalise_chunk(raws, region)

    def start(self, raws: Sequence[str], region: str) -> _Deferred:
        return _Deferred(raws, region)


class PooledNormaliser:
    """Splits lists of ``threshold`` numbers or more across worker processes.

    ``phonenumbers`` parses about 26,000 numbers/s on one core here; a 100,000-number campaign
    would otherwise spend four seconds on one core while the other idles.
    """

    def __init__(self, workers: int | None = None, threshold: int = 5000) -> None:
        self.workers = workers or max(1, os.cpu_count() or 1)
        self.threshold = threshold
        self._pool: Executor | None = None

    def _executor(self) -> Executor:
        if self._pool is None:
            # forkserver: never fork a process that already runs threads (the server's).
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=get_context("forkserver"),
                initializer=_exit_with,
                initargs=(os.getpid(),),
            )
        return self._pool

    def warm_up(self) -> None:
        """Start the workers and load the metadata now rather than in the first big request."""
        pool = self._executor()
        futures = [
            pool.submit(_normalise_chunk, ["+441632960000"], "GB") for _ in range(self.workers)
        ]
        for future in futures:
            future.result()

    def normalise(self, raws: Sequence[str], region: str) -> list[str | None]:
        return [e164 for chunk in self.start(raws, region).chunks() for e164, _ in chunk]

    def start(self, raws: Sequence[str], region: str) -> _Deferred | _Pooled:
        if len(raws) < self.threshold or self.workers < 2:
            return _Deferred(raws, region)
        size = -(-len(raws) // (self.workers * 4))
        chunks = [raws[i : i + size] for i in range(0, len(raws), size)]
        return _Pooled([self._executor().submit(_classify_chunk, c, region) for c in chunks])

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
