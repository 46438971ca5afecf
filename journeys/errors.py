"""The one error the journeys services raise for bad input or a refused action; its message is shown as is."""


class JourneyError(ValueError):
    """A request the services refuse, with a message for the person who made it."""
