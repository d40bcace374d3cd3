import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM files of a throwaway certificate authority and what it signed, in the folder it was made in. */
export interface TestPki {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

/** Common name of the client certificate, as the terminator reports its peer. */
export const CLIENT_CN = 'qd-test-worker';

// P-256 keys: fast to make, and accepted by both Node (the client) and rustls (core, the worker).
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * A CA, a server certificate for 127.0.0.1 and localhost and a client certificate, made with the
 * openssl CLI into `dir` (the test's temporary folder: keys are never kept). rustls accepts only
 * v3 certificates with a subjectAltName, a CA marked as one and leaves that are not: hence the
 * explicit extensions.
 */
export async function createTestPki(dir: string, name: string): Promise<TestPki> {
  const f = (file: string) => join(dir, `${name}-${file}`);
  await run('openssl', ['req', '-x509', ...NEW_KEY, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '1', '-subj', `/CN=${name} test CA`]);
  const leaf = async (leafName: string, cn: string, extensions: string) => {
    writeFileSync(f(`${leafName}.ext`), extensions);
    await run('openssl', ['req', '-new', ...NEW_KEY, '-keyout', f(`${leafName}.key`), '-out', f(`${leafName}.csr`), '-subj', `/CN=${cn}`]);
    await run('openssl', ['x509', '-req', '-in', f(`${leafName}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-out', f(`${leafName}.pem`), '-extfile', f(`${leafName}.ext`)]);
  };
  await leaf('server', 'localhost', 'basicConstraints=critical,CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await leaf('client', CLIENT_CN, 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n');
  return { caFile: f('ca.pem'), serverCertFile: f('server.pem'), serverKeyFile: f('server.key'), clientCertFile: f('client.pem'), clientKeyFile: f('client.key') };
}

export interface TlsTerminatorOptions {
  /** The plaintext gRPC port behind it (a dev server's). */
  upstreamPort: number;
  pki: TestPki;
  /** mTLS: a client without a certificate of the CA is refused in the handshake. */
  requireClientCert: boolean;
}

/**
 * What a TLS-enabled Temporal frontend looks like to a client: TLS (ALPN h2) on a port of its own,
 * each decrypted connection piped to a plaintext dev server, which takes the HTTP/2 frames as gRPC
 * over h2c with prior knowledge. With `requireClientCert` it is an mTLS frontend.
 */
export async function startTlsTerminator(o: TlsTerminatorOptions) {
  /** Common name of each accepted client certificate ('' without one), per accepted connection. */
  const peers: string[] = [];
  /** Why handshakes were refused (Node's error codes). */
  const refused: string[] = [];
  const open = new Set<Socket>();
  const server = createServer(
    {
      cert: readFileSync(o.pki.serverCertFile),
      key: readFileSync(o.pki.serverKeyFile),
      ca: readFileSync(o.pki.caFile),
      ALPNProtocols: ['h2'],
      requestCert: o.requireClientCert,
      rejectUnauthorized: o.requireClientCert,
    },
    (client: TLSSocket) => {
      const cert = client.getPeerCertificate();
      peers.push(typeof cert.subject?.CN === 'string' ? cert.subject.CN : '');
      const upstream = connect({ host: '127.0.0.1', port: o.upstreamPort });
      for (const s of [client, upstream]) {
        open.add(s);
        s.once('close', () => open.delete(s));
      }
      // Either side failing ends both: the client sees a dropped connection, as from a real frontend.
      client.once('error', () => upstream.destroy());
      upstream.once('error', () => client.destroy());
      client.pipe(upstream).pipe(client);
    },
  );
  server.on('tlsClientError', (e: NodeJS.ErrnoException) => refused.push(e.code ?? e.message));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    peers,
    refused,
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type TlsTerminator = Awaited<ReturnType<typeof startTlsTerminator>>;
