"""What aid's use cases refuse; the HTTP API maps each to a status. Messages hold no personal
data."""


class NotFound(LookupError):
    pass


class Refused(ValueError):
    """The request conflicts with the state of things (409)."""
