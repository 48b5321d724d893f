"""`python -m odarchive` runs the command line."""

from odarchive.cli import console_main

console_main()
