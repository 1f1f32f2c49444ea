"""What legal's use cases refuse; the HTTP API maps each to a status. Messages hold no personal
data."""

from legal.rules.chain import IllegalMove


class NotFound(LookupError):
    pass


class Refused(ValueError):
    """The request conflicts with the state of things (409)."""


ERROR_STATUSES: dict[type[Exception], int] = {NotFound: 404, Refused: 409, IllegalMove: 409}
