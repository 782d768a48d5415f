#!/usr/bin/env python
"""Django's command-line utility for imgdash."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imgdash.settings")
    if sys.argv[1:2] in (["demo"], ["imagemanager_emulator"]):
        # Local, throw-away runs: no production secrets needed, none made up silently.
        os.environ.setdefault("IMGDASH_DEMO", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
