"""The errors cxtext raises: each says what was expected, what arrived and what to do."""


class CxTextError(Exception):
    """Base class of every error cxtext raises on purpose."""


class InputError(CxTextError, ValueError):
    """The input (a text, a file, a column, a label) is not what cxtext expects."""


class ModelError(CxTextError, ValueError):
    """A model file is missing, incompatible or not trusted."""


def many(values: object, what: str = "texts") -> None:
    """Refuse one string where many are expected: iterated, it would be read letter by letter."""
    if isinstance(values, (str, bytes)):
        raise InputError(f"expected a list of {what} and got one string; wrap it in a list: [{what[:-1]}]")
