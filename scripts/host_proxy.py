"""Serves the locally deployed HTTP API at a plain address: each request is passed to
ministack with the API's host name, which is how ministack tells its APIs apart (it answers
`/_aws/execute-api/<id>/...` with 404 for a `$default` stage, and `*.localhost` names resolve
only in browsers). One request per connection, so every request carries the rewritten host.

Usage: python scripts/host_proxy.py LISTEN_PORT UPSTREAM_PORT API_HOST
"""

import asyncio
import sys

HEAD_LIMIT = 64 * 1024


def rewrite(head, api_host):
    lines = head.decode("latin-1").split("\r\n")
    kept = [line for line in lines[1:] if line.split(":", 1)[0].strip().lower() not in ("host", "connection")]
    return "\r\n".join([lines[0], f"Host: {api_host}", "Connection: close", *kept]).encode("latin-1")


async def pipe(reader, writer):
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        if writer.can_write_eof():
            try:
                writer.write_eof()
            except OSError:
                pass


async def serve(client_reader, client_writer, upstream_port, api_host):
    try:
        head = await client_reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        client_writer.close()
        return
    upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
    upstream_writer.write(rewrite(head[:-4], api_host) + b"\r\n\r\n")
    # The answer's end (ministack closes after it) ends the exchange.
    body = asyncio.create_task(pipe(client_reader, upstream_writer))
    await pipe(upstream_reader, client_writer)
    body.cancel()
    upstream_writer.close()
    client_writer.close()


async def main():
    listen_port, upstream_port, api_host = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    server = await asyncio.start_server(
        lambda r, w: serve(r, w, upstream_port, api_host), "127.0.0.1", listen_port, limit=HEAD_LIMIT)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
