#!/usr/bin/env python3
"""A TCP forwarder for the failover test: listens on --listen PORT and forwards each
connection to the address in --target-file (host:port, re-read for every new
connection), as a proxy or a moved DNS name does after a failover. Existing connections
keep their old target. Runs until killed."""
import argparse
import asyncio


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--target-file", required=True)
    args = ap.parse_args()

    async def handle(cr, cw):
        host, port = open(args.target_file).read().strip().rsplit(":", 1)
        try:
            sr, sw = await asyncio.open_connection(host, int(port))
        except OSError:
            cw.close()
            return
        await asyncio.gather(pipe(cr, sw), pipe(sr, cw))

    server = await asyncio.start_server(handle, "127.0.0.1", args.listen)
    async with server:
        await server.serve_forever()


asyncio.run(main())
