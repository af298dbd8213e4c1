"""The narrow gateway to Microsoft Graph: tokens (MSAL), the wire, ``$batch``, typed errors, backoff,
and an in-memory tenant with the same contract. May import only the floor (config, db, models,
codes, metrics, logs, i18n)."""
