"""The one exception every user-causable checkpoint problem raises."""


class CheckpointError(ValueError):
    """A checkpoint or upload that tieviz refuses; the message is one sentence a user can act on."""
