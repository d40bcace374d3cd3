import { describe, expect, it } from 'vitest';
import { loadConfig } from '../runtime/config.ts';
import { embeddedProgramId } from '../sandbox/chain/program-keys.ts';
import { composeSystem, redactUrl } from './composition.ts';

// Fake tool paths: composing must not need the tools installed (nothing is spawned).
const binaries = { temporal: '/opt/temporal', ferretdb: '/opt/ferretdb', redis: '/opt/redis-server', postgresBin: '/opt/postgres/bin' };
const compose = (env: Record<string, string>) => composeSystem(loadConfig(env), { binaries });
const names = (env: Record<string, string>) => compose(env).specs.map((s) => s.name);
const bannerRow = (env: Record<string, string>, service: string) => compose(env).banner.find((l) => l.trimStart().startsWith(`${service} `));
const OUR_OWN = ['gateway', 'ingest', 'sync', 'keeper', 'web'];

describe('composeSystem', () => {
  it('runs every embedded service on its default endpoint, then our own processes', () => {
    const { specs, banner } = compose({});
    expect(specs.map((s) => s.name)).toEqual(['temporal', 'postgres', 'ferretdb', 'redis', 'market-sim', 'chain', ...OUR_OWN]);
    for (const service of ['Temporal', 'MongoDB', 'Redis', 'Hermes', 'CoinGecko', 'Solana RPC']) {
      expect(banner.find((l) => l.trimStart().startsWith(`${service} `))).toMatch(/ embedded  /);
    }
    const redis = specs.find((s) => s.name === 'redis')!;
    expect(redis.command).toBe('/opt/redis-server');
    expect(redis.args).toEqual(['--port', '6379', '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', expect.stringMatching(/\/\.data\/redis$/), '--loglevel', 'warning']);
    expect(specs.find((s) => s.name === 'ferretdb')!.args).toContain('--listen-addr=127.0.0.1:27017');
    expect(specs.find((s) => s.name === 'temporal')!.args).toEqual(expect.arrayContaining(['--port', '7233', '--ui-port', '8233']));
  });

  it('starts no simulator when Hermes and CoinGecko point at another Hermes, and says so', () => {
    const env = { QD_HERMES_URL: 'http://127.0.0.1:47010', QD_COINGECKO_URL: 'http://127.0.0.1:47010' };
    expect(names(env)).toEqual(['temporal', 'postgres', 'ferretdb', 'redis', 'chain', ...OUR_OWN]);
    expect(bannerRow(env, 'Hermes')).toMatch(/ external  http:\/\/127\.0\.0\.1:47010$/);
    expect(bannerRow(env, 'CoinGecko')).toMatch(/ external  http:\/\/127\.0\.0\.1:47010$/);
    // The chain's Pyth accounts follow the Hermes the ingest worker reads.
    const localnet = compose(env).specs.find((s) => s.name === 'chain')!;
    expect(localnet.args[localnet.args.indexOf('--hermes-url') + 1]).toBe('http://127.0.0.1:47010');
  });

  it('still runs the simulator when only one of its two APIs is embedded', () => {
    const env = { QD_HERMES_URL: 'https://hermes.example', QD_HERMES_API_KEY: 'pyth-key-123' };
    expect(names(env)).toContain('market-sim');
    expect(compose(env).specs.find((s) => s.name === 'market-sim')!.args).toEqual(expect.arrayContaining(['--port', '4010']));
    expect(bannerRow(env, 'Hermes')).toMatch(/ external  https:\/\/hermes\.example \(API key set\)$/);
    expect(bannerRow(env, 'CoinGecko')).toMatch(/ embedded  http:\/\/127\.0\.0\.1:4010 \(market-sim/);
    expect(compose(env).banner.join('\n')).not.toContain('pyth-key-123');
  });

  it('with every endpoint elsewhere runs only our own processes, secrets kept out of the banner', () => {
    const env = {
      QD_TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      QD_TEMPORAL_NAMESPACE: 'ns.acct',
      QD_TEMPORAL_API_KEY: 'temporal-secret-key',
      QD_MONGODB_URI: 'mongodb+srv://trader:hunter2@cluster.example/quantdesk',
      QD_REDIS_URL: 'rediss://:redis-pass@redis.example:6380',
      QD_HERMES_URL: 'https://hermes.example',
      QD_COINGECKO_URL: 'https://api.coingecko.example/api/v3',
      QD_SOLANA_RPC_URL: 'https://rpc.example/?api-key=sol-secret',
    };
    const { specs, banner } = compose(env);
    expect(specs.map((s) => s.name)).toEqual(OUR_OWN);
    const text = banner.join('\n');
    for (const secret of ['temporal-secret-key', 'hunter2', 'redis-pass', 'sol-secret']) expect(text).not.toContain(secret);
    expect(bannerRow(env, 'Temporal')).toMatch(/ external  gRPC ns\.acct\.tmprl\.cloud:7233 \(namespace ns\.acct, TLS\)$/);
    expect(bannerRow(env, 'MongoDB')).toMatch(/ external  mongodb\+srv:\/\/trader:<redacted>@cluster\.example\/quantdesk$/);
    expect(bannerRow(env, 'Redis')).toMatch(/ external  rediss:\/\/:<redacted>@redis\.example:6380$/);
    expect(bannerRow(env, 'Solana RPC')).toMatch(/ external  https:\/\/rpc\.example\/\?api-key=<redacted> /);
    expect(text).toMatch(/^  processes +gateway, ingest, sync, keeper, web$/m);
  });

  it('starts each service on its own: only Redis external leaves the rest embedded', () => {
    expect(names({ QD_REDIS_URL: 'redis://10.0.0.5:6379' })).toEqual(['temporal', 'postgres', 'ferretdb', 'market-sim', 'chain', ...OUR_OWN]);
    expect(names({ QD_MONGODB_URI: 'mongodb://10.0.0.5:27017/q' })).not.toContain('ferretdb');
    expect(names({ QD_MONGODB_URI: 'mongodb://10.0.0.5:27017/q' })).not.toContain('postgres');
    expect(names({ QD_TEMPORAL_ADDRESS: '10.0.0.5:7233' })).not.toContain('temporal');
    expect(names({ QD_SOLANA_RPC_URL: 'http://10.0.0.5:8899' })).not.toContain('chain');
  });

  it('points our processes at the program the embedded chain deploys, and at a configured one otherwise', () => {
    const ours = (env: Record<string, string>) => compose(env).specs.filter((s) => OUR_OWN.includes(s.name) && s.name !== 'web');
    const embedded = embeddedProgramId().toBase58();
    for (const s of ours({})) expect(s.env, s.name).toMatchObject({ QD_PROGRAM_ID: embedded });
    expect(bannerRow({}, 'Solana RPC')).toContain(`(surfpool, program ${embedded})`);
    // A configured program id wins on the embedded chain too (it must then be deployable there), and
    // an external cluster gets nothing added: the configuration says where the program is.
    for (const s of ours({ QD_PROGRAM_ID: embedded })) expect(s.env?.QD_PROGRAM_ID, s.name).toBeUndefined();
    for (const s of ours({ QD_SOLANA_RPC_URL: 'http://10.0.0.5:8899' })) expect(s.env?.QD_PROGRAM_ID, s.name).toBeUndefined();
  });

  it('gives the workers their metrics ports', () => {
    const { specs } = composeSystem(loadConfig({}), { binaries, metricsPorts: { ingest: 41001, sync: 41002, keeper: 41003 } });
    const ingest = specs.find((s) => s.name === 'ingest')!;
    expect(ingest.env).toMatchObject({ QD_METRICS_PORT: '41001' });
    expect(ingest.ready).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 41001 });
  });
});

describe('redactUrl', () => {
  it('hides passwords, bare tokens and secret query values, and nothing else', () => {
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactUrl('redis://default:pw@host:6379/0')).toBe('redis://default:<redacted>@host:6379/0');
    expect(redactUrl('https://abcdef@rpc.example/')).toBe('https://<redacted>@rpc.example/');
    expect(redactUrl('https://rpc.example/v1?token=t0k&cluster=main')).toBe('https://rpc.example/v1?token=<redacted>&cluster=main');
    expect(redactUrl('https://x.example/a@b')).toBe('https://x.example/a@b');
  });
});
