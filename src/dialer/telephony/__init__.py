"""TelephonyDriver adapters: the simulated network (the default) and its SMS gateway."""
