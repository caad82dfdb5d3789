"""How many calls one process holds on the SIP driver, checked when the driver is built.

What runs out first, measured on baresip-python 0.5.2a3 (one process dialling SIPp, see
docs/sip.md "Capacity"):

- baresip numbers one user agent's calls 1 to 255 (its line numbers): the 256th call of an
  agent fails to dial with ENOENT ("call: could not assign linenumber"), which the binding
  reports as "dial failed: No such file or directory". Nothing is sent.
- the binding's audio driver (aumem) has 256 audio slots for the whole process: with several
  caller IDs (agents) past that, calls are answered with no audio at all ("aumem: audio slot
  table full"), silent calls. So more agents would not lift the limit; more processes do.
- each call holds two UDP sockets (RTP and RTCP). libre sizes its poll set from the soft
  RLIMIT_NOFILE when the stack starts, and a call past it fails to dial; the soft limit is
  raised to the hard one before the stack starts.
"""

import resource

# 255 line numbers per agent and 256 audio slots per process, less a few for calls the stack is
# still closing after we let their line go (a hang-up it never confirmed).
CALL_CAPACITY = 250
FDS_PER_CALL = 2
# The store's connections, the HTTP server, espeak-ng's pipes, logs, the stack's own sockets.
FDS_RESERVED = 256


def raise_fd_limit() -> int:
    """Lift the soft limit on open files to the hard one; returns the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass  # some sandboxes refuse: the capacity check below uses what we have
    return soft


def capacity(fd_limit: int) -> int:
    """Calls one process can hold with ``fd_limit`` open files."""
    return max(0, min(CALL_CAPACITY, (fd_limit - FDS_RESERVED) // FDS_PER_CALL))


def check_capacity(max_calls: int) -> int:
    """Raise the open-file limit and refuse ``max_calls`` above what the process can hold."""
    fd_limit = raise_fd_limit()
    most = capacity(fd_limit)
    if max_calls > most:
        why = (
            f"the SIP stack holds at most {CALL_CAPACITY} calls per process"
            if most == CALL_CAPACITY
            else f"the open-file limit is {fd_limit} (ulimit -n)"
        )
        raise ValueError(
            f"--sip-max-calls {max_calls} is more than one process can hold ({most}: {why});"
            " run more dialer worker processes for more calls"
        )
    return most
