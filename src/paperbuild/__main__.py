"""Allow `python -m paperbuild`."""

from paperbuild.cli import main

main()
