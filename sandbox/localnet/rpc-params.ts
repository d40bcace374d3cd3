// zod schemas for the parameters the RPC and PubSub methods share, and their -32602 messages.
import bs58 from 'bs58';
import { z } from 'zod';
import { invalidParams } from './json-rpc.ts';

function decodesTo(length: number) {
  return (value: string): boolean => {
    try {
      return bs58.decode(value).length === length;
    } catch {
      return false;
    }
  };
}

export const pubkey = z.string().refine(decodesTo(32), { message: 'Invalid param: not a base58-encoded 32-byte public key' });
export const signature = z.string().refine(decodesTo(64), { message: 'Invalid param: not a base58-encoded 64-byte signature' });
export const commitment = z.enum(['processed', 'confirmed', 'finalized', 'recent', 'single', 'singleGossip', 'root', 'max']);
export type Commitment = z.infer<typeof commitment>;
export const u64 = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
export const contextConfig = z.object({ commitment: commitment.optional(), minContextSlot: u64.optional() });
export const accountEncoding = z.enum(['binary', 'base58', 'base64', 'base64+zstd', 'jsonParsed']);
export const dataSlice = z.object({ offset: u64, length: u64 });
export const accountConfig = contextConfig.extend({ encoding: accountEncoding.optional(), dataSlice: dataSlice.optional() });
export const filter = z.union(
  [
    z.object({ dataSize: u64 }),
    z.object({ memcmp: z.object({ offset: u64, bytes: z.string(), encoding: z.enum(['base58', 'base64']).optional() }) }),
    z.object({ tokenAccountState: z.object({}) }),
  ],
  { error: 'expected a filter: {"dataSize": n}, {"memcmp": {"offset": n, "bytes": "..."}} or {"tokenAccountState": {}}' },
);

/** Parses positional parameters, or throws -32602 naming the first problem and where it is. */
export function parseParams<T extends z.ZodType>(schema: T, params: unknown[]): z.infer<T> {
  const result = schema.safeParse(params);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? '' : ` (parameter ${issue.path.join('.')})`;
  const message = issue?.message ?? 'invalid parameters';
  throw invalidParams(message.startsWith('Invalid param') ? `${message}${where}` : `Invalid params${where}: ${message}`);
}
