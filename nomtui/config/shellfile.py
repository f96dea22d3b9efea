"""`~/.config/nomad`, the Internet Archive convention, read as data and never run.

The file is a shell fragment of `export NAME=value` lines that people `source` from
their shell rc. nomtui reads the assignments the way a POSIX shell would assign them:
plain and `export`ed, `#` comments, single and double quotes, backslash escapes, `~/`,
line continuations, and `$VAR` / `${VAR}` / `${VAR:-word}` / `${VAR-word}` expanded
from earlier assignments in the file, then the environment. It never executes
anything: `$(...)`, `$((...))` and backticks stay in the value literally, with a
warning, and any line that is not an assignment is skipped and reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", re.DOTALL)
_BRACED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)(.*))?", re.DOTALL)
_SEPARATORS = " \t\n;"


class _Incomplete(Exception):
    """The text ends inside a quote or after a backslash: the next line continues it.

    `continuation`: it ends with an unquoted backslash, which the shell removes together
    with the newline; inside quotes the newline is part of the value.
    """

    def __init__(self, continuation: bool = False) -> None:
        super().__init__()
        self.continuation = continuation


def _closing(s: str, i: int, char: str) -> int:
    """Index just past the next unescaped `char` at or after `i`."""
    while i < len(s):
        if s[i] == "\\" and char != "'":
            i += 2
            continue
        if s[i] == char:
            return i + 1
        i += 1
    raise _Incomplete


def _paren_end(s: str, i: int) -> int:
    """Index just past the `)` closing a `$(` whose body starts at `i` (nesting counted)."""
    depth = 1
    while i < len(s):
        c = s[i]
        if c in "'\"`":
            i = _closing(s, i + 1, c)
            continue
        depth += {"(": 1, ")": -1}.get(c, 0)
        i += 1
        if depth == 0:
            return i
    raise _Incomplete


def _skip_dollar(s: str, i: int) -> int:
    """Index past a `$(...)` or `${...}` starting at `i`, else past the `$` alone."""
    if s.startswith("$(", i):
        return _paren_end(s, i + 2)
    if s.startswith("${", i):
        return _closing(s, i + 2, "}")
    return i + 1


def _double_quote_end(s: str, i: int) -> int:
    """Index just past the `"` closing a double-quoted part whose body starts at `i`."""
    while i < len(s):
        if s[i] == '"':
            return i + 1
        if s[i] == "\\":
            i += 2
        elif s[i] == "$":
            i = _skip_dollar(s, i)
        else:
            i += 1
    raise _Incomplete


def _word_end(s: str, i: int) -> int:
    while i < len(s) and s[i] not in _SEPARATORS:
        c = s[i]
        if c == "\\":
            if i + 1 >= len(s):
                raise _Incomplete(continuation=True)
            i += 2
        elif c in "'`":
            i = _closing(s, i + 1, c)
        elif c == '"':
            i = _double_quote_end(s, i + 1)
        elif c == "$":
            i = _skip_dollar(s, i)
        else:
            i += 1
    return i


def split_words(s: str) -> list[str]:
    """Shell words of `s`, quotes kept (they matter for expansion); `#` ends the line."""
    words: list[str] = []
    i = 0
    while i < len(s):
        if s[i] in _SEPARATORS:
            i += 1
        elif s[i] == "#":
            break
        else:
            end = _word_end(s, i)
            words.append(s[i:end])
            i = end
    return words


@dataclass
class _Expansion:
    lookup: Mapping[str, str]
    home: Path
    text: list[str] = field(default_factory=list)
    substituted: bool = False
    unset: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)

    def run(self, raw: str) -> str:
        i = 0
        if raw == "~" or raw.startswith("~/"):
            self.text.append(str(self.home))
            i = 1
        while i < len(raw):
            c = raw[i]
            if c == "\\":
                self.text.append("" if raw[i + 1] == "\n" else raw[i + 1])
                i += 2
            elif c == "'":
                end = _closing(raw, i + 1, "'")
                self.text.append(raw[i + 1 : end - 1])
                i = end
            elif c == '"':
                i = self._double_quoted(raw, i + 1)
            elif c == "`":
                i = self._literal_substitution(raw, i, _closing(raw, i + 1, "`"))
            elif c == "$":
                i = self._dollar(raw, i)
            else:
                self.text.append(c)
                i += 1
        return "".join(self.text)

    def _double_quoted(self, raw: str, i: int) -> int:
        while raw[i] != '"':
            c = raw[i]
            if c == "\\":
                nxt = raw[i + 1]
                # Inside double quotes a backslash only escapes these (POSIX 2.2.3).
                self.text.append({"\n": ""}.get(nxt, nxt) if nxt in '$`"\\\n' else c + nxt)
                i += 2
            elif c == "`":
                i = self._literal_substitution(raw, i, _closing(raw, i + 1, "`"))
            elif c == "$":
                i = self._dollar(raw, i)
            else:
                self.text.append(c)
                i += 1
        return i + 1

    def _literal_substitution(self, raw: str, start: int, end: int) -> int:
        self.substituted = True
        self.text.append(raw[start:end])
        return end

    def _dollar(self, raw: str, i: int) -> int:
        if raw.startswith("$(", i):
            return self._literal_substitution(raw, i, _paren_end(raw, i + 2))
        if raw.startswith("${", i):
            end = _closing(raw, i + 2, "}")
            braced = _BRACED.fullmatch(raw[i + 2 : end - 1])
            if braced is None:
                self.unsupported.append(raw[i:end])
                self.text.append(raw[i:end])
                return end
            name, op, word = braced.groups()
            value = self.lookup.get(name)
            if (op == ":-" and not value) or (op == "-" and value is None):
                self.text.append(word)
            else:
                self._value(name, value)
            return end
        named = _NAME.match(raw, i + 1)
        if named is None:
            self.text.append("$")  # `$1`, `$$`, a lone `$`: not worth guessing, keep it
            return i + 1
        self._value(named.group(), self.lookup.get(named.group()))
        return named.end()

    def _value(self, name: str, value: str | None) -> None:
        if value is None:
            self.unset.append(name)
        self.text.append(value or "")


class _Scope(Mapping[str, str]):
    """What `$NAME` means while the file is being sourced: its own earlier assignments,
    then the environment (HOME falling back to the home directory nomtui was given)."""

    def __init__(self, own: dict[str, str], env: Mapping[str, str], home: Path) -> None:
        self._own, self._env, self._home = own, env, home

    def __getitem__(self, name: str) -> str:
        if name in self._own:
            return self._own[name]
        if name in self._env:
            return self._env[name]
        if name == "HOME":
            return str(self._home)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter({*self._own, *self._env})

    def __len__(self) -> int:
        return len({*self._own, *self._env})


def _lines(text: str) -> list[str]:
    """The file's lines as a shell sees them: split at `\n` only (`str.splitlines` would
    also split at `\r`, form feeds and U+2028 inside a quoted value, found by fuzzing).
    A file saved with CRLF line ends throughout reads as if it had LF ones."""
    lines = text.split("\n")
    if text.count("\r\n") == text.count("\n"):
        lines = [line.removesuffix("\r") for line in lines]
    if lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    return lines


def parse_assignments(
    text: str, env: Mapping[str, str], home: Path, shown: str
) -> tuple[dict[str, str], list[str]]:
    """The variables `text` would set when sourced, and warnings about what was not read.

    Warnings about a name that the environment already sets are left out: the
    environment wins, so the file's value for it does not matter.
    """
    values: dict[str, str] = {}
    warnings: list[str] = []
    skipped: list[int] = []
    lines = _lines(text)
    scope = _Scope(values, env, home)
    i = 0
    while i < len(lines):
        lineno, chunk = i + 1, lines[i]
        i += 1
        words: list[str] | None = None
        while words is None:
            try:
                words = split_words(chunk)
            except _Incomplete as open_end:
                if i >= len(lines):
                    break
                if open_end.continuation:
                    chunk = chunk.removesuffix("\\") + lines[i]
                else:
                    chunk = chunk + "\n" + lines[i]
                i += 1
        if words is None:
            skipped.append(lineno)
            continue
        if words[:1] == ["export"]:
            words = [w for w in words[1:] if not _NAME.fullmatch(w)]  # `export NAME`: no-op
        matches = [_ASSIGNMENT.fullmatch(w) for w in words]
        if not all(matches):
            skipped.append(lineno)
            continue
        for match in matches:
            assert match is not None  # checked just above; narrows the type
            name = match.group(1)
            expansion = _Expansion(scope, home)
            try:
                values[name] = expansion.run(match.group(2))
            except _Incomplete:
                # Quoting that splits into words but does not pair up once expanded
                # (a backtick inside quotes inside `$(...)`): not read, and said so.
                skipped.append(lineno)
                continue
            if env.get(name):
                continue
            where = f"{shown} line {lineno}: {name}"
            if expansion.substituted:
                warnings.append(
                    f"{where} uses a command substitution, which nomtui does not run; "
                    "the text is kept as it is (export the variable in your shell, or use "
                    "token_command in config.toml)."
                )
            for unsupported in expansion.unsupported:
                warnings.append(f"{where} uses {unsupported}, which nomtui keeps literally.")
            for unset in expansion.unset:
                warnings.append(f"{where} refers to ${unset}, which is not set.")
    if skipped:
        numbers = ", ".join(str(n) for n in skipped)
        warnings.append(
            f"{shown}: line(s) {numbers} are not NAME=value assignments and were skipped "
            "(nomtui reads this file as data and never runs it)."
        )
    return values, warnings
