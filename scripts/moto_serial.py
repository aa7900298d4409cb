"""moto's server, answering one request at a time: the local DynamoDB, Secrets Manager and S3
of the tests and the local stack.

`moto_server` handles requests on threads over backends that hold no lock, so two conditional
writes to one item can both pass their condition, and a transaction that fails restores a copy
of the tables taken before another one committed, undoing it. DynamoDB makes each write to an
item atomic; answering requests one at a time (connections stay concurrent) gives the tests the
same guarantee the code relies on in AWS.

Usage: python scripts/moto_serial.py PORT
"""

import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def serially(app):
    lock = threading.Lock()

    def serve(environ, start_response):
        with lock:
            # The whole answer is made inside the lock: a lazy body would read the backends
            # after it was released.
            return list(app(environ, start_response))

    return serve


def main():
    port = int(sys.argv[1])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, serially(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
