"""The cluster topology drawing: per datacenter, each node as a CPU and a memory bar.

As in the Nomad UI's topology page, a bar is the node's allocatable capacity (total less
reserved) and each allocation placed on it is a segment as wide as what it was allocated,
coloured by its client status. Bars are scaled to the largest node of the drawing, so a
16-core node draws twice as long as an 8-core one and sizes compare at a glance.

`render_topology()` is a pure function of models and a width (unit-tested without an
app); `TopologyView` is the focusable widget that shows it and moves a node selection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from nomtui.models.allocs import AllocStub
from nomtui.models.nodes import NodeStub
from nomtui.sanitize import clean

PLACED = frozenset({"pending", "running", "unknown"})
"""Client statuses of allocations that hold resources on their node."""

NODE_STATUS_STYLE = {
    "ready": "green",
    "initializing": "yellow",
    "down": "bold red",
    "disconnected": "magenta",
}
# Two shades per status: neighbouring allocations alternate, so segments stay apart.
SEGMENT_STYLES = {
    "running": ("green3", "dark_green"),
    "pending": ("yellow3", "dark_goldenrod"),
    "unknown": ("magenta3", "dark_magenta"),
}
FREE_STYLE = "grey37"
FULL, FREE = "█", "░"
LABEL_WIDTH = 6
"""`  CPU ` / `  Mem ` before each bar."""
FIGURES_WIDTH = 22
"""Room right of a bar: percent and used/total."""
MIN_BAR = 8


def cpu_text(mhz: int) -> str:
    return f"{mhz / 1000:.1f} GHz" if mhz >= 1000 else f"{mhz} MHz"


def mem_text(mb: int) -> str:
    return f"{mb / 1024:.1f} GiB" if mb >= 1024 else f"{mb} MiB"


def _pair(used: int, total: int, unit: Callable[[int], str]) -> str:
    """`4.6/19.2 GHz`: the unit once, chosen by the total."""
    total_text = unit(total)
    number, _, suffix = total_text.partition(" ")
    if suffix == "GHz" or suffix == "GiB":
        return f"{used / (1000 if suffix == 'GHz' else 1024):.1f}/{number} {suffix}"
    return f"{used}/{number} {suffix}"


def percent(used: int, total: int) -> int:
    return round(100 * used / total) if total > 0 else 0


def usage_text(used: int, total: int, unit: Callable[[int], str]) -> Text:
    """`24%  4.6/19.2 GHz` (the percent first, so a table sorts on it); `—` without a
    known capacity. Over 100 % (oversubscribed memory) is red."""
    if total <= 0:
        return Text("—", style="dim")
    share = percent(used, total)
    style = "bold red" if share > 100 else "yellow" if share >= 90 else ""
    text = Text()
    text.append(f"{share:>3}%", style=style)
    # Fixed width, so a table column sized on the first value never cuts a later one.
    text.append(f" {_pair(used, total, unit):>13}")
    return text


def capacity(node: NodeStub) -> tuple[int, int]:
    """Allocatable CPU (MHz) and memory (MB): the node's total less what it reserves."""
    cpu, mem = node.cpu_mhz(), node.memory_mb()
    reserved = node.ReservedResources
    if reserved is not None:
        cpu -= reserved.Cpu.CpuShares if reserved.Cpu else 0
        mem -= reserved.Memory.MemoryMB if reserved.Memory else 0
    return max(cpu, 0), max(mem, 0)


def alloc_usage(alloc: AllocStub) -> tuple[int, int]:
    res = alloc.AllocatedResources
    return (res.cpu_mhz, res.memory_mb) if res is not None else (0, 0)


@dataclass(frozen=True)
class NodeLoad:
    """A node with the allocations placed on it and their sums."""

    node: NodeStub
    cpu_total: int
    mem_total: int
    placed: tuple[AllocStub, ...]
    """Allocations holding resources, oldest first (stable segment order)."""
    cpu_used: int
    mem_used: int
    lost: int = 0
    """Failed or lost allocations not replaced yet, and the allocations a down node lost."""


