// JSON-RPC 2.0 framing shared by the HTTP endpoint and the WebSocket PubSub endpoint.
import { z } from 'zod';

/** Error codes: the JSON-RPC 2.0 standard ones plus the Solana validator's own (agave `rpc_custom_error`). */
export const RpcErrorCode = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  blockNotAvailable: -32004,
  sendTransactionPreflightFailure: -32002,
  transactionSignatureVerificationFailure: -32003,
  transactionHistoryNotAvailable: -32011,
  unsupportedTransactionVersion: -32015,
  minContextSlotNotReached: -32016,
} as const;

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

export function invalidParams(message: string): RpcError {
  return new RpcError(RpcErrorCode.invalidParams, message);
}

export type JsonRpcId = string | number | null;

export interface JsonRpcRequest {
  readonly id: JsonRpcId;
  /** A request without `id` is a notification: it gets no response. */
  readonly isNotification: boolean;
  readonly method: string;
  readonly params: unknown[];
}

export type JsonRpcResponse =
  | { jsonrpc: '2.0'; result: unknown; id: JsonRpcId }
  | { jsonrpc: '2.0'; error: { code: number; message: string; data?: unknown }; id: JsonRpcId };

const requestSchema = z.object({
  jsonrpc: z.literal('2.0'),
  method: z.string().min(1),
  params: z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())]).optional(),
  id: z.union([z.string(), z.number(), z.null()]).optional(),
});

/** One element of a call: a valid request, or the error to answer for it. */
export type ParsedCall = { ok: true; request: JsonRpcRequest } | { ok: false; response: JsonRpcResponse };

export function errorResponse(id: JsonRpcId, err: RpcError): JsonRpcResponse {
  const error: { code: number; message: string; data?: unknown } = { code: err.code, message: err.message };
  if (err.data !== undefined) error.data = err.data;
  return { jsonrpc: '2.0', error, id };
}

function parseOne(raw: unknown): ParsedCall {
  const parsed = requestSchema.safeParse(raw);
  if (!parsed.success) {
    const id =
      typeof raw === 'object' && raw !== null && 'id' in raw && (typeof raw.id === 'string' || typeof raw.id === 'number')
        ? raw.id
        : null;
    return { ok: false, response: errorResponse(id, new RpcError(RpcErrorCode.invalidRequest, 'Invalid request')) };
  }
  const { method, params, id } = parsed.data;
  if (params !== undefined && !Array.isArray(params)) {
    // Solana methods take positional parameters only.
    return {
      ok: false,
      response: errorResponse(id ?? null, invalidParams('Invalid params: expected an array of positional parameters')),
    };
  }
  return { ok: true, request: { id: id ?? null, isNotification: id === undefined, method, params: params ?? [] } };
}

/** Parses a request body: a single call or a batch. Throws RpcError for unparseable JSON or an empty batch. */
export function parseBody(text: string): { batch: boolean; calls: ParsedCall[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new RpcError(RpcErrorCode.parseError, 'Parse error');
  }
  if (Array.isArray(raw)) {
    if (raw.length === 0) throw new RpcError(RpcErrorCode.invalidRequest, 'Invalid request: empty batch');
    return { batch: true, calls: raw.map(parseOne) };
  }
  return { batch: false, calls: [parseOne(raw)] };
}

// u64 values (lamports, amounts, rentEpoch) are carried as bigint and written as bare JSON integers, as a
// validator does, instead of being rounded through a double.
const BIGINT_MARK = '\u0000bigint:';
const BIGINT_MARK_RE = /"\\u0000bigint:(-?\d+)"/g;

export function stringifyJson(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${BIGINT_MARK}${v}` : v));
  return text.replace(BIGINT_MARK_RE, '$1');
}

export type MethodTable = ReadonlyMap<string, (params: unknown[]) => unknown>;

/** Answers one parsed call from a method table; null for a notification (nothing is sent back). */
export function dispatch(
  call: ParsedCall,
  methods: MethodTable,
  onInternalError: (method: string, err: unknown) => void,
): JsonRpcResponse | null {
  if (!call.ok) return call.response;
  const { id, isNotification, method, params } = call.request;
  const fn = methods.get(method);
  let response: JsonRpcResponse;
  if (fn === undefined) {
    response = errorResponse(id, new RpcError(RpcErrorCode.methodNotFound, 'Method not found'));
  } else {
    try {
      response = { jsonrpc: '2.0', result: fn(params), id };
    } catch (err) {
      if (err instanceof RpcError) {
        response = errorResponse(id, err);
      } else {
        onInternalError(method, err);
        response = errorResponse(id, new RpcError(RpcErrorCode.internalError, `Internal error: ${(err as Error).message}`));
      }
    }
  }
  return isNotification ? null : response;
}

/** Answers a whole request body; null when nothing is to be sent (only notifications). */
export function answerBody(text: string, methods: MethodTable, onInternalError: (method: string, err: unknown) => void): string | null {
  let parsed: { batch: boolean; calls: ParsedCall[] };
  try {
    parsed = parseBody(text);
  } catch (err) {
    if (err instanceof RpcError) return stringifyJson(errorResponse(null, err));
    throw err;
  }
  const responses = parsed.calls
    .map((call) => dispatch(call, methods, onInternalError))
    .filter((r): r is JsonRpcResponse => r !== null);
  if (responses.length === 0) return null;
  return stringifyJson(parsed.batch ? responses : responses[0]);
}
