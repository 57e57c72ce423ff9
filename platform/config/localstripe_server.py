"""Run localstripe on 127.0.0.1 only, in memory (never pickled to the temp directory).

`python -m config.localstripe_server --port 8420`. Used by `make run` when STRIPE_SECRET_KEY is
unset and by the test suite's fixture.
"""

import argparse


def serve(port: int) -> None:
    from aiohttp import web
    from localstripe import server
    from localstripe.resources import store

    # localstripe pickles its store to a fixed file after every request unless told not to.
    store.dump_to_disk = lambda *args, **kwargs: None
    web.run_app(server.app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8420)
    serve(parser.parse_args().port)
