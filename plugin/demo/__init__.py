"""``outlook-sync demo``: the emulator, a sample LMS account, consent, sync and a summary, end to end."""
