"""`python -m pipeline` runs the console command."""

from pipeline.cli import main

main()
