"""``python -m xapictl`` and the ``xapictl`` console script: the CLI, started with fewer
garbage collections (``xapictl._startup``) before it is loaded."""


def main() -> None:
    from xapictl._startup import fewer_collections

    fewer_collections()
    from xapictl.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
