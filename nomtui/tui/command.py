"""`:` command mode, as in k9s: jump to any screen, namespace, cluster or job by name.

    :jobs  :allocs  :nodes  :topology  :services  :deployments  :events  :check
    :ns NAME      switch namespace (`*` for all)
    :cluster NAME switch to a cluster named in config.toml
    :JOB          open that job (a unique prefix is enough; `ns/JOB` when ambiguous)
    :q            quit

Parsing is a pure function (`parse_command`), tested without a terminal; the
`CommandScreen` only collects the text, with completion: the best match is suggested
inline (→ or Tab accepts it) and a short list of matches sits under the input (↑/↓ pick).
The app knows the candidates (namespaces, clusters, jobs) and runs the command.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from nomtui.sanitize import clean
from nomtui.tui.registry import COMMAND_KINDS

ALIASES: dict[str, str] = {
    "j": "jobs",
    "a": "allocs",
    "alloc": "allocs",
    "allocations": "allocs",
    "no": "nodes",
    "node": "nodes",
    "topo": "topology",
    "svc": "services",
    "service": "services",
    "dp": "deployments",
    "deploy": "deployments",
    "deployment": "deployments",
    "ev": "events",
    "event": "events",
    "health": "check",
}
_NAMESPACE_WORDS = frozenset({"ns", "namespace"})
_CLUSTER_WORDS = frozenset({"cluster", "ctx", "context"})
_QUIT_WORDS = frozenset({"q", "q!", "quit", "exit"})
MAX_SHOWN = 8
"""Matches listed under the input; more would hide the screen being navigated."""


@dataclass(frozen=True)
class Command:
    action: Literal["open", "namespace", "cluster", "job", "quit"]
    target: str = ""
    """Screen kind, namespace, cluster name or job ID."""
    namespace: str = ""
    """The job's namespace (action `job`)."""


