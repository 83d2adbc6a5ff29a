"""``xapictl pool diagram``, and the ``--diagram FILE`` of ``plan`` and ``drift`` (issue 18).

The library draws (``xapictl.diagram``); this module checks the options before anything is
read from a pool (format, file, Graphviz), reads, and writes the file or stdout.
"""

from __future__ import annotations

import enum
import re
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from xapictl.cli.fleet_forms import FLEET, SELECT
from xapictl.cli.options import current
from xapictl.cli.run import exit_codes

if TYPE_CHECKING:
    from xapictl.cli.options import GlobalOptions
    from xapictl.diagram.model import Diagram
    from xapictl.diagram.render import DiagramFormat


class Format(enum.StrEnum):
    svg = "svg"
    png = "png"
    dot = "dot"
    mermaid = "mermaid"


FORMAT = typer.Option(None, "--format", help="svg, png (both need Graphviz: apt-get install "
                      "graphviz), dot or mermaid (text, nothing to install). Default: from "
                      "--out's extension (.svg .png .dot .gv .mmd .md), else mermaid.")
OUT = typer.Option(None, "--out", help="Write the diagram to this file instead of stdout "
                   "(with --fleet: an existing folder, one <pool>.<ext> per pool).")
VMS = typer.Option(False, "--vms", help="Also draw the guest VMs and their VIFs (device and "
                   "locking mode); over 40 VMs fold into one node per network.")
HOST = typer.Option(None, "--host", metavar="NAME", help="Draw this host in a column of "
                    "its own even when hosts fold (repeat for several).")
FOLD = typer.Option(None, "--fold/--no-fold", help="Fold hosts with the same layout into one "
                    "column with a count (default: when the pool has more than 4 hosts).")
DIAGRAM = typer.Option(None, "--diagram", help="Also draw it to this file; the format comes "
                       "from the extension: .svg, .png (Graphviz), .dot/.gv, .mmd/.md "
                       "(Mermaid).")


def pool_diagram(ctx: typer.Context, fmt: Format | None = FORMAT, out: Path | None = OUT,
                 vms: bool = VMS, host: list[str] | None = HOST, fold: bool | None = FOLD,
                 fleet: Path | None = FLEET, select: str | None = SELECT) -> None:
    """Draw the pool's networking: hosts (management marked), NICs with speed and MTU, bonds,
    VLANs, tunnels, SR-IOV, the networks joining them and, with --vms, VMs and their VIFs.
    With --fleet: one diagram per pool."""
    opts = current(ctx)
    with exit_codes():
        from xapictl.cli.render import refuse_data
        from xapictl.diagram.render import DiagramFormat, format_for, require_graphviz
        from xapictl.errors import UsageError

        refuse_data(opts, "pool diagram", "the diagram is its output; choose it with "
                                          "--format svg|png|dot|mermaid")
        chosen = (DiagramFormat(fmt) if fmt is not None else
                  format_for(out, "--out") if out is not None and fleet is None else
                  DiagramFormat.MERMAID)
        if fleet is not None:
            if host:
                raise UsageError("--host names a host of one pool; it cannot be combined "
                                 "with --fleet")
            if out is not None and not out.is_dir():
                raise UsageError(f"--out: with --fleet, give an existing folder for one "
                                 f"file per pool; {out} is not one")
            if out is None and not chosen.is_text:
                raise UsageError("--format png with --fleet writes one file per pool: give "
                                 "--out FOLDER")
        else:
            check_file(out, "--out")
        require_graphviz(chosen, f"--format {chosen}" if fmt is not None or out is None
                         else f"--out {out.name}")
        if out is None and not chosen.is_text and _terminal():
            raise UsageError("--format png is binary and stdout is a terminal: give --out "
                             "FILE (or redirect stdout)")
        from xapictl.diagram.build import pool_diagram as build

        if fleet is not None:
            _fleet(ctx, fleet, select, chosen, out, vms=vms, fold=fold)
            return
        from xapictl.cli.views import read_pool

        drawing = build(read_pool(opts), vms=vms, fold=fold, expand=host or ())
        if out is None:
            _stdout(drawing, chosen)
        else:
            write(opts, out, drawing, chosen)


def _terminal() -> bool:
    import sys

    return sys.stdout.isatty()


def _stdout(drawing: Diagram, fmt: DiagramFormat) -> None:
    from xapictl.diagram.render import render

    typer.echo(render(drawing, fmt), nl=False)


def _fleet(ctx: typer.Context, fleet: Path, select: str | None, fmt: DiagramFormat,
           out: Path | None, *, vms: bool, fold: bool | None) -> None:
    from xapictl.cli.fleet_forms import read_fleet, report_unread
    from xapictl.diagram.build import pool_diagram as build
    from xapictl.diagram.render import DiagramFormat, to_markdown

    found = read_fleet(ctx, fleet, select, lambda snap: build(snap, vms=vms, fold=fold))
    opts = current(ctx)
    for pool, drawing in found.results.items():
        if out is not None:
            suffix = "mmd" if fmt is DiagramFormat.MERMAID else str(fmt)
            write(opts, out / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', pool)}.{suffix}", drawing, fmt)
        elif fmt is DiagramFormat.MERMAID:
            typer.echo(to_markdown(drawing).replace("## ", f"## {pool}: ", 1))
        else:
            _stdout(drawing, fmt)
    report_unread(found)


def check_file(path: Path | None, option: str) -> None:
    """A file a diagram goes to: not a directory, in a folder that exists (exit 2)."""
    if path is None:
        return
    from xapictl.cli.render import out_file
    from xapictl.errors import UsageError

    out_file(path, option)
    if not path.parent.is_dir():
        raise UsageError(f"{option}: the folder {path.parent} does not exist; create it first")


def prepare(path: Path | None, option: str = "--diagram") -> DiagramFormat | None:
    """Before a ``--diagram FILE`` command reads anything: the format its extension asks for,
    the file's folder, and Graphviz when the format needs it (each refusal exit 2)."""
    if path is None:
        return None
    from xapictl.diagram.render import format_for, require_graphviz

    fmt = format_for(path, option)
    check_file(path, option)
    require_graphviz(fmt, f"{option} {path.name}")
    return fmt


def write(opts: GlobalOptions, path: Path, drawing: Diagram, fmt: DiagramFormat,
          option: str = "--out") -> None:
    """Render and write; one line on stderr says what was drawn (not with --quiet)."""
    from xapictl.cli.render import escape
    from xapictl.diagram.render import DiagramFormat, render, to_markdown
    from xapictl.errors import UsageError

    data = (to_markdown(drawing).encode() if fmt is DiagramFormat.MERMAID
            and path.suffix.lower() == ".md" else render(drawing, fmt))
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise UsageError(f"{option}: cannot write {path} ({exc.strerror or exc}); give a "
                         "writable file") from None
    if not opts.quiet:
        hosts = sum(len(g.hosts) for g in drawing.groups)
        typer.echo(escape(f"Wrote {path} ({fmt}): {drawing.title}; {hosts} host(s) in "
                          f"{len(drawing.groups)} column(s)"), err=True)


__all__ = ["DIAGRAM", "Format", "check_file", "pool_diagram", "prepare", "write"]
