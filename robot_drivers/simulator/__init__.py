"""A simulated disc changer, faithful enough that the real drivers run against it unchanged.

- `config.SimConfig`: geometry, dialect, timings (divided by `speed`) and faults.
- `state` / `mechanism`: the persistent changer (slots, drives, mail slots, bins, media) shared
  by every simulator process through a locked JSON file; drives are xorriso `stdio:` files.
- `server`: the process that speaks the slot or the generic dialect over a pseudo-terminal.
- `mtx_front`: an `mtx`-compatible command on the same state, for the mtx driver.
- `faults`: injectable faults; `control`: start/find/stop the server process.

Imports nothing outside `robot_drivers`.
"""
