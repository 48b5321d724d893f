"""Changer and drive drivers: serial, SCSI through mtx, manual, and a simulator.

A leaf package: it imports nothing of odarchive's. It declares the `Changer` and `Drive`
interfaces and the `RobotError` family that the rest of the program uses.
"""
