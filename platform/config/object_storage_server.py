"""A local S3-compatible server (moto's) with the app's bucket, for development and the tests.

`python -m config.object_storage_server --host 127.0.0.1 --port 8430 --bucket waymark-media`.
`make run` starts it when no real bucket is configured (AWS_STORAGE_BUCKET_NAME unset) and
points the app at it; tests/storage starts one of its own. Objects live in this process's
memory only: after `make stop` every uploaded logo is gone, and the sites show none.
"""

import argparse
import threading

DEFAULT_REGION = "eu-west-2"


def create_bucket(endpoint_url: str, bucket: str, region: str = DEFAULT_REGION) -> None:
    """The bucket, private, through the server's own S3 API (what the app will speak)."""
    import boto3

    # moto accepts any credentials; these are placeholders, not secrets.
    client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region,
                          aws_access_key_id="waymark-local", aws_secret_access_key="waymark-local")
    try:
        client.head_bucket(Bucket=bucket)
    except client.exceptions.ClientError:
        options = ({} if region == "us-east-1"
                   else {"CreateBucketConfiguration": {"LocationConstraint": region}})
        client.create_bucket(Bucket=bucket, **options)


def serve(host: str, port: int, bucket: str, region: str = DEFAULT_REGION) -> None:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    # Bound here, in the main thread, so a port already in use fails loudly at once (moto's
    # ThreadedMotoServer would bind in its thread and wait for ever).
    server = make_server(host, port, DomainDispatcherApplication(create_backend_app),
                         threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://{host}:{server.server_port}"
    create_bucket(endpoint, bucket, region)
    print(f"Object storage (moto, in memory) on {endpoint}, bucket {bucket}", flush=True)
    try:
        thread.join()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8430)
    parser.add_argument("--bucket", default="waymark-media")
    parser.add_argument("--region", default=DEFAULT_REGION)
    arguments = parser.parse_args()
    serve(arguments.host, arguments.port, arguments.bucket, arguments.region)
