"""go-bexpr filter expressions (the `filter=` query parameter) for the simulated servers.

Nomad and Consul evaluate `filter=` with HashiCorp's go-bexpr. This is an independent re-write
over decoded JSON: a hand-written tokenizer and a recursive-descent parser that emits closures
directly, so an expression is parsed once and then run over thousands of objects cheaply.

Grammar (keywords are case-sensitive and are only keywords where the grammar expects them):

    filter   := or EOF
    or       := and ("or" and)*
    and      := not ("and" not)*
    not      := "not" not | "(" or ")" | match
    match    := selector ("==" | "!=") value
              | selector ["not"] ("contains" | "matches") value
              | selector "is" ["not"] "empty"
              | value ["not"] "in" selector
    selector := IDENT ("." IDENT | "." DIGITS | "[" string "]")* | "\"/json/pointer\""
    value    := selector (its dotted text) | number | string
    IDENT    := [A-Za-z][A-Za-z0-9_/]*
    number   := -?(0|[1-9][0-9]*)(.[0-9]+)?   followed by whitespace, ")" or the end
    string   := "Go-escaped text" | `raw text`

Semantics follow go-bexpr: a value keeps its raw text and is coerced to the type of the field it
meets (`Priority == 50`, `Stop == false`, `Name == web`); `contains`/`in` test list elements,
map keys or substrings; `matches` is an unanchored regex search. A missing key (or JSON null)
takes go-bexpr's "not present" disposition: true for `!=`, `not in`/`not contains`,
`not matches` and `is empty`, false otherwise. Type mismatches (`Priority contains "x"`,
`Tags == "x"`, `Stop == "maybe"`) raise FilterEvalError while filtering, as go-bexpr fails the
whole request. Nomad answers both with 400: "failed to create result paginator: failed to read
filter expression: <detail>" (FilterError) and "failed to read result page: <detail>" (eval).

One shape is compiled specially: clients re-read changed items with `ID == "a" or ID == "b" or
...` (dozens of IDs, over thousands of items). Consecutive `==` operands of an `or` on the same
selector become one lookup: the field is fetched once and a string is tested against a set of
the raw texts; any other type runs the per-leaf tests in order, so coercions, errors and
short-circuits stay exactly those of the chain as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]
_Test = Callable[[Any], bool]


class FilterError(ValueError):
    """The expression is not valid go-bexpr; the message carries `line:col (offset)`."""


class FilterEvalError(FilterError):
    """A valid expression met a field of an incompatible type while filtering."""


_MISSING = object()  # sentinel: the selector found nothing (distinct from JSON null)
_WS = " \t\r\n"  # go-bexpr's whitespace class; anything else is a syntax error
_TOKEN = re.compile(
    r"""(?P<op>==|!=|[()\[\].])|(?P<string>"(?:[^"\\\n]|\\.)*"|`[^`]*`)|"""
    r"(?P<number>-?[0-9]+(?:\.[0-9]+)?)|(?P<ident>[A-Za-z][A-Za-z0-9_/]*)"
)
_NUMBER_OK = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
_DIGITS = re.compile(r"[0-9]+")
_POINTER = re.compile(r"(?:/[\w\-.~:|]+)+")
_GO_OCTAL = re.compile(r"[+-]?0[0-7_]+")
_ESCAPE = re.compile(
    r'\\(?:([abfnrtv\\"])|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([0-7]{3})|(.))'
)
_SIMPLE_ESCAPES = dict(zip('abfnrtv\\"', '\a\b\f\n\r\t\v\\"', strict=True))
# strconv.ParseBool's accepted spellings: `Stop == 0` and `Stop == "True"` are valid filters.
_GO_BOOLS = dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True) | dict.fromkeys(
    ("0", "f", "F", "FALSE", "false", "False"), False
)
_NOT_FIELD = frozenset(("==", "!=", ".", "[", "is", "contains", "matches", "in"))
_GO_TYPES = {str: "string", bool: "bool", int: "int", float: "float64", list: "[]interface {}"}


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # ident | digits | number | string | op | eof
    text: str  # identifier/number text, decoded string contents, or the operator itself
    pos: int
    src: str = ""  # a string literal's source, needed to recognise JSON-pointer selectors


