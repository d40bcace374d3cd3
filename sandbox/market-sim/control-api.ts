import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ControlError, type SimControl } from './control.ts';
import { controlRequestSchemas, type ControlAction } from './faults.ts';

const MAX_BODY_BYTES = 1024 * 1024;

const publishedQuerySchema = z.object({
  feed: z.string().min(1, 'feed is required'),
  publish_time: z.coerce.number().int().nonnegative(),
  price: z
    .string()
    .regex(/^-?\d+$/, 'price is the integer mantissa')
    .optional(),
});

export interface ControlApiDeps {
  readonly control: SimControl;
  /** Everything `GET /control/state` reports besides the faults. */
  readonly describe: () => Record<string, unknown>;
  readonly prices: (feeds?: string[]) => unknown;
  readonly publishedAt: (feed: string, publishTime: number, price?: string) => number | undefined;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ControlError(`body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const isAction = (name: string): name is ControlAction => Object.hasOwn(controlRequestSchemas, name);

/**
 * `/control/...`: JSON over HTTP for the same controls as `sim.control`.
 * `GET /control/state`, `GET /control/prices?feeds=`, `GET /control/published?feed=&publish_time=&price=`,
 * `POST /control/<action>` with a JSON body (`pause`, `resume`, `stall`, `unstall`, `drop`, `delay`,
 * `bias`, `inject`, `clear-injections`, `kill`, `restore`, `reset`).
 */
export function createControlApi(deps: ControlApiDeps) {
  async function post(action: ControlAction, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: unknown = {};
    try {
      const text = await readBody(req);
      if (text.trim() !== '') body = JSON.parse(text);
    } catch (e) {
      const message = e instanceof ControlError ? e.message : `invalid JSON body: ${(e as Error).message}`;
      return sendJson(res, e instanceof ControlError ? 413 : 400, { error: message });
    }
    try {
      sendJson(res, 200, deps.control.apply(action, body));
    } catch (e) {
      if (e instanceof ControlError) return sendJson(res, 400, { error: e.message });
      throw e;
    }
  }

  return {
    /** Serves `/control/...`; false for other paths. */
    handle(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
      if (!url.pathname.startsWith('/control/')) return false;
      const name = url.pathname.slice('/control/'.length);
      if (req.method === 'GET') {
        if (name === 'state') {
          sendJson(res, 200, { ...deps.describe(), faults: deps.control.state() });
        } else if (name === 'prices') {
          const feeds = url.searchParams.get('feeds')?.split(',').filter(Boolean);
          try {
            sendJson(res, 200, deps.prices(feeds));
          } catch (e) {
            if (!(e instanceof ControlError)) throw e;
            sendJson(res, 400, { error: e.message });
          }
        } else if (name === 'published') {
          const q = publishedQuerySchema.safeParse(Object.fromEntries(url.searchParams));
          if (!q.success) {
            sendJson(res, 400, { error: q.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
          } else {
            const at = deps.publishedAt(q.data.feed, q.data.publish_time, q.data.price);
            if (at === undefined) sendJson(res, 404, { error: 'no such update recorded' });
            else sendJson(res, 200, { feed: q.data.feed, publishTime: q.data.publish_time, publishedAtMs: at });
          }
        } else {
          sendJson(res, 404, { error: `no control resource ${name}` });
        }
        return true;
      }
      if (req.method !== 'POST') {
        sendJson(res, 405, { error: 'use GET for state, prices and published; POST for actions' });
        return true;
      }
      if (!isAction(name)) {
        sendJson(res, 404, { error: `unknown control action ${name}` });
        return true;
      }
      post(name, req, res).catch((e: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: (e as Error).message });
      });
      return true;
    },
  };
}
