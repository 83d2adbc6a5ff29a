"""``xapictl ansible``: the Ansible collection ``xapictl.xen`` shipped in the package —
``install`` copies it where Ansible finds collections, ``path`` prints the folder to use it in
place (``ANSIBLE_COLLECTIONS_PATH``)."""


from pathlib import Path

import typer

from xapictl.cli.run import exit_codes

PATH = typer.Option(None, "--path", help="A collections directory (default: the first entry "
                    "of ANSIBLE_COLLECTIONS_PATH, else ~/.ansible/collections).")
app = typer.Typer(help="The Ansible collection xapictl.xen (modules and inventory plugin).",
                  no_args_is_help=True, rich_markup_mode=None)


@app.command()
def install(
    ctx: typer.Context,
    path: Path | None = PATH,
) -> None:
    """Copy the collection to PATH/ansible_collections/xapictl/xen (replacing an older copy):
    playbooks then use xapictl.xen.network, ... and the xapictl.xen.xapi inventory."""
    from xapictl.cli.options import current
    from xapictl.cli.render import refuse_data, say

    with exit_codes():
        opts = current(ctx)
        refuse_data(opts, "ansible install", "its answer is its exit code and one line")
        from xapictl.ansible_collection import install as copy

        target = copy(path)
        say(opts, f"Installed the collection xapictl.xen in {target}")


@app.command("path")
def path_(ctx: typer.Context) -> None:
    """Print the folder that holds the shipped collection (ansible_collections/xapictl/xen):
    ANSIBLE_COLLECTIONS_PATH=$(xapictl ansible path) uses it in place."""
    from xapictl.cli.options import current
    from xapictl.cli.render import refuse_data

    with exit_codes():
        refuse_data(current(ctx), "ansible path", "it prints one folder")
        from xapictl.ansible_collection import collection_root

        typer.echo(str(collection_root()))


__all__ = ["app"]
