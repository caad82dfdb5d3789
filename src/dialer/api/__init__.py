"""HTTP entrypoints: the voice-campaign REST API (rest/) and, later, the Dialer API (rpc/)."""
