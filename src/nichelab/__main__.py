"""``python -m nichelab`` runs the command line."""
from .cli import main

main()
