"""Task states, task events (with Nomad's display messages) and allocation resource stats."""

from __future__ import annotations

import copy

from nomtui.sim.clock import rfc3339
from nomtui.sim.shapes.common import go_duration
from nomtui.sim.state import Json

MAX_TASK_EVENTS = 10  # the client keeps only the newest 10 events per task


_DISPLAY = {
    "Received": "Task received by client",
    "Started": "Task started by client",
    "Killed": "Task successfully killed",
    "Leader Task Dead": "Leader Task in Group dead",
    "Downloading Artifacts": "Client is downloading artifacts",
    "Restart Signaled": "Task signaled to restart",
    "Signaling": "Task being sent a signal",
}


def _display_message(event: Json) -> str:
    """TaskEvent.PopulateEventDisplayMessage, for the event types the sim emits."""
    kind = event["Type"]
    if kind == "Terminated":
        parts = [f"Exit Code: {event['ExitCode']}"]
        if event["Signal"]:
            parts.append(f"Signal: {event['Signal']}")
        if event["Message"]:
            parts.append(f'Exit Message: "{event["Message"]}"')
        return ", ".join(parts)
    if kind == "Killing":
        if event["KillReason"]:
            return f"Killing task: {event['KillReason']}"
        return f"Sent interrupt. Waiting {go_duration(event['KillTimeout'])} before force killing"
    if kind == "Restarting":
        text = f"Task restarting in {go_duration(event['StartDelay'])}"
        reason = event["RestartReason"]
        return f"{reason} - {text}" if reason and reason != "Restart within policy" else text
    if kind == "Not Restarting":
        return event["RestartReason"] or "Task exceeded restart policy"
    if kind == "Driver Failure":
        return event["DriverError"] or "Failed to start task"
    if kind == "Sibling Task Failed":
        return f'Task\'s sibling "{event["FailedSibling"]}" failed'
    if kind == "Restart Signaled" and event["RestartReason"]:
        return str(event["RestartReason"])
    if kind in _DISPLAY:
        return _DISPLAY[kind]
    return str(event["Message"] or event["DriverMessage"])


def task_event(
    type_: str,
    time_ns: int,
    *,
    message: str = "",
    display_message: str | None = None,
    exit_code: int = 0,
    signal: int = 0,
    fails_task: bool = False,
    details: dict[str, str] | None = None,
    restart_reason: str = "",
    start_delay_ns: int = 0,
    kill_reason: str = "",
    kill_timeout_ns: int = 0,
    driver_error: str = "",
    driver_message: str = "",
    failed_sibling: str = "",
) -> Json:
    """A TaskEvent with every field; Details mirrors what the Set* helpers record."""
    event: Json = {
        "Type": type_,
        "Time": time_ns,
        "Message": message,
        "DisplayMessage": "",
        "Details": {},
        "FailsTask": fails_task,
        "RestartReason": restart_reason,
        "SetupError": "",
        "DriverError": driver_error,
        "ExitCode": exit_code,
        "Signal": signal,
        "KillTimeout": kill_timeout_ns,
        "KillError": "",
        "KillReason": kill_reason,
        "StartDelay": start_delay_ns,
        "DownloadError": "",
        "ValidationError": "",
        "DiskLimit": 0,
        "FailedSibling": failed_sibling,
        "VaultError": "",
        "TaskSignalReason": "",
        "TaskSignal": "",
        "DriverMessage": driver_message,
        "GenericSource": "",
    }
    if details is None:
        details = {}
        if message:
            details["message"] = message
        if type_ == "Terminated":
            details.update(exit_code=str(exit_code), signal=str(signal))
        if restart_reason:
            details["restart_reason"] = restart_reason
        if start_delay_ns:
            details["start_delay"] = str(start_delay_ns)
        if kill_timeout_ns:
            details["kill_timeout"] = go_duration(kill_timeout_ns)
        if kill_reason:
            details["kill_reason"] = kill_reason
        if driver_error:
            details["driver_error"] = driver_error
        if fails_task:
            details["fails_task"] = "true"
        if failed_sibling:
            details["failed_sibling"] = failed_sibling
    event["Details"] = dict(details)
    event["DisplayMessage"] = (
        display_message if display_message is not None else _display_message(event)
    )
    return event


def task_state(
    state: str,
    *,
    failed: bool = False,
    restarts: int = 0,
    started_at_ns: int | None = None,
    finished_at_ns: int | None = None,
    last_restart_ns: int | None = None,
    events: list[Json] | None = None,
) -> Json:
    """A TaskState; unset times are null, as Nomad >= 1.0 sends them (older: zero time)."""

    def when(ns: int | None) -> str | None:
        return rfc3339(ns) if ns is not None else None

    return {
        "State": state,
        "Failed": failed,
        "Restarts": restarts,
        "LastRestart": when(last_restart_ns),
        "StartedAt": when(started_at_ns),
        "FinishedAt": when(finished_at_ns),
        "Events": copy.deepcopy(events or [])[-MAX_TASK_EVENTS:],
        "TaskHandle": None,
    }


def append_event(state: Json, event: Json) -> None:
    """Add `event` to a TaskState in place, dropping the oldest beyond Nomad's cap of 10."""
    events = [*(state.get("Events") or []), event]
    state["Events"] = events[-MAX_TASK_EVENTS:]


def _usage(cpu_percent: float, rss: int, core_mhz: float) -> Json:
    return {
        "CpuStats": {
            "Measured": ["Throttled Periods", "Throttled Time", "Percent"],
            "Percent": cpu_percent,
            "SystemMode": round(cpu_percent * 0.3, 6),
            "ThrottledPeriods": 0,
            "ThrottledTime": 0,
            "TotalTicks": cpu_percent / 100.0 * core_mhz,
            "UserMode": round(cpu_percent * 0.7, 6),
        },
        "MemoryStats": {
            "Cache": rss // 8,
            "KernelMaxUsage": 0,
            "KernelUsage": 0,
            "MappedFile": 0,
            "MaxUsage": rss + rss // 4,
            "Measured": ["RSS", "Cache", "Swap", "Usage", "Max Usage"],
            "RSS": rss,
            "Swap": 0,
            "Usage": rss + rss // 8,
        },
        "DeviceStats": None,
    }


def alloc_stats(
    *, tasks: dict[str, tuple[float, int]], now_ns: int, core_mhz: float = 2900.0
) -> Json:
    """GET /v1/client/allocation/:id/stats from per-task (cpu percent, RSS bytes)."""
    total_cpu = sum(cpu for cpu, _ in tasks.values())
    total_rss = sum(rss for _, rss in tasks.values())
    return {
        "ResourceUsage": _usage(total_cpu, total_rss, core_mhz),
        "Tasks": {
            name: {"Pids": None, "ResourceUsage": _usage(cpu, rss, core_mhz), "Timestamp": now_ns}
            for name, (cpu, rss) in tasks.items()
        },
        "Timestamp": now_ns,
    }
