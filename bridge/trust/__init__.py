"""What lets an owner trust the plugin: the audit log, credential expiry, health, the preview.
May import everything up to and including :mod:`bridge.sync`."""
