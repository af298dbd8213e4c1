"""Calendar feeds over HTTP: the signed address request from the LMS and the feed itself."""
