"""Which errors are worth retrying: a store that is briefly unreachable, not a failed simulation."""

from pymongo.errors import AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError

_TRANSIENT_NAMES = {
    "EndpointConnectionError",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ConnectionClosedError",
}


def is_transient(exc: BaseException) -> bool:
    """True for connection-level failures of MongoDB or S3 anywhere in the exception's chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(
            current, AutoReconnect | NetworkTimeout | ServerSelectionTimeoutError | ConnectionError
        ):
            return True
        if type(current).__name__ in _TRANSIENT_NAMES:
            return True
        current = current.__cause__ or current.__context__
    return False
