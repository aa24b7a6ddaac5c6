"""`python -m tests.mhsm_emulator --state-dir DIR --cert C --key K --authority URL [--port 0] [--config FILE]`

Listens on 127.0.0.1 (port 0: any free one), writes DIR/emulator.json = {"port", "pid", "url"} atomically once it
is ready, logs each request to DIR/emulator-requests.jsonl, and stops on SIGTERM/SIGINT.
"""

import argparse
import json
import os
import sys
from pathlib import Path

from tests.mhsm_emulator import config as cfg
from tests.mhsm_emulator.server import Emulator, Handler
from tests.stack._server import HOST, TLSThreadingHTTPServer, serve_until_sigterm, server_tls_context


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.mhsm_emulator", description=__doc__)
    parser.add_argument("--state-dir", required=True, type=Path, help="where emulator.json and the logs go")
    parser.add_argument("--cert", required=True, type=Path, help="server certificate (PEM, may hold the chain)")
    parser.add_argument("--key", required=True, type=Path, help="its private key (PEM)")
    parser.add_argument("--authority", required=True, help="sign-in authority named in the 401 challenge")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default 0: a free one)")
    parser.add_argument("--config", type=Path, help="JSON file of config keys (see config.py DEFAULTS)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    overrides = json.loads(args.config.read_text(encoding="utf-8")) if args.config else {}
    try:
        startup = cfg.merge(cfg.defaults(authority=args.authority), overrides)
    except ValueError as exc:
        sys.exit(f"mhsm_emulator: bad config: {exc}")
    args.state_dir.mkdir(parents=True, exist_ok=True)
    emulator = Emulator(args.state_dir, startup)
    server = TLSThreadingHTTPServer((HOST, args.port), Handler, server_tls_context(args.cert, args.key))
    server.emulator = emulator
    port = server.server_address[1]
    url = f"https://{HOST}:{port}"
    print(f"mhsm_emulator: listening on {url} (pid {os.getpid()})", flush=True)
    serve_until_sigterm(server, args.state_dir / "emulator.json", {"port": port, "pid": os.getpid(), "url": url})
    print("mhsm_emulator: stopped", flush=True)


if __name__ == "__main__":
    main()
