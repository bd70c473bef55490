"""Errors meant for people: the CLI prints their message as one line and exits 2."""


class InputError(ValueError):
    """Bad input (a file, a URL, a value): the message names it and says what to do."""
