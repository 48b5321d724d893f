"""The archive service (`odarchive serve`): one process per home that owns the robot.

It is the only process that opens the changer and the drives. Clients (the CLI, the mount,
restore) reach it over HTTP + JSON on the Unix socket `<home>/service.sock` (mode 0600), and
the page and API are also on a loopback TCP address (`[service] listen`). Modules:

- `config`: the `[service]` table (`ServiceConfig`).
- `token`: the home's token (`<home>/service.token`), needed by state-changing requests.
- `state`: `RobotService`, the service's model of the robot and its `status()` snapshot.
- `http`: the Starlette app factory (`build_app`) with the routes; the web side adds its
  routes and middleware at the marked hook.
- `server`: running it (sockets, uvicorn, readiness notification for systemd).
- `client`: `ServiceClient` (httpx over the Unix socket) and `ensure_service`, which starts
  a service in the background when a command needs one and none runs.

See docs/service.md for the status JSON and the scheduling rules.
"""