@dataclass(frozen=True, slots=True)
class _Operand:
    path: tuple[str, ...] | None  # set when the operand can act as a selector
    raw: str  # its text when used as a value


@dataclass(frozen=True, slots=True)
class _Eq:
    """`selector == value`, left uncompiled until its `or` knows its neighbours."""

    path: tuple[str, ...]
    raw: str


@dataclass(frozen=True, slots=True)
class _AnyOf:
    """The operands of an `or`, nested and parenthesised `or`s flattened, in source order."""

    terms: tuple[_Eq | _Test, ...]


_Term = _Eq | _AnyOf | _Test


def _error(src: str, pos: int, msg: str) -> FilterError:
    # pigeon (go-bexpr's parser generator) prefixes errors with "line:col (offset)".
    line = src.count("\n", 0, pos) + 1
    col = pos - (src.rfind("\n", 0, pos) + 1) + 1
    return FilterError(f"{line}:{col} ({pos}): {msg}")


def _go_type(value: Any) -> str:
    return _GO_TYPES.get(type(value), "map[string]interface {}")


def _unquote(src: str, tok_pos: int, literal: str) -> str:
    """strconv.Unquote, plus `\\"` (go-bexpr cannot put a double quote in "..." at all)."""
    if literal[0] == "`":
        return literal[1:-1].replace("\r", "")  # Unquote drops carriage returns from raw strings

    def decode(m: re.Match[str]) -> str:
        if m[1]:
            return _SIMPLE_ESCAPES[m[1]]
        code = next((int(m[g], 16) for g in (2, 3, 4) if m[g]), int(m[5], 8) if m[5] else -1)
        if 0 <= code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:  # Unquote's valid runes
            return chr(code)
        raise _error(src, tok_pos, f"invalid syntax: bad escape sequence {m.group()!r}")

    return _ESCAPE.sub(decode, literal[1:-1])


