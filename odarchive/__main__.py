"""`python -m odarchive` runs the command line."""

from odarchive.cli import console_main

if __name__ == "__main__":
    console_main()
