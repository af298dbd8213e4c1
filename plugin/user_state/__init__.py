"""``POST /users/state``: the LMS asks where one of its users stands, to show it on that user's own page."""
