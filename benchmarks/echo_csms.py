"""A minimal CSMS for benchmarks: answers every CALL with an empty CALLRESULT, nothing else.

    python -m benchmarks.echo_csms   (prints the URL it listens on)
"""

import asyncio
import json

from websockets.asyncio.server import serve


async def answer(ws):
    async for message in ws:
        unique_id = json.loads(message)[1]
        await ws.send(f'[3,"{unique_id}",{{}}]')


async def main():
    async with serve(answer, "127.0.0.1", 0, subprotocols=["ocpp1.6"], compression=None,
                     ping_interval=None, max_queue=None) as server:
        print(f"listening on ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
