"""Personal iCalendar feeds for users Graph cannot reach: the setting and tokens
(:mod:`~bridge.feeds.store`), a fetch answered (:mod:`~bridge.feeds.service`), RFC 5545 text
(:mod:`~bridge.feeds.ical`). Stands beside :mod:`bridge.outlook_check` and imports neither it nor
:mod:`bridge.worker`."""
