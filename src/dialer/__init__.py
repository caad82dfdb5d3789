"""dialer: an outbound voice-campaign platform."""

__version__ = "0.1.0"
