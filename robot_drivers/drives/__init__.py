"""Drives: one `OpticalDrive` class for real drives (`/dev/srN`) and xorriso `stdio:` files.

What differs between the two is how the medium is sensed (`probes`): udev and ioctls for a
real drive, a sidecar file written by the simulator for a pseudo-drive. Reading (byte offset),
burning (`burn.py`: `xorriso -as cdrecord -v dev=... IMAGE`) and labels are the same code.
"""