class CommandError(Exception):
    """The text is not a command; `message` says what would have been."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_command(
    text: str, jobs: Sequence[tuple[str, str]] = (), current_namespace: str = "*"
) -> Command:
    """Turn `text` into a command; `jobs` are the known (namespace, ID) pairs."""
    words = text.strip().lstrip(":").split()
    if not words:
        raise CommandError("Type a command: jobs, allocs, nodes, ns NAME, cluster NAME or a job")
    head, rest = words[0], words[1:]
    word = head.lower()
    word = ALIASES.get(word, word)
    if word in _QUIT_WORDS and not rest:
        return Command("quit")
    if word in COMMAND_KINDS and not rest:
        return Command("open", word)
    if word in _NAMESPACE_WORDS:
        if len(rest) != 1:
            raise CommandError("ns takes one namespace name, or * for all")
        return Command("namespace", rest[0])
    if word in _CLUSTER_WORDS:
        if len(rest) != 1:
            raise CommandError("cluster takes one cluster name from config.toml")
        return Command("cluster", rest[0])
    if word == "job" and len(rest) == 1:
        head, rest = rest[0], []
    if rest:
        raise CommandError(f"Unknown command: {clean(text.strip())}")
    namespace, job_id = find_job(head, jobs, current_namespace)
    return Command("job", job_id, namespace=namespace)


def find_job(
    name: str, jobs: Sequence[tuple[str, str]], current_namespace: str = "*"
) -> tuple[str, str]:
    """The (namespace, ID) of the job `name` names: exact, `ns/ID`, or a unique prefix."""

    def pick(found: list[tuple[str, str]]) -> tuple[str, str] | None:
        if len(found) == 1:
            return found[0]
        # The same ID in several namespaces: the current namespace settles it.
        here = [job for job in found if job[0] == current_namespace]
        return here[0] if len(here) == 1 else None

    if name in {f"{ns}/{job}" for ns, job in jobs}:
        ns, _, job_id = name.partition("/")
        return ns, job_id
    for candidates in (
        [job for job in jobs if job[1] == name],
        [job for job in jobs if job[1].startswith(name)],
    ):
        if (chosen := pick(candidates)) is not None:
            return chosen
        if candidates:
            shown = ", ".join(f"{ns}/{job}" for ns, job in candidates[:4])
            raise CommandError(f"{clean(name)} matches several jobs: {clean(shown)}")
    raise CommandError(f"No command or job called {clean(name)}")


def candidates(
    namespaces: Iterable[str] = (),
    clusters: Iterable[str] = (),
    jobs: Sequence[tuple[str, str]] = (),
) -> list[str]:
    """Everything command mode can complete to, in the order it is offered."""
    out = list(COMMAND_KINDS)
    out += [f"ns {name}" for name in ["*", *sorted(set(namespaces) - {"*"})]]
    out += [f"cluster {name}" for name in sorted(set(clusters))]
    ids = [job_id for _, job_id in jobs]
    for ns, job_id in sorted(jobs, key=lambda j: (j[1], j[0])):
        # IDs that exist in several namespaces are offered qualified.
        out.append(f"{ns}/{job_id}" if ids.count(job_id) > 1 else job_id)
    out.append("quit")
    return [clean(c) for c in dict.fromkeys(out)]


def matches(typed: str, pool: Sequence[str]) -> list[str]:
    """Candidates for `typed`: prefix matches first, then those containing it."""
    needle = typed.strip().lstrip(":").lower()
    if not needle:
        return list(pool)
    prefix = [c for c in pool if c.lower().startswith(needle)]
    inside = [c for c in pool if needle in c.lower() and c not in prefix]
    return prefix + inside


class CommandSuggester(Suggester):
    """Inline completion: the first candidate that starts with what was typed."""

    def __init__(self, pool: Sequence[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=False)
        self.pool = list(pool)

    async def get_suggestion(self, value: str) -> str | None:
        if not value.strip():
            return None
        needle = value.lower()
        return next((c for c in self.pool if c.lower().startswith(needle)), None)


class CommandScreen(ModalScreen[str | None]):
    """Collects one command line; dismisses with the text, or None on Esc."""

    DEFAULT_CSS = """
    CommandScreen {
        align: center top;
        background: $background 40%;
    }
    CommandScreen > #command-box {
        width: 80%;
        max-width: 100;
        height: auto;
        margin-top: 2;
        border: tall $accent;
        background: $surface;
    }
    CommandScreen #command-input {
        border: none;
        height: 1;
    }
    CommandScreen #command-matches {
        height: auto;
        max-height: 10;
        border: none;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="command.cancel", tooltip="Leave command mode"),
        Binding(
            "tab",
            "complete",
            "Complete",
            id="command.complete",
            priority=True,
            tooltip="Complete to the highlighted match",
        ),
        Binding("down", "move(1)", "Next match", id="command.next", show=False),
        Binding("up", "move(-1)", "Previous match", id="command.previous", show=False),
    ]

    def __init__(self, pool: Sequence[str], value: str = "") -> None:
        super().__init__()
        self.pool = list(pool)
        self.initial = value
        self.suggester = CommandSuggester(self.pool)

    def compose(self) -> ComposeResult:
        with Vertical(id="command-box"):
            yield Input(
                value=self.initial,
                placeholder="jobs · allocs · nodes · ns NAME · cluster NAME · a job name",
                suggester=self.suggester,
                id="command-input",
            )
            yield OptionList(id="command-matches")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._show_matches(self.initial)

    @property
    def shown(self) -> list[str]:
        """The matches listed under the input, in order."""
        options = self.query_one(OptionList)
        return [str(options.get_option_at_index(i).id) for i in range(options.option_count)]

    def set_pool(self, pool: Sequence[str]) -> None:
        """New candidates (namespaces and jobs arrive after the screen opened)."""
        self.pool = list(pool)
        self.suggester.pool = self.pool
        self._show_matches(self.query_one(Input).value)

    def _show_matches(self, typed: str) -> None:
        options = self.query_one(OptionList)
        found = matches(typed, self.pool)[:MAX_SHOWN]
        options.clear_options()
        options.add_options([Option(Text(c), id=c) for c in found])
        options.display = bool(found)
        if found:
            options.highlighted = 0

    @on(Input.Changed, "#command-input")
    def _changed(self, event: Input.Changed) -> None:
        self._show_matches(event.value)

    @on(Input.Submitted, "#command-input")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    @on(OptionList.OptionSelected, "#command-matches")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(str(event.option.id))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            current = options.highlighted or 0
            options.highlighted = (current + step) % options.option_count

    def action_complete(self) -> None:
        options = self.query_one(OptionList)
        box = self.query_one(Input)
        if options.highlighted is None or not options.option_count:
            return
        choice = str(options.get_option_at_index(options.highlighted).id)
        # `ns ` and `cluster ` want a name after them: leave the cursor ready for it.
        box.value = choice
        box.cursor_position = len(choice)


__all__ = [
    "ALIASES",
    "Command",
    "CommandError",
    "CommandScreen",
    "CommandSuggester",
    "candidates",
    "find_job",
    "matches",
    "parse_command",
]
