"""``python -m openvpp.cli``: the same entry point as the ``openvpp`` script."""

from openvpp.cli import main

main()