def node_loads(nodes: Iterable[NodeStub], allocs: Iterable[AllocStub]) -> dict[str, NodeLoad]:
    """Per node ID: capacity, placed allocations and usage."""
    nodes = list(nodes)
    down = {n.ID for n in nodes if n.Status in ("down", "disconnected")}
    by_node: dict[str, list[AllocStub]] = {}
    lost: dict[str, int] = {}
    for alloc in allocs:
        if alloc.ClientStatus in PLACED:
            by_node.setdefault(alloc.NodeID, []).append(alloc)
        elif alloc.ClientStatus in ("lost", "failed") and (
            # not replaced yet, or lost with a node that is still down: worth a look
            alloc.DesiredStatus == "run" or (alloc.ClientStatus == "lost" and alloc.NodeID in down)
        ):
            lost[alloc.NodeID] = lost.get(alloc.NodeID, 0) + 1
    loads = {}
    for node in nodes:
        placed = sorted(by_node.get(node.ID, ()), key=lambda a: (a.CreateIndex, a.ID))
        cpu, mem = capacity(node)
        loads[node.ID] = NodeLoad(
            node=node,
            cpu_total=cpu,
            mem_total=mem,
            placed=tuple(placed),
            cpu_used=sum(alloc_usage(a)[0] for a in placed),
            mem_used=sum(alloc_usage(a)[1] for a in placed),
            lost=lost.get(node.ID, 0),
        )
    return loads


def draw_bar(
    segments: Sequence[tuple[int, str]], total: int, width: int, *, dim: bool = False
) -> Text:
    """A bar of `width` cells for `total`, filled by `(amount, status)` segments in order.

    Segment edges are rounded from the running sum, so widths add up exactly; a non-empty
    allocation keeps at least one cell while there is room, so none disappears.
    """
    bar = Text()
    cells = 0
    running = 0
    for i, (amount, status) in enumerate(segments):
        running += amount
        end = round(width * running / total) if total > 0 else width
        end = min(width, max(end, cells + (1 if amount > 0 else 0)))
        if end > cells:
            shades = SEGMENT_STYLES.get(status, ("white", "grey50"))
            style = shades[i % 2] + (" dim" if dim else "")
            bar.append(FULL * (end - cells), style=style)
            cells = end
    if cells < width:
        bar.append(FREE * (width - cells), style=FREE_STYLE)
    return bar


@dataclass(frozen=True)
class TopologyRender:
    text: Text
    node_lines: Mapping[str, int] = field(default_factory=dict)
    """The line of each drawn node's title, to scroll a selection into view."""
    order: tuple[str, ...] = ()
    """Node IDs in drawing order (for moving the selection)."""


def _node_title(load: NodeLoad, selected: bool) -> Text:
    node = load.node
    title = Text.assemble(("▸ " if selected else "  ", "bold cyan"))
    title.append(clean(node.Name or node.short_id), style="bold reverse" if selected else "bold")
    title.append("  ")
    title.append(f"● {clean(node.Status)}", style=NODE_STATUS_STYLE.get(node.Status, ""))
    if not node.eligible:
        title.append("  ineligible", style="yellow")
    if node.Drain:
        title.append("  draining", style="bold yellow")
    if node.NodeClass:
        title.append(f"  {clean(node.NodeClass)}", style="dim")
    title.append(f"  {len(load.placed)} alloc{'s' if len(load.placed) != 1 else ''}")
    if load.lost:
        title.append(f"  {load.lost} lost/failed", style="bold red")
    return title


def _bar_line(
    label: str,
    segments: Sequence[tuple[int, str]],
    used: int,
    total: int,
    width: int,
    unit: Callable[[int], str],
    dim: bool,
) -> Text:
    line = Text.assemble((f"  {label:<{LABEL_WIDTH - 2}}", "dim"))
    if total <= 0:
        line.append("capacity unknown", style="dim italic")
        return line
    line.append_text(draw_bar(segments, total, width, dim=dim))
    line.append(" ")
    line.append_text(usage_text(used, total, unit))
    return line