def _tokenize(src: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(src)
    while True:
        while i < n and src[i] in _WS:
            i += 1
        if i >= n:
            toks.append(_Tok("eof", "", n))
            return toks
        if toks and toks[-1].kind == "op" and toks[-1].text == "." and (m := _DIGITS.match(src, i)):
            # `Datacenters.0` indexes a list; lexing "0.1" as a float would break `a.0.1`.
            toks.append(_Tok("digits", m.group(), i))
        elif (m := _TOKEN.match(src, i)) is None:
            if src[i] in '"`':
                raise _error(src, i, "Unterminated string literal")
            raise _error(src, i, f"no match found, unexpected {src[i]!r}")
        elif m.lastgroup == "string":
            toks.append(_Tok("string", _unquote(src, i, m.group()), i, m.group()))
        elif m.lastgroup == "number" and (
            not _NUMBER_OK.fullmatch(m.group()) or (m.end() < n and src[m.end()] not in _WS + ")")
        ):
            raise _error(src, i, "Invalid number literal")
        else:
            toks.append(_Tok(m.lastgroup or "", m.group(), i))
        i = m.end()


def _pointer_path(tok: _Tok) -> tuple[str, ...] | None:
    """`"/Meta/owner"` is a JSON-pointer selector in go-bexpr (double quotes only)."""
    body = tok.src[1:-1]
    if tok.kind != "string" or not tok.src.startswith('"') or not _POINTER.fullmatch(body):
        return None
    return tuple(p.replace("~1", "/").replace("~0", "~") for p in body.split("/")[1:])


class _Parser:
    def __init__(self, src: str, group: bool = True) -> None:
        self.src = src
        self.toks = _tokenize(src)
        self.i = 0
        self.group = group  # off only to build the reference predicate the tests compare with

    def peek(self, ahead: int = 0) -> _Tok:
        return self.toks[min(self.i + ahead, len(self.toks) - 1)]

    def take(self) -> _Tok:
        tok = self.peek()
        self.i = min(self.i + 1, len(self.toks) - 1)  # never step past EOF
        return tok

    def at(self, text: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok.kind in ("ident", "op") and tok.text == text

    def fail(self, tok: _Tok, msg: str) -> FilterError:
        return _error(self.src, tok.pos, msg)

    def expected(self, what: str, tok: _Tok | None = None) -> FilterError:
        tok = tok or self.peek()
        got = "end of input" if tok.kind == "eof" else repr(tok.src or tok.text)
        return self.fail(tok, f"no match found, expected {what}, got {got}")

    def parse(self) -> _Test:
        term = self.or_expr()
        if self.peek().kind != "eof":
            raise self.expected('"and", "or" or end of input')
        return self.build(term)

    def build(self, term: _Term) -> _Test:
        if isinstance(term, _Eq):
            return _leaf(term.path, _equals(term.raw), False)
        if isinstance(term, _AnyOf):
            if self.group:
                return _any_of([self.build(t) for t in _group_equalities(term.terms)])
            tests = [self.build(t) for t in term.terms]
            left = tests[0]
            for right in tests[1:]:  # the plain left-nested chain, as written
                left = _either(left, right)
            return left
        return term

    def or_expr(self) -> _Term:
        first = self.and_expr()
        if not self.at("or"):
            return first  # a lone operand passes up, so `(a or b) or c` flattens
        terms: list[_Eq | _Test] = []
        term = first
        while True:
            # `or` is associative with the same left-to-right order (and so the same
            # short-circuits and errors), so parenthesised `or`s join the outer list.
            if not isinstance(term, _AnyOf):
                terms.append(term)
            elif self.group:
                terms.extend(term.terms)
            else:
                terms.append(self.build(term))  # the reference keeps the nesting as written
            if not self.at("or"):
                return _AnyOf(tuple(terms))
            self.take()
            term = self.and_expr()

    def and_expr(self) -> _Term:
        left = self.not_expr()
        if not self.at("and"):
            return left
        test = self.build(left)
        while self.at("and"):
            self.take()
            test = _both(test, self.build(self.not_expr()))
        return test

    def not_expr(self) -> _Term:
        # "not" is the operator unless it is itself the field, as in `not == "x"`.
        if (
            self.at("not")
            and self.peek(1).kind != "eof"
            and not any(self.at(w, 1) for w in _NOT_FIELD)
        ):
            self.take()
            inner = self.build(self.not_expr())
            return lambda obj: not inner(obj)
        if self.at("("):
            self.take()
            inner_term = self.or_expr()
            if self.peek().kind == "eof":
                raise self.fail(self.peek(), "Unmatched parentheses")
            if not self.at(")"):
                raise self.expected('")"')
            self.take()
            return inner_term
        return self.match()

    def operand(self) -> _Operand:
        tok = self.peek()
        if tok.kind == "ident":
            path = self.selector_path()
            return _Operand(path, ".".join(path))
        if tok.kind in ("number", "string"):
            self.take()
            return _Operand(_pointer_path(tok), tok.text)
        raise self.expected("a selector or value")

    def selector_path(self) -> tuple[str, ...]:
        parts = [self.take().text]
        while True:
            if self.at("."):
                self.take()
                tok = self.take()
                if tok.kind not in ("ident", "digits"):
                    raise self.expected('a name or index after "."', tok)
                parts.append(tok.text)
            elif self.at("["):
                self.take()
                tok = self.take()
                if tok.kind != "string":
                    raise self.fail(tok, "Invalid index")
                if not self.at("]"):
                    raise self.fail(self.peek(), "Unclosed index expression")
                self.take()
                parts.append(tok.text)
            else:
                return tuple(parts)

    def match(self) -> _Eq | _Test:
        left_tok = self.peek()
        left = self.operand()
        negate = self.at("not") and any(self.at(w, 1) for w in ("in", "contains", "matches"))
        if negate:
            self.take()
        op_tok = self.take()
        op = op_tok.text if op_tok.kind in ("ident", "op") else ""
        if op == "in":
            sel_tok = self.peek()
            right = self.operand() if sel_tok.kind in ("ident", "string") else None
            if right is None or right.path is None:
                raise self.fail(sel_tok, "Invalid selector")
            return _leaf(right.path, _contains(left.raw, right.raw), negate)
        if left.path is None:
            raise self.expected("a selector", left_tok)
        if op == "==":
            return _Eq(left.path, self.operand().raw)
        if op == "!=":
            return _leaf(left.path, _equals(self.operand().raw), True)
        if op == "contains":
            return _leaf(left.path, _contains(self.operand().raw, left.raw), negate)
        if op == "matches":
            value_tok = self.peek()
            pattern = self.operand().raw
            try:
                regex = re.compile(pattern)
            except re.error as exc:
                msg = f'Failed to compile regular expression "{pattern}": {exc}'
                raise self.fail(value_tok, msg) from None
            return _leaf(left.path, _matches(regex), negate)
        if op == "is" and not negate:
            is_not = self.at("not")
            if is_not:
                self.take()
            if not self.at("empty"):
                raise self.expected('"empty"')
            self.take()
            # plain negation: a missing field is empty, so `is not empty` is false for it
            return _leaf(left.path, (lambda v: not _is_empty(v)) if is_not else _is_empty, False)
        raise self.expected('"==", "!=", "contains", "in", "is", "matches" or "not"', op_tok)


def _either(a: _Test, b: _Test) -> _Test:
    return lambda obj: a(obj) or b(obj)


def _any_of(tests: list[_Test]) -> _Test:
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        return _either(tests[0], tests[1])
    chain = tuple(tests)

    def any_of(obj: Any) -> bool:
        # not nested closures: a long `or` costs no stack depth
        return any(test(obj) for test in chain)

    return any_of


def _group_equalities(terms: tuple[_Eq | _Test, ...]) -> list[_Term]:
    """Join each run of consecutive `==` operands on one selector into a single `_Test`.

    Only neighbours are joined: pulling `A == "y"` ahead of `B == 1` in `A == "x" or B == 1 or
    A == "y"` would skip B's type error whenever A is "y", and go-bexpr would have raised it.
    """
    out: list[_Term] = []
    run: list[_Eq] = []

    def flush() -> None:
        if len(run) > 1:
            out.append(_leaf(run[0].path, _equals_any([e.raw for e in run]), False))
        else:
            out.extend(run)
        run.clear()

    for term in terms:
        if isinstance(term, _Eq) and (not run or term.path == run[0].path):
            run.append(term)
            continue
        flush()
        if isinstance(term, _Eq):
            run.append(term)
        else:
            out.append(term)
    flush()
    return out


def _both(a: _Test, b: _Test) -> _Test:
    return lambda obj: a(obj) and b(obj)


def _leaf(path: tuple[str, ...], test: _Test, negate: bool) -> _Test:
    """Bind a value test to a selector; a negated operator is true when nothing is there."""
    if negate:  # the negated operators hold when the selector finds nothing
        positive = test
        test = lambda v: v is _MISSING or v is None or not positive(v)  # noqa: E731
    if len(path) == 1:  # the common case gets one dict lookup and no loop
        key = path[0]
        return lambda obj: test(obj.get(key, _MISSING) if type(obj) is dict else _MISSING)
    steps = tuple((p, int(p) if p.isascii() and p.isdigit() else -1) for p in path)

    def walk(obj: Any) -> bool:
        cur = obj
        for key, index in steps:
            if type(cur) is dict:
                cur = cur.get(key, _MISSING)
            elif type(cur) is list and 0 <= index < len(cur):
                cur = cur[index]
            else:  # go-bexpr doesn't project over lists: `TaskGroups.Name` finds nothing
                return test(_MISSING)
        return test(cur)

    return walk


def _go_number(raw: str) -> int | float | None:
    """strconv.ParseInt(raw, 0, 64), falling back to ParseFloat; None if neither parses."""
    if not raw or raw != raw.strip():  # Python's int()/float() forgive spaces, Go doesn't
        return None
    try:
        return int(raw, 0)
    except ValueError:
        pass
    if _GO_OCTAL.fullmatch(raw):  # Go reads a leading 0 as octal, Python refuses it
        return int(raw, 8)
    try:
        return float(raw)
    except ValueError:
        return None


def _coerce_error(func: str, raw: str) -> FilterEvalError:
    return FilterEvalError(
        f'error getting match value in expression: strconv.{func}: parsing "{raw}": invalid syntax'
    )


def _equals(raw: str) -> _Test:
    as_bool, as_num = _GO_BOOLS.get(raw), _go_number(raw)

    def equals(v: Any) -> bool:
        t = type(v)
        if t is str:
            return bool(v == raw)
        if t is bool:
            if as_bool is None:
                raise _coerce_error("ParseBool", raw)
            return v is as_bool
        if t is int or t is float:
            if as_num is None:
                raise _coerce_error("ParseInt" if t is int else "ParseFloat", raw)
            return bool(v == as_num)
        if v is _MISSING or v is None:
            return False
        raise FilterEvalError("unable to find suitable primitive comparison function for matching")

    return equals


def _equals_any(raws: list[str]) -> _Test:
    """`v == raws[0] or v == raws[1] or ...`, one set lookup when `v` is a string."""
    unique = list(dict.fromkeys(raws))  # a repeated text gives the same answer or error again
    wanted = frozenset(unique)
    tests = tuple(_equals(raw) for raw in unique)

    def equals_any(v: Any) -> bool:
        if type(v) is str:  # `_equals` compares a string as text and never raises for one
            return v in wanted
        if v is _MISSING or v is None:  # not present: every `==` is false, none raises
            return False
        # coercions and errors leaf by leaf, first one first, as the chain would
        return any(test(v) for test in tests)

    return equals_any


def _contains(raw: str, selector: str) -> _Test:
    as_bool, as_num = _GO_BOOLS.get(raw), _go_number(raw)

    def contains(v: Any) -> bool:
        t = type(v)
        if t is str or t is dict:  # substring, or a map key
            return raw in v
        if t is list:
            if raw in v:  # C-speed path for the usual list of strings
                return True
            for item in v:
                if type(item) is bool:
                    if item is as_bool:
                        return True
                elif type(item) is dict or type(item) is list:
                    raise FilterEvalError(
                        'unable to find suitable primitive comparison function for "in" comparison'
                    )
                elif as_num is not None and item == as_num:  # strings never equal a number
                    return True
            return False
        if v is _MISSING or v is None:
            return False
        kind = _go_type(v)
        raise FilterEvalError(
            f'Cannot perform in/contains operations on type {kind} for selector: "{selector}"'
        )

    return contains


def _matches(regex: re.Pattern[str]) -> _Test:
    search = regex.search  # Go's Regexp.Match is unanchored, like re.search

    def matches(v: Any) -> bool:
        if type(v) is str:
            return search(v) is not None
        if v is _MISSING or v is None:
            return False
        raise FilterEvalError(f"Value of type {_go_type(v)} is not convertible to []byte")

    return matches


def _is_empty(v: Any) -> bool:
    t = type(v)
    if t is str or t is list or t is dict:
        return not v
    if v is _MISSING or v is None:
        return True
    raise FilterEvalError(f"reflect: call of reflect.Value.Len on {_go_type(v)} Value")


@lru_cache(maxsize=256)
def compile_filter(expr: str) -> Predicate:
    """Parse a go-bexpr expression once into a predicate over one decoded JSON object.

    Raises FilterError on bad syntax (including an empty expression: callers treat an empty
    `filter=` as absent, as Nomad does). The predicate may raise FilterEvalError. Results are
    cached because blocking queries re-send the same filter over and over.
    """
    return _Parser(expr).parse()


def _compile_ungrouped(expr: str) -> Predicate:
    """compile_filter without the `or`-of-`==` grouping: the reference the tests compare with."""
    return _Parser(expr, group=False).parse()
