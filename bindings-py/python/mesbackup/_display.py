"""How results show themselves: short reprs, plain dicts, records, and self-contained HTML for Jupyter.

The HTML is inline-styled tables only (no external CSS or JS, no scripts), so a notebook rendered
to HTML or opened offline looks the same. Every value is escaped: package, table and database names
come from files and servers, not from us.
"""

from __future__ import annotations

import dataclasses
import datetime
import html
import pathlib
from collections.abc import Iterable, Sequence
from typing import Any

_OK = "#1a7f37"
_BAD = "#cf222e"
_CELL = "padding:2px 8px;border-bottom:1px solid #d0d7de;text-align:left;vertical-align:top"
_HEAD = _CELL + ";font-weight:600;background:#f6f8fa"


def human_size(n: int | None) -> str:
    """Bytes for people: ``1536`` -> ``"1.5 KiB"`` (binary units, as ``ls -h``)."""
    if n is None:
        return "\u2014"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _text(v: Any) -> str:
    if v is None:
        return "\u2014"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, datetime.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    return str(v)


def _cell(v: Any, head: bool = False) -> str:
    tag = "th" if head else "td"
    return f'<{tag} style="{_HEAD if head else _CELL}">{html.escape(_text(v))}</{tag}>'


def _badge(ok: bool, yes: str = "OK", no: str = "problem") -> str:
    color = _OK if ok else _BAD
    word = yes if ok else no
    return f'<span style="color:#fff;background:{color};border-radius:3px;padding:0 6px;font-weight:600">{word}</span>'


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]], flags: Iterable[bool | None] = ()) -> str:
    """A compact table; a row whose flag is False is tinted red, True green, None plain."""
    out = ['<table style="border-collapse:collapse;font-size:12px;margin:4px 0">']
    out.append("<tr>" + "".join(_cell(h, head=True) for h in header) + "</tr>")
    flag_list = list(flags)
    for i, row in enumerate(rows):
        flag = flag_list[i] if i < len(flag_list) else None
        tint = "" if flag is None else f' style="background:{"#dafbe1" if flag else "#ffebe9"}"'
        out.append(f"<tr{tint}>" + "".join(_cell(v) for v in row) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _box(title: str, ok: bool | None, fields: Sequence[tuple[str, Any]], *parts: str) -> str:
    badge = "" if ok is None else " " + _badge(ok)
    head = f'<div style="font-weight:600;margin-bottom:2px">{html.escape(title)}{badge}</div>'
    kv = ['<table style="border-collapse:collapse;font-size:12px">']
    kv += [f"<tr>{_cell(k, head=True)}{_cell(v)}</tr>" for k, v in fields]
    kv.append("</table>")
    body = "".join(kv) + "".join(parts)
    return f'<div style="font-family:system-ui,sans-serif;font-size:13px;margin:4px 0">{head}{body}</div>'


def _name(path: Any) -> str:
    return pathlib.PurePath(str(path)).name


def short_repr(cls: str, **fields: Any) -> str:
    """``Cls(a='x', n=3)``: the few fields that identify a result, not all of them."""
    return f"{cls}(" + ", ".join(f"{k}={v!r}" for k, v in fields.items()) + ")"


# ---- plain data ---------------------------------------------------------------------------------


def _plain(v: Any, keep_datetimes: bool) -> Any:
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: _plain(getattr(v, f.name), keep_datetimes) for f in dataclasses.fields(v)}
    if isinstance(v, BaseException):
        return {"kind": getattr(v, "kind", type(v).__name__), "message": str(getattr(v, "message", v))}
    if isinstance(v, (list, tuple)):
        return [_plain(x, keep_datetimes) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x, keep_datetimes) for k, x in v.items()}
    if isinstance(v, datetime.datetime):
        return v if keep_datetimes else v.isoformat()
    if isinstance(v, datetime.timedelta):
        return v if keep_datetimes else v.total_seconds()
    if isinstance(v, pathlib.PurePath):
        return str(v)
    return v


def as_dict(obj: Any) -> dict[str, Any]:
    """A dataclass result as JSON-ready data (datetimes as ISO 8601 text, durations as seconds, paths as text)."""
    result: dict[str, Any] = _plain(obj, keep_datetimes=False)
    return result


