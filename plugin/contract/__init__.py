"""The host contract's shapes: the manifest, the hook and feed-address schemas (marshmallow), and the
OpenAPI document built from them (docs/HOST-CONTRACT.md)."""
