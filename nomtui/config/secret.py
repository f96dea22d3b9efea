"""`Secret`: a token or password that cannot be printed by accident.

Settings objects end up in reprs, log lines, tracebacks with locals and `nomtui config`
output; a plain `str` token would leak through any of them. `Secret` shows at most a
short prefix and the length (enough to tell two tokens apart), and `reveal()` is the one
deliberate way to the value.
"""

from __future__ import annotations

import hmac

# Below this length a 4-character prefix would give away too much of the value
# (passwords, short test tokens); such values are shown as stars only.
_PREFIX_MIN_LEN = 16
_PREFIX_LEN = 4


class Secret:
    """A string that never shows itself in repr/str; `reveal()` is the only way out."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def masked(self) -> str:
        """A display form: the first 4 characters and the length, or only stars if short."""
        n = len(self._value)
        if n >= _PREFIX_MIN_LEN:
            return f"{self._value[:_PREFIX_LEN]}… ({n} chars)"
        return "****"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        # Constant time: equality of settings must not become a timing oracle.
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    __hash__ = None  # type: ignore[assignment]  # equal by value, so not hashable

    def __repr__(self) -> str:
        return f"Secret({self.masked()!r})"

    __str__ = __repr__

    def __copy__(self) -> Secret:
        return self  # immutable; also keeps dataclasses.asdict() working

    def __deepcopy__(self, memo: dict[int, object]) -> Secret:
        return self

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling would copy the value into bytes that outlive this object unnoticed.
        raise TypeError("a Secret cannot be pickled")


def split_basic_auth(secret: Secret) -> tuple[str, str]:
    """`user[:pass]` (NOMAD_HTTP_AUTH, CONSUL_HTTP_AUTH, URL user info) as (user, password)."""
    user, _, password = secret.reveal().partition(":")
    return user, password


def mask_basic_auth(secret: Secret) -> str:
    """`user:****`: the user name is not secret and helps tell which login is used."""
    user, _, password = secret.reveal().partition(":")
    return f"{user}:****" if password else user
