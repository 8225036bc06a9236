"""`python -m onceonly.entrypoints.cli`: the command line, as `onceonly`."""

from onceonly.entrypoints.cli import main

main()
