"""A TCP proxy on loopback that delays every chunk by a fixed time in each direction.

It adds round-trip time only: order is kept and throughput is not limited.  Accepting a
connection costs no delay (the client connects to loopback), so a new connection through it
costs what a TLS handshake or a request costs, not a TCP handshake."""
import asyncio, logging, socket, threading


class Proxy:
    """Forwards 127.0.0.1:<port> to self.target, each chunk self.delay seconds late."""

    def __init__(self):
        self.target = None
        self.delay = 0.0
        self.loop = asyncio.new_event_loop()
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # connections cut when a registry stops
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait()

    def reset(self, target, delay):
        self.target, self.delay = target, delay

    async def _pipe(self, reader, writer):
        delay = self.delay
        q = asyncio.Queue()

        async def sender():
            while True:
                due, data = await q.get()
                if data is None:
                    break
                wait = due - self.loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()
            try:
                writer.write_eof()
            except OSError:
                pass

        task = asyncio.ensure_future(sender())
        try:
            while True:
                data = await reader.read(1 << 18)
                await q.put((self.loop.time() + delay, data or None))
                if not data:
                    break
            await task
        except (ConnectionError, OSError):
            pass

    async def _handle(self, cr, cw):
        host, port = self.target.rsplit(":", 1)
        try:
            sr, sw = await asyncio.open_connection(host, int(port))
        except OSError:
            cw.close()
            return
        for w in (cw, sw):
            w.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await asyncio.gather(self._pipe(cr, sw), self._pipe(sr, cw))
        for w in (cw, sw):
            w.close()

    def _run(self, ready):
        asyncio.set_event_loop(self.loop)
        srv = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.addr = "127.0.0.1:%d" % srv.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()
