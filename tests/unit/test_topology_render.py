"""The topology drawing as a pure function of models: bars, segments, grouping, legend."""

from __future__ import annotations

from rich.text import Text

from nomtui.models.allocs import AllocStub
from nomtui.models.nodes import NodeReservedResources, NodeResources, NodeStub
from nomtui.models.resources import AllocatedResources, AllocatedTaskResources, CpuShares, MemoryMB
from nomtui.tui.widgets.topology import (
    FREE,
    FULL,
    SEGMENT_STYLES,
    capacity,
    draw_bar,
    node_loads,
    render_topology,
    usage_text,
)


def node(
    node_id: str,
    name: str,
    *,
    dc: str = "dc1",
    cpu: int = 4000,
    mem: int = 8192,
    status: str = "ready",
    reserved: NodeReservedResources | None = None,
    drain: bool = False,
) -> NodeStub:
    return NodeStub(
        ID=node_id,
        Name=name,
        Datacenter=dc,
        Status=status,
        SchedulingEligibility="ineligible" if drain else "eligible",
        Drain=drain,
        NodeResources=NodeResources(Cpu=CpuShares(CpuShares=cpu), Memory=MemoryMB(MemoryMB=mem)),
        ReservedResources=reserved,
    )


def alloc(
    alloc_id: str, node_id: str, cpu: int, mem: int, status: str = "running", create: int = 1
) -> AllocStub:
    return AllocStub(
        ID=alloc_id,
        NodeID=node_id,
        ClientStatus=status,
        DesiredStatus="run",
        CreateIndex=create,
        AllocatedResources=AllocatedResources(
            Tasks={
                "http": AllocatedTaskResources(
                    Cpu=CpuShares(CpuShares=cpu), Memory=MemoryMB(MemoryMB=mem)
                )
            }
        ),
    )


def runs(bar: Text) -> list[tuple[str, int, str]]:
    """(character, length, style) of each styled run of a bar."""
    out = []
    for span in bar.spans:
        chunk = bar.plain[span.start : span.end]
        out.append((chunk[0], len(chunk), str(span.style)))
    return out


def test_capacity_is_total_less_reserved() -> None:
    reserved = NodeReservedResources(Cpu=CpuShares(CpuShares=500), Memory=MemoryMB(MemoryMB=1024))
    assert capacity(node("n1", "a", reserved=reserved)) == (3500, 7168)
    assert capacity(NodeStub(ID="bare")) == (0, 0)


def test_usage_text_puts_percent_first_and_flags_overcommit() -> None:
    assert usage_text(4600, 19200, lambda mhz: f"{mhz / 1000:.1f} GHz").plain.split() == [
        "24%",
        "4.6/19.2",
        "GHz",
    ]
    over = usage_text(300, 200, lambda mb: f"{mb} MiB")
    assert over.plain.startswith("150%")
    assert "red" in str(over.spans[0].style)
    assert usage_text(1, 0, str).plain == "—"


def test_bar_segments_add_up_and_alternate_shades() -> None:
    bar = draw_bar([(1000, "running"), (1000, "running"), (500, "pending")], 4000, 40)
    assert len(bar.plain) == 40
    assert runs(bar) == [
        (FULL, 10, SEGMENT_STYLES["running"][0]),
        (FULL, 10, SEGMENT_STYLES["running"][1]),
        (FULL, 5, SEGMENT_STYLES["pending"][0]),
        (FREE, 15, "grey37"),
    ]


def test_tiny_allocations_keep_one_cell_and_full_bars_do_not_overflow() -> None:
    bar = draw_bar([(1, "running"), (1, "running")], 10_000, 20)
    assert bar.plain == FULL * 2 + FREE * 18
    over = draw_bar([(900, "running"), (900, "running")], 1000, 10)
    assert over.plain == FULL * 10


def test_only_allocations_holding_resources_are_segments() -> None:
    loads = node_loads(
        [node("n1", "a")],
        [
            alloc("a1", "n1", 1000, 1024),
            alloc("a2", "n1", 500, 512, status="pending"),
            alloc("a3", "n1", 2000, 2048, status="complete"),
            alloc("a4", "n1", 2000, 2048, status="failed"),
            alloc("a5", "elsewhere", 100, 100),
        ],
    )
    load = loads["n1"]
    assert [a.ID for a in load.placed] == ["a1", "a2"]
    assert (load.cpu_used, load.mem_used) == (1500, 1536)
    assert load.lost == 1  # the failed allocation still wants to run (desired run)


def test_render_groups_by_datacenter_and_scales_bars_by_capacity() -> None:
    nodes = [
        node("n2", "small", dc="dc2", cpu=2000, mem=4096),
        node("n1", "big", dc="dc1", cpu=8000, mem=16384),
        node("n3", "also-small", dc="dc1", cpu=2000, mem=4096),
    ]
    drawing = render_topology(nodes, [alloc("a1", "n1", 4000, 8192)], 100, selected="n3")
    lines = drawing.text.plain.splitlines()
    assert lines[0].startswith("dc1  2 nodes")
    assert drawing.order == ("n3", "n1", "n2")  # dc1 then dc2, by name inside
    assert lines[drawing.node_lines["n3"]].startswith("▸ also-small")
    assert lines[drawing.node_lines["n1"]].startswith("  big")
    big_cpu = lines[drawing.node_lines["n1"] + 1]
    small_cpu = lines[drawing.node_lines["n3"] + 1]

    def bar_len(line: str) -> int:
        return line.count(FULL) + line.count(FREE)

    assert bar_len(big_cpu) == 4 * bar_len(small_cpu)
    assert big_cpu.count(FULL) == bar_len(big_cpu) // 2  # half of its CPU is allocated
    assert " 50%" in big_cpu
    assert any(line.startswith("dc2  1 node ") for line in lines)
    assert lines[-1].startswith("Legend")


def test_nodes_without_resources_and_hostile_names() -> None:
    bare = NodeStub(ID="n9", Name="evil\x1b]0;owned\x07node", Datacenter="dc1", Status="down")
    drawing = render_topology([bare], [], 80)
    text = drawing.text.plain
    assert "\x1b" not in text and "evilnode" in text
    assert "capacity unknown" in text
    assert render_topology([], [], 80).text.plain == "No client nodes."


def test_draining_ineligible_and_lost_show_in_the_title() -> None:
    draining = node("n1", "a", drain=True)
    down = node("n2", "b", status="down")
    lost = alloc("l1", "n2", 100, 100, status="lost")
    lost_stop = AllocStub(ID="l2", NodeID="n2", ClientStatus="lost", DesiredStatus="stop")
    drawing = render_topology([draining, down], [lost, lost_stop], 100)
    lines = drawing.text.plain.splitlines()
    assert "ineligible  draining" in lines[drawing.node_lines["n1"]]
    # A down node's lost allocations count, replaced or not.
    assert "2 lost/failed" in lines[drawing.node_lines["n2"]]
