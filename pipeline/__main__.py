"""`python -m pipeline` runs the console command."""

from pipeline.cli.main import main

main()
