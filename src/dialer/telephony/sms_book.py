"""The providers of the tenants that set their own (GET/PUT /api/settings/sms): built from
their settings on first use, rebuilt when the settings change, read again at most every
``refresh`` seconds. A tenant with none (or ``sim`` on a process that dials real phones, where
the simulator would only pretend) gets None: the process's default provider."""

import importlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from dialer.clocks import SystemClock
from dialer.domain.ids import TenantId
from dialer.domain.sms import SmppSettings
from dialer.domain.sms_settings import SmsProviderKind, TenantSmsSettings
from dialer.domain.webhook_address import AddressPolicy
from dialer.ports import Clock, EventSink
from dialer.ports.sms import SmsProvider
from dialer.ports.store import SmsSession, UnitOfWork
from dialer.telephony.sms import SimulatedSmsGateway
from dialer.telephony.sms_http import HttpSmsProvider

log = logging.getLogger(__name__)


def smpp_provider(
    settings: SmppSettings, clock: Clock, policy: AddressPolicy | None = None
) -> SmsProvider:
    """h-smpp's SMPP 3.4 provider, imported when first needed. Its waits (the carrier's rate,
    enquire_link, response timeouts, back-off) are a real carrier's real seconds: it keeps
    ``clock`` only when that clock's seconds are real ones (``--speed 1``, or a test's loop
    timer); under ``--speed max`` or ``--speed 10`` it runs on the system clock (docs/sms.md).
    ``policy``: where a tenant's bind may connect; None for the operator's ``--sms smpp``."""
    module = importlib.import_module("dialer.telephony.smpp")
    real_seconds = getattr(clock, "real_seconds", None)
    if real_seconds is not None and real_seconds(timedelta(seconds=1)) != 1.0:
        clock = SystemClock()
    provider: SmsProvider = module.SmppProvider(settings, clock, policy=policy)
    return provider


class TenantSmsBook:
    def __init__(
        self,
        store: UnitOfWork[SmsSession],
        clock: Clock,
        events: EventSink | None = None,
        *,
        real_network: bool = False,
        policy: AddressPolicy | None = None,
        refresh: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._clock = clock
        self._events = events
        self._real = real_network
        # A tenant's SMPP host obeys the webhooks' address policy (docs/sms.md).
        self._policy = policy or AddressPolicy()
        self._refresh = refresh
        self._monotonic = monotonic
        self._lock = threading.Lock()
        # tenant -> (read at, settings JSON, provider)
        self._known: dict[TenantId, tuple[float, str | None, SmsProvider | None]] = {}

    def sender_id(self, tenant: TenantId) -> str | None:
        settings = self._settings(tenant)
        return None if settings is None else settings.sender_id

    def __call__(self, tenant: TenantId) -> SmsProvider | None:
        """The tenant's own provider, or None (called from a worker thread: it reads)."""
        now = self._monotonic()
        with self._lock:
            known = self._known.get(tenant)
        if known is not None and now - known[0] < self._refresh:
            return known[2]
        settings = self._read(tenant)
        text = None if settings is None else settings.to_json()
        if known is not None and known[1] == text:
            provider = known[2]
        else:
            provider = self._build(tenant, settings)
        with self._lock:
            self._known[tenant] = (now, text, provider)
        return provider

    def _settings(self, tenant: TenantId) -> TenantSmsSettings | None:
        self(tenant)
        with self._lock:
            known = self._known.get(tenant)
        if known is None or known[1] is None:
            return None
        return TenantSmsSettings.from_json(known[1], "")

    def _read(self, tenant: TenantId) -> TenantSmsSettings | None:
        with self._store.read() as session:
            return session.sms.sms_settings(tenant)

    def _build(self, tenant: TenantId, settings: TenantSmsSettings | None) -> SmsProvider | None:
        if settings is None:
            return None
        if settings.provider is SmsProviderKind.HTTP and settings.http is not None:
            return HttpSmsProvider(settings.http, policy=self._policy)
        if settings.provider is SmsProviderKind.SMPP and settings.smpp is not None:
            try:
                return smpp_provider(settings.smpp, self._clock, self._policy)
            except ImportError:
                log.error("tenant %s chose SMPP, which this build lacks", tenant)
                return None
        if settings.provider is SmsProviderKind.SIM and not self._real:
            return SimulatedSmsGateway(self._clock, self._events)
        return None
