"""The one exception type that the CLI turns into a single line on stderr and exit code 2."""


class SiamcliError(Exception):
    """A problem with the user's input: a file, a folder, a model or a flag.

    The message names the file and the problem, and reads well on its own line.
    """
