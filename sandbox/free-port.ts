import { createServer, type AddressInfo } from 'node:net';

/** A TCP port nothing listens on now: the OS picks it, and it is closed again before this returns. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
