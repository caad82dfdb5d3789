"""Which time zones a callee may be in, from phonenumbers' prefix data."""

import phonenumbers
from phonenumbers import timezone as number_timezones

# Zone data is keyed by prefix (country, area code); numbers sharing their first 8 characters
# of E.164 share their zones in practice, so results are cached by that prefix.
_PREFIX = 8
_CACHE_LIMIT = 100_000


class CalleeZones:
    def __init__(self) -> None:
        self._cache: dict[str, tuple[str, ...]] = {}

    def __call__(self, e164: str, fallback: str) -> tuple[str, ...]:
        """The number's possible zones; ``fallback`` (the tenant's zone) when unknown.

        The geographical lookup is used for every number: it answers with the country's
        zones for mobile and not-yet-allocated ranges, where the stricter lookup says unknown.
        """
        prefix = e164[:_PREFIX]
        zones = self._cache.get(prefix)
        if zones is None:
            zones = _lookup(e164)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[prefix] = zones
        return zones or (fallback,)


def _lookup(e164: str) -> tuple[str, ...]:
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return ()
    zones = number_timezones.time_zones_for_geographical_number(parsed)
    return tuple(z for z in zones if z != "Etc/Unknown")
