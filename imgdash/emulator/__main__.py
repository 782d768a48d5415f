"""`python -m imgdash.emulator --port P --repos N [--tls] [--state FILE]`, without Django."""

from .cli import main

main()
