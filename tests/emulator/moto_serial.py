"""moto's server, answering one request at a time.

Real DynamoDB serialises writes to an item; moto's own server handles
requests on many threads without locking its backends, so concurrent
updates of one item can be lost there (40 concurrent `ADD n 1` end at 37).
This launcher runs the same moto application behind one lock, so the
emulator keeps the guarantees our conformance suite checks.

Usage: python moto_serial.py -H 127.0.0.1 -p PORT
"""

import argparse
import os
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serial(environ, start_response):
        with lock:
            # Consume the whole response inside the lock.
            return [b"".join(app(environ, start_response))]

    run_simple(
        args.host,
        args.port,
        serial,
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
