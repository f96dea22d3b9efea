"""Drain and eligibility toggles, shared by the nodes table and the node detail screen.

Each toggle is two bindings on one key (`d`: drain / cancel drain, `e`: mark ineligible /
eligible); `check_action` keeps only the one that applies to the selected node, so the
footer and help never offer an action that cannot work. In read-only mode all four are
hidden, and the store refuses them anyway. Every toggle asks for a confirmation first.
The result is not applied to the screen: the store's node watch brings it back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.binding import Binding

from nomtui.errors import NomtuiError
from nomtui.models.nodes import NodeStub
from nomtui.sanitize import clean
from nomtui.tui.screens.filtered import FilteredScreen
from nomtui.tui.widgets.confirm import confirm_screen

DRAIN_DEADLINE_S = 3600.0
"""Nomad CLI's default: allocations get an hour to move before they are stopped."""
NODE_ACTIONS = frozenset({"drain", "undrain", "ineligible", "eligible"})


def node_action_bindings(prefix: str) -> list[Binding]:
    return [
        Binding(
            "d",
            "drain",
            "Drain",
            id=f"{prefix}.drain",
            tooltip="Drain the node: move its allocations elsewhere (1 h deadline); confirm",
        ),
        Binding(
            "d",
            "undrain",
            "Cancel drain",
            id=f"{prefix}.undrain",
            tooltip="Stop draining the node and let it take work again; confirm",
        ),
        Binding(
            "e",
            "ineligible",
            "Mark ineligible",
            id=f"{prefix}.ineligible",
            tooltip="Stop placing new work on the node (running work stays); confirm",
        ),
        Binding(
            "e",
            "eligible",
            "Mark eligible",
            id=f"{prefix}.eligible",
            tooltip="Let the scheduler place work on the node again; confirm",
        ),
    ]


class NodeActionsScreen(FilteredScreen):
    """A screen acting on one node at a time: `action_node()` says which."""

    def action_node(self) -> NodeStub | None:
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in NODE_ACTIONS:
            return super().check_action(action, parameters)
        node = self.action_node()
        if self.store.read_only or node is None:
            return False
        match action:
            case "drain":
                return not node.Drain
            case "undrain":
                return node.Drain
            case "ineligible":
                return node.eligible and not node.Drain
            case _:
                # Nomad refuses eligibility while a drain runs (cancel the drain instead).
                return not node.eligible and not node.Drain

    def _ask(
        self,
        node: NodeStub,
        title: str,
        message: str,
        label: str,
        write: Callable[[], Awaitable[Any]],
        done: str,
    ) -> None:
        def answered(answer: bool | None) -> None:
            if answer:
                self.run_worker(self._write(write, done), group="node-action")

        # On a production cluster the operator types the node's name to confirm.
        name = clean(node.Name or node.ID)
        screen = confirm_screen(self.app, title, message, name=name, action_label=label)
        self.app.push_screen(screen, answered)

    async def _write(self, write: Callable[[], Awaitable[Any]], done: str) -> None:
        try:
            await write()
        except NomtuiError as exc:
            self.notify(exc.message, title=exc.title, severity="error")
            return
        self.notify(done)

    def action_drain(self) -> None:
        node = self.action_node()
        if node is None:
            return
        name = clean(node.Name or node.short_id)
        self._ask(
            node,
            f"Drain node {name}?",
            "It stops taking new work, and its allocations are moved to other nodes "
            f"within {int(DRAIN_DEADLINE_S // 60)} minutes (then stopped).",
            "Drain",
            lambda: self.store.drain(node.ID, deadline_s=DRAIN_DEADLINE_S),
            f"Draining {name}",
        )

    def action_undrain(self) -> None:
        node = self.action_node()
        if node is None:
            return
        name = clean(node.Name or node.short_id)
        self._ask(
            node,
            f"Cancel the drain of {name}?",
            "Allocations not yet moved stay, and the node becomes eligible for new work.",
            "Cancel drain",
            lambda: self.store.undrain(node.ID, mark_eligible=True),
            f"Drain of {name} cancelled",
        )

    def action_ineligible(self) -> None:
        node = self.action_node()
        if node is None:
            return
        name = clean(node.Name or node.short_id)
        self._ask(
            node,
            f"Mark {name} ineligible?",
            "The scheduler places no new allocations on it; what runs there keeps running.",
            "Mark ineligible",
            lambda: self.store.set_eligibility(node.ID, False),
            f"{name} is ineligible",
        )

    def action_eligible(self) -> None:
        node = self.action_node()
        if node is None:
            return
        name = clean(node.Name or node.short_id)
        self._ask(
            node,
            f"Mark {name} eligible?",
            "The scheduler may place new allocations on it again.",
            "Mark eligible",
            lambda: self.store.set_eligibility(node.ID, True),
            f"{name} is eligible",
        )


__all__ = [
    "DRAIN_DEADLINE_S",
    "NODE_ACTIONS",
    "NodeActionsScreen",
    "node_action_bindings",
]
