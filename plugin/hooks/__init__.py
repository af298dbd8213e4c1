"""``POST /hooks`` and ``POST /hooks/batch``: signed deliveries from the LMS, stored in one transaction."""
