"""File metadata the way Nomad's client reports it, and Go's strconv parsing rules.

`AllocFileInfo` JSON (`Name, IsDir, Size, FileMode, ModTime`, plus `ContentType` from stat
only), Go's `os.FileMode.String()`, RFC 3339 times as Go's JSON encoder writes them, a small
`http.DetectContentType`, and `strconv.ParseBool`/`ParseInt` with their error texts.
"""

from __future__ import annotations

import re
import stat
import time
from pathlib import Path
from typing import Any

Json = dict[str, Any]
_INT = re.compile(r"[+-]?\d+")


def parse_go_bool(raw: str) -> bool:
    """strconv.ParseBool; ValueError carries Go's message."""
    if raw in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if raw in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(f'strconv.ParseBool: parsing "{raw}": invalid syntax')


def parse_go_int(raw: str) -> int:
    if not _INT.fullmatch(raw):
        raise ValueError(f'strconv.ParseInt: parsing "{raw}": invalid syntax')
    return int(raw)


def go_file_mode(mode: int) -> str:
    """os.FileMode.String(): type letters from "dalTLDpSugct?" then rwxrwxrwx."""
    kind = ""
    if stat.S_ISDIR(mode):
        kind += "d"
    if stat.S_ISLNK(mode):
        kind += "L"
    if stat.S_ISBLK(mode) or stat.S_ISCHR(mode):
        kind += "D"
    if stat.S_ISFIFO(mode):
        kind += "p"
    if stat.S_ISSOCK(mode):
        kind += "S"
    if mode & stat.S_ISUID:
        kind += "u"
    if mode & stat.S_ISGID:
        kind += "g"
    if stat.S_ISCHR(mode):
        kind += "c"
    if mode & stat.S_ISVTX:
        kind += "t"
    perms = "".join(c if mode & (1 << (8 - i)) else "-" for i, c in enumerate("rwxrwxrwx"))
    return (kind or "-") + perms


def go_time(ns: int) -> str:
    """time.Time as Go's JSON encoder writes it (RFC 3339, trailing zeros trimmed), in UTC."""
    secs, frac = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    return f"{base}.{frac:09d}".rstrip("0") + "Z" if frac else base + "Z"


def sniff_content_type(head: bytes) -> str:
    """A small http.DetectContentType: enough to tell text, HTML, JSON-ish and binary apart."""
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<head", b"<script", b"<body")):
        return "text/html; charset=utf-8"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x1f\x8b\x08"):
        return "application/x-gzip"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if any(b < 0x09 or 0x0E <= b < 0x1B or 0x1C <= b < 0x20 or b == 0x0B for b in head):
        return "application/octet-stream"
    return "text/plain; charset=utf-8"


def file_info(path: Path, *, content_type: bool) -> Json:
    st = path.lstat() if not content_type else path.stat()
    info: Json = {
        "Name": path.name,
        "IsDir": stat.S_ISDIR(st.st_mode),
        "Size": st.st_size,
        "FileMode": go_file_mode(st.st_mode),
        "ModTime": go_time(st.st_mtime_ns),
    }
    if content_type:
        ctype = "application/octet-stream"
        if not stat.S_ISDIR(st.st_mode) and st.st_size > 0:
            with path.open("rb") as fh:
                ctype = sniff_content_type(fh.read(512))
        if path.name.endswith(".json"):
            ctype = "application/json"
        info["ContentType"] = ctype
    return info
