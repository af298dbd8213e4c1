"""What users did to their entries in Outlook, through ``calendarView/delta``: the check
(:mod:`~bridge.outlook_check.check`) and its records (:mod:`~bridge.outlook_check.store`). Stands
beside :mod:`bridge.feeds` and imports neither it nor :mod:`bridge.worker`."""
