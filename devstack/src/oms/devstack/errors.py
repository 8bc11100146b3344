"""The one error the dev stack raises: a message a person can act on."""


class StackError(RuntimeError):
    """Kafka or PostgreSQL could not be installed, started, reached or stopped; the message says why."""