def to_records(items: Iterable[Any]) -> list[dict[str, Any]]:
    """One flat ``dict`` per result, for ``pandas.DataFrame(mesbackup.to_records(results))``.

    Datetimes stay ``datetime`` (pandas makes them a datetime column), paths become text, nested
    results become dicts. An exception in the list (``backup_system(..., return_exceptions=True)``)
    becomes a row with ``error`` and ``message``. pandas is not needed to call this."""

    records: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, BaseException):
            records.append({"error": getattr(item, "kind", type(item).__name__), "message": str(item)})
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            records.append(_plain(item, keep_datetimes=True))
        elif isinstance(item, dict):
            records.append(dict(item))
        else:
            raise TypeError(f"to_records: {type(item).__name__} is not a mesbackup result")
    return records


# ---- HTML per result type -----------------------------------------------------------------------


def package_html(p: Any) -> str:
    return _box(
        f"Package {p.file_name}",
        True,
        [
            ("database", p.database),
            ("size", human_size(p.size)),
            ("sha256", p.sha256[:16] + "\u2026"),
            ("guid", p.guid),
            ("started", p.started_at),
            ("finished", p.finished_at),
            ("path", p.path),
        ],
        _notes(p.notes),
    )


def _notes(notes: Sequence[str]) -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return f'<ul style="margin:2px 0;font-size:12px">{items}</ul>'


def verify_html(r: Any) -> str:
    problems = ""
    if r.problems:
        problems = _table(
            ["problem", "file", "message"], [(p.kind, p.file, p.message) for p in r.problems], [False] * len(r.problems)
        )
    sidecar = "matched" if r.sidecar_matched else ("differs" if r.has_sidecar else "none")
    return _box(
        f"Verify {_name(r.path)}",
        r.ok,
        [
            ("size", human_size(r.size)),
            ("sha256", None if r.sha256 is None else r.sha256[:16] + "\u2026"),
            ("sidecar", sidecar),
            ("files checked", r.files_checked),
            ("parts checked", r.parts_checked),
        ],
        problems,
        _notes(r.notes),
    )


def package_info_html(i: Any) -> str:
    tables = _table(
        ["database", "table", "engine", "parts", "rows", "size"],
        [(t.database, t.name, t.engine, t.parts, f"{t.rows:,}", human_size(t.bytes)) for t in i.tables],
    )
    return _box(
        f"Package {_name(i.path)}",
        i.verified,
        [
            ("databases", ", ".join(d.name for d in i.databases)),
            ("tables", len(i.tables)),
            ("rows", f"{i.rows:,}"),
            ("size", human_size(i.bytes)),
            ("storage policies", ", ".join(i.storage_policies) or None),
            ("disks", ", ".join(i.disks) or None),
        ],
        tables,
    )


def folder_html(f: Any) -> str:
    kinds = _table(
        ["kind", "installer restores", "system-specific", "shadowed"],
        [
            (k["kind"], k["chosen"] or "(created empty)", k["system_specific"], k["also_present_but_shadowed"])
            for k in f.kinds
        ],
        [k["chosen"] is not None for k in f.kinds],
    )
    near = ""
    if f.near_misses:
        near = _table(
            ["misnamed file", "why", "rename to"],
            [(n["file"], n["message"], n.get("expected")) for n in f.near_misses],
            [False] * len(f.near_misses),
        )
    return _box(
        f"Installer folder for {f.system} {f.version}",
        f.complete,
        [("missing", ", ".join(f.missing) or None), ("ignored files", len(f.ignored))],
        kinds,
        near,
    )


def prune_html(p: Any) -> str:
    entries = _table(
        ["database", "package", "finished", "size", "action"],
        [
            (e.database, _name(e.package), e.finished_at, human_size(e.size), "keep" if e.keep else "delete")
            for e in p.entries
        ],
        [None if e.keep else False for e in p.entries],
    )
    return _box(
        f"Prune plan: keep {p.keep} per database",
        None,
        [("packages", len(p.entries)), ("to delete", len(p.to_delete)), ("deleted", len(p.deleted))],
        entries,
    )


def _checks_table(tables: Sequence[Any] | None) -> str:
    if not tables:
        return ""
    return _table(
        ["table", "expected rows", "rows", "ok"],
        [(t.table, f"{t.expected_rows:,}", None if t.rows is None else f"{t.rows:,}", t.ok) for t in tables],
        [t.ok for t in tables],
    )


def restore_html(r: Any) -> str:
    return _box(
        f"Restore {r.database} \u2192 {r.target_database}" + (" (dry run)" if r.dry_run else ""),
        r.ok,
        [("tables", len(r.tables)), ("rows", f"{r.rows:,}"), ("elapsed", f"{r.elapsed_ms / 1000:.1f} s")],
        _checks_table(r.tables),
    )


