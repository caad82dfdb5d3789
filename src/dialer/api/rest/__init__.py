"""The voice-campaign REST API of voice-campaign-api.md."""
