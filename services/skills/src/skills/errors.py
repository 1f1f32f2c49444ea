"""What skills's use cases refuse; the HTTP API maps each to a status. Messages hold no personal
data."""


class NotFound(LookupError):
    pass


class Refused(ValueError):
    """The request conflicts with the state of things (409)."""


class NotEligible(PermissionError):
    """The caller may not book: not (or no longer) an active member (403)."""
