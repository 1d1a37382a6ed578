"""The one exception type the CLI turns into a clear one-line error and a non-zero exit."""


class CamReasonerError(Exception):
    """A user-facing error: the message names the file (or item) and the problem, in one line."""

    exit_code: int = 2

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