def test_restore_html(r: Any) -> str:
    fields: list[tuple[str, Any]] = [
        ("database", r.database),
        ("restored as", r.target_database),
        ("verified", r.verified),
        ("tables checked", r.tables_checked),
        ("rows checked", None if r.rows_checked is None else f"{r.rows_checked:,}"),
        ("dropped", r.dropped),
        ("elapsed", f"{r.elapsed_ms / 1000:.1f} s"),
    ]
    if r.error is not None:
        fields.append(("error", f"{r.error.kind}: {r.error.message}"))
    return _box(f"Test restore {_name(r.path)}", r.ok, fields, _checks_table(r.tables))


def window_html(w: Any) -> str:
    packages = _table(
        ["package", "database", "started", "finished"],
        [(p.file, p.database, p.started_at, p.finished_at) for p in w.packages],
    )
    return _box(
        "Backup window",
        None,
        [
            ("started", w.started_at),
            ("finished", w.finished_at),
            ("SQL Server backup", w.sql_backup_finished_at),
            ("re-run data processing from", w.reprocess_from),
        ],
        packages,
    )


def plot_window(w: Any, ax: Any = None) -> Any:
    """The packages of a backup window as bars on a time axis, with the re-run point marked."""
    try:
        # Optional dependency: type-checked only where it is installed.
        import matplotlib.dates as mdates  # type: ignore[import-not-found,unused-ignore]
        import matplotlib.pyplot as plt  # type: ignore[import-not-found,unused-ignore]
    except ImportError as e:
        raise ImportError("BackupWindow.plot needs matplotlib: pip install 'mesbackup[plot]'") from e
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 1.2 + 0.45 * max(1, len(w.packages))))
    labels = []
    for i, p in enumerate(w.packages):
        labels.append(p.database or p.file)
        if p.started_at is None or p.finished_at is None:
            continue
        start = mdates.date2num(p.started_at)
        ax.broken_barh([(start, mdates.date2num(p.finished_at) - start)], (i - 0.3, 0.6), color="#0969da")
    ax.axvline(mdates.date2num(w.reprocess_from), color=_BAD, linestyle="--", label="re-run data processing from")
    if w.sql_backup_finished_at is not None:
        ax.axvline(mdates.date2num(w.sql_backup_finished_at), color="#9a6700", linestyle=":", label="SQL Server backup")
    ax.set_yticks(range(len(labels)), labels)
    ax.xaxis_date()
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
    ax.set_title("Backup window")
    ax.invert_yaxis()  # the first package on top, as in the table
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)
    ax.figure.tight_layout()
    return ax


def _ms(d: datetime.timedelta) -> str:
    return f"{d.total_seconds():.1f} s"


def run_html(r: Any) -> str:
    rows = []
    for e in r.environments:
        saved = sum(1 for d in e.databases if d.outcome == "saved")
        size = sum(d.size or 0 for d in e.databases)
        problem = f"{e.failed_step}: {e.message}" if e.failed_step else None
        rows.append(
            (
                e.name,
                "ok" if e.ok else "FAILED",
                f"{saved}/{len(e.databases)}",
                human_size(size),
                _ms(e.duration),
                e.exit_code,
                problem,
            )
        )
    environments = _table(
        ["environment", "result", "saved", "bytes", "time", "exit code", "problem"],
        rows,
        [e.ok for e in r.environments],
    )
    windows = _table(
        ["environment", "re-run data processing from", "to", "SQL Server backups finished"],
        [
            (e.name, e.backup_window.reprocess_from, e.backup_window.finished_at, e.sql_backup_finished_at)
            for e in r.environments
            if e.backup_window is not None
        ],
    )
    return _box(
        f"Run of {len(r.environments)} environment(s)",
        r.ok,
        [("exit code", r.exit_code), ("finished", r.finished_at), ("time", _ms(r.duration))],
        environments,
        windows,
    )


def plan_html(p: Any) -> str:
    rows = []
    for e in p.environments:
        doomed = None if e.retention is None else len(e.retention.to_delete)
        names = ", ".join(d.file_name or d.database for d in e.databases)
        rows.append((e.name, e.url, e.out, names, e.verify, e.stage_into, len(e.hooks["before"]), doomed))
    return _box(
        "Run plan (nothing sent, nothing deleted)",
        None,
        [("environments", len(p.environments))],
        _table(
            ["environment", "url", "out", "packages", "verify", "stage into", "before hooks", "retention would delete"],
            rows,
        ),
    )