def render_topology(
    nodes: Iterable[NodeStub],
    allocs: Iterable[AllocStub],
    width: int,
    *,
    selected: str | None = None,
) -> TopologyRender:
    """The whole drawing for a terminal `width` cells wide."""
    loads = node_loads(nodes, allocs)
    text = Text(no_wrap=True, overflow="ellipsis")
    lines: dict[str, int] = {}
    order: list[str] = []
    if not loads:
        text.append("No client nodes.", style="dim")
        return TopologyRender(text)
    max_bar = max(MIN_BAR, width - LABEL_WIDTH - FIGURES_WIDTH)
    max_cpu = max(load.cpu_total for load in loads.values()) or 1
    max_mem = max(load.mem_total for load in loads.values()) or 1
    by_dc: dict[str, list[NodeLoad]] = {}
    for load in loads.values():
        by_dc.setdefault(load.node.Datacenter, []).append(load)
    line_no = 0

    def add(part: Text) -> None:
        nonlocal line_no
        if line_no:
            text.append("\n")
        text.append_text(part)
        line_no += 1

    for dc in sorted(by_dc):
        members = sorted(by_dc[dc], key=lambda ld: (ld.node.Name, ld.node.ID))
        cpu_used = sum(ld.cpu_used for ld in members)
        mem_used = sum(ld.mem_used for ld in members)
        heading = Text.assemble((clean(dc) or "(no datacenter)", "bold underline"))
        heading.append(f"  {len(members)} node{'s' if len(members) != 1 else ''}", style="bold")
        heading.append("  CPU ", style="dim")
        heading.append_text(usage_text(cpu_used, sum(ld.cpu_total for ld in members), cpu_text))
        heading.append("  Mem ", style="dim")
        heading.append_text(usage_text(mem_used, sum(ld.mem_total for ld in members), mem_text))
        add(heading)
        for load in members:
            node = load.node
            dim = node.Status != "ready"
            lines[node.ID] = line_no
            order.append(node.ID)
            add(_node_title(load, selected == node.ID))
            cpu_width = max(MIN_BAR, round(max_bar * load.cpu_total / max_cpu))
            mem_width = max(MIN_BAR, round(max_bar * load.mem_total / max_mem))
            cpu_segments = [(alloc_usage(a)[0], a.ClientStatus) for a in load.placed]
            mem_segments = [(alloc_usage(a)[1], a.ClientStatus) for a in load.placed]
            add(
                _bar_line(
                    "CPU", cpu_segments, load.cpu_used, load.cpu_total, cpu_width, cpu_text, dim
                )
            )
            add(
                _bar_line(
                    "Mem", mem_segments, load.mem_used, load.mem_total, mem_width, mem_text, dim
                )
            )
        add(Text(""))
    add(legend())
    return TopologyRender(text, lines, tuple(order))


def legend() -> Text:
    text = Text.assemble(("Legend ", "dim"))
    for status, (shade, other) in SEGMENT_STYLES.items():
        text.append(FULL, style=shade)
        text.append(FULL, style=other)
        text.append(f" {status}  ")
    text.append(FREE * 2, style=FREE_STYLE)
    text.append(" free   ")
    text.append("one segment per allocation, shades alternate", style="dim")
    return text


class TopologyView(Static, can_focus=True):
    """The drawing, with a node selection moved by the arrow keys; Enter opens the node."""

    DEFAULT_CSS = """
    TopologyView {
        width: 1fr;
        height: auto;
        padding: 0 1;
    }
    """
    BINDINGS = [
        Binding(
            "down,j",
            "move(1)",
            "Next node",
            show=False,
            id="topology.next",
            tooltip="Select the node drawn below",
        ),
        Binding(
            "up,k",
            "move(-1)",
            "Previous node",
            show=False,
            id="topology.previous",
            tooltip="Select the node drawn above",
        ),
        Binding("enter", "open", "Open node", id="topology.open", tooltip="Show the node"),
    ]

    class NodeChosen(Message):
        """Enter on a node."""

        def __init__(self, node_id: str) -> None:
            super().__init__()
            self.node_id = node_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.nodes: tuple[NodeStub, ...] = ()
        self.allocs: tuple[AllocStub, ...] = ()
        self.selected: str | None = None
        self.drawing = TopologyRender(Text())

    def show(self, nodes: Iterable[NodeStub], allocs: Iterable[AllocStub]) -> None:
        self.nodes = tuple(nodes)
        self.allocs = tuple(allocs)
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        width = self.content_size.width or self.app.size.width
        self.drawing = render_topology(self.nodes, self.allocs, width, selected=self.selected)
        if self.drawing.order and self.selected not in self.drawing.node_lines:
            self.selected = self.drawing.order[0]
            self.drawing = render_topology(self.nodes, self.allocs, width, selected=self.selected)
        self.update(self.drawing.text)

    def action_move(self, step: int) -> None:
        order = self.drawing.order
        if not order:
            return
        at = order.index(self.selected) if self.selected in order else 0
        self.selected = order[max(0, min(len(order) - 1, at + step))]
        self._redraw()
        line = self.drawing.node_lines[self.selected]
        if isinstance(self.parent, Widget):
            # Title and both bars, so the whole node comes into view.
            self.parent.scroll_to_region(Region(0, line, 1, 3), animate=False)

    def action_open(self) -> None:
        if self.selected is not None:
            self.post_message(self.NodeChosen(self.selected))


__all__ = [
    "NODE_STATUS_STYLE",
    "PLACED",
    "NodeLoad",
    "TopologyRender",
    "TopologyView",
    "alloc_usage",
    "capacity",
    "cpu_text",
    "draw_bar",
    "legend",
    "mem_text",
    "node_loads",
    "percent",
    "render_topology",
    "usage_text",
]
