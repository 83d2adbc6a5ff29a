"""``python -m xapictl``: the same CLI as the ``xapictl`` console script."""

from xapictl.cli import main

main()
