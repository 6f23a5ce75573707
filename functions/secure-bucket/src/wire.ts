// RunFunctionRequest decode and RunFunctionResponse encode without ts-proto's intermediate objects.
// The SDK turns every protobuf Struct into {fields} of Value objects (six fields each) and back,
// through a forked writer per nested message: about a third of a first pass (bench/stages.ts).
// Here Structs go straight between bytes and plain objects. Output is byte for byte what the SDK
// encodes (tests/server/wire.test.ts), and decoded requests have the SDK's shape; the few small
// messages this file does not hand-code (credentials, schemas, results, requirements, conditions)
// still go through the SDK.
import {
  Condition,
  Credentials,
  Requirements,
  Result,
  Schema,
  type Resource,
  type RunFunctionRequest,
  type RunFunctionResponse,
  type State,
} from '@crossplane-org/function-sdk-typescript';

/** The SDK's limit too: deeper input is refused instead of overflowing the stack. */
const MAX_DEPTH = 100;

// ---------------------------------------------------------------- decode

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  varint(): number {
    const b = this.buf;
    let x = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= b.length) throw new Error('protobuf: truncated varint');
      const byte = b[this.pos++]!;
      // Beyond 2^53 precision is lost; no field here is that large (lengths, enums, tags).
      x += shift < 28 ? (byte & 0x7f) << shift : (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return x;
      shift += 7;
      if (shift > 63) throw new Error('protobuf: varint too long');
    }
  }

  /** The end offset of the length-delimited field that starts here. */
  end(): number {
    const len = this.varint();
    const end = this.pos + len;
    if (end > this.buf.length) throw new Error('protobuf: truncated message');
    return end;
  }

  string(): string {
    const end = this.end();
    const b = this.buf;
    const start = this.pos;
    this.pos = end;
    // Short ASCII strings (keys, names) decode faster in JS than through the native UTF-8 path.
    if (end - start <= 32) {
      let s = '';
      for (let i = start; i < end; i++) {
        const c = b[i]!;
        if (c >= 0x80) return b.toString('utf8', start, end);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return b.toString('utf8', start, end);
  }

  bytes(): Uint8Array {
    const end = this.end();
    const out = new Uint8Array(this.buf.subarray(this.pos, end));
    this.pos = end;
    return out;
  }

  double(): number {
    if (this.pos + 8 > this.buf.length) throw new Error('protobuf: truncated double');
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        return;
      case 2:
        this.pos = this.end();
        return;
      case 5:
        this.pos += 4;
        return;
      default:
        throw new Error(`protobuf: unsupported wire type ${wireType}`);
    }
  }
}

/** Sets a key without ever touching the prototype (a Struct key may be "__proto__"). */
function put(o: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, configurable: true, writable: true });
  else o[key] = value;
}

function readStruct(r: Reader, end: number, depth: number): Record<string, unknown> {
  if (depth >= MAX_DEPTH) throw new Error('protobuf decode recursion limit exceeded');
  const o: Record<string, unknown> = {};
  while (r.pos < end) {
    const tag = r.varint();
    if (tag !== 10) {
      r.skip(tag & 7);
      continue;
    }
    const entryEnd = r.end();
    let key = '';
    let value: unknown;
    while (r.pos < entryEnd) {
      const t = r.varint();
      if (t === 10) key = r.string();
      else if (t === 18) value = readValue(r, r.end(), depth + 1);
      else r.skip(t & 7);
    }
    // As the SDK: an empty Value is no field at all.
    if (value !== undefined) put(o, key, value);
  }
  return o;
}

function readList(r: Reader, end: number, depth: number): unknown[] {
  if (depth >= MAX_DEPTH) throw new Error('protobuf decode recursion limit exceeded');
  const out: unknown[] = [];
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 10) out.push(readValue(r, r.end(), depth + 1));
    else r.skip(tag & 7);
  }
  return out;
}

/** A google.protobuf.Value as the SDK unwraps it (string, number, bool, struct, list, null; precedence as Value.unwrap). */
function readValue(r: Reader, end: number, depth: number): unknown {
  if (depth >= MAX_DEPTH) throw new Error('protobuf decode recursion limit exceeded');
  let str: string | undefined;
  let num: number | undefined;
  let bool: boolean | undefined;
  let struct: Record<string, unknown> | undefined;
  let list: unknown[] | undefined;
  let isNull = false;
  while (r.pos < end) {
    const tag = r.varint();
    switch (tag) {
      case 8:
        r.varint();
        isNull = true;
        break;
      case 17:
        num = r.double();
        break;
      case 26:
        str = r.string();
        break;
      case 32:
        bool = r.varint() !== 0;
        break;
      case 42:
        struct = readStruct(r, r.end(), depth + 1);
        break;
      case 50:
        list = readList(r, r.end(), depth + 1);
        break;
      default:
        r.skip(tag & 7);
    }
  }
  if (str !== undefined) return str;
  if (num !== undefined) return num;
  if (bool !== undefined) return bool;
  if (struct !== undefined) return struct;
  if (list !== undefined) return list;
  return isNull ? null : undefined;
}

function readResource(r: Reader, end: number): Resource {
  const res: Resource = { resource: undefined, connectionDetails: {}, ready: 0 };
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 10) res.resource = readStruct(r, r.end(), 1);
    else if (tag === 18) {
      const entryEnd = r.end();
      let key = '';
      let value: Uint8Array = new Uint8Array(0);
      while (r.pos < entryEnd) {
        const t = r.varint();
        if (t === 10) key = r.string();
        else if (t === 18) value = r.bytes();
        else r.skip(t & 7);
      }
      put(res.connectionDetails, key, value);
    } else if (tag === 24) res.ready = r.varint() | 0;
    else r.skip(tag & 7);
  }
  return res;
}

function readState(r: Reader, end: number): State {
  const state: State = { composite: undefined, resources: {} };
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 10) state.composite = readResource(r, r.end());
    else if (tag === 18) {
      const [key, value] = readEntry(r, (e) => readResource(r, e));
      if (value !== undefined) put(state.resources, key, value);
    } else r.skip(tag & 7);
  }
  return state;
}

/** A map entry: key (1) and a message value (2) read by `value`. */
function readEntry<T>(r: Reader, value: (end: number) => T): [string, T | undefined] {
  const entryEnd = r.end();
  let key = '';
  let v: T | undefined;
  while (r.pos < entryEnd) {
    const t = r.varint();
    if (t === 10) key = r.string();
    else if (t === 18) v = value(r.end());
    else r.skip(t & 7);
  }
  return [key, v];
}

function readResources(r: Reader, end: number): { items: Resource[] } {
  const items: Resource[] = [];
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 10) items.push(readResource(r, r.end()));
    else r.skip(tag & 7);
  }
  return { items };
}

/** A small message the SDK decodes, from its bytes here. */
function viaSdk<T>(r: Reader, end: number, decode: (b: Uint8Array) => T): T {
  const out = decode(r.buf.subarray(r.pos, end));
  r.pos = end;
  return out;
}

export function decodeRequest(buf: Buffer): RunFunctionRequest {
  const r = new Reader(buf);
  const req: RunFunctionRequest = {
    meta: undefined,
    observed: undefined,
    desired: undefined,
    input: undefined,
    context: undefined,
    extraResources: {},
    credentials: {},
    requiredResources: {},
    requiredSchemas: {},
  };
  while (r.pos < buf.length) {
    const tag = r.varint();
    switch (tag) {
      case 10: {
        const end = r.end();
        const meta = { tag: '', capabilities: [] as number[] };
        while (r.pos < end) {
          const t = r.varint();
          if (t === 10) meta.tag = r.string();
          else if (t === 16) meta.capabilities.push(r.varint() | 0);
          else if (t === 18) {
            const e = r.end();
            while (r.pos < e) meta.capabilities.push(r.varint() | 0);
          } else r.skip(t & 7);
        }
        req.meta = meta;
        break;
      }
      case 18:
        req.observed = readState(r, r.end());
        break;
      case 26:
        req.desired = readState(r, r.end());
        break;
      case 34:
        req.input = readStruct(r, r.end(), 1);
        break;
      case 42:
        req.context = readStruct(r, r.end(), 1);
        break;
      case 50: {
        const [k, v] = readEntry(r, (e) => readResources(r, e));
        if (v !== undefined) put(req.extraResources, k, v);
        break;
      }
      case 58: {
        const [k, v] = readEntry(r, (e) => viaSdk(r, e, (b) => Credentials.decode(b)));
        if (v !== undefined) put(req.credentials, k, v);
        break;
      }
      case 66: {
        const [k, v] = readEntry(r, (e) => readResources(r, e));
        if (v !== undefined) put(req.requiredResources, k, v);
        break;
      }
      case 74: {
        const [k, v] = readEntry(r, (e) => viaSdk(r, e, (b) => Schema.decode(b)));
        if (v !== undefined) put(req.requiredSchemas, k, v);
        break;
      }
      default:
        r.skip(tag & 7);
    }
  }
  return req;
}

// ---------------------------------------------------------------- encode

class Writer {
  buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  reset(): void {
    this.pos = 0;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  varint(v: number): void {
    this.ensure(10);
    const b = this.buf;
    while (v > 0x7f) {
      b[this.pos++] = (v & 0x7f) | 0x80;
      v = v > 0xffffffff ? Math.floor(v / 128) : v >>> 7;
    }
    b[this.pos++] = v;
  }

  /** int32 as protobuf writes it: negative numbers as ten-byte two's complement. */
  int32(v: number): void {
    if (v >= 0) this.varint(v);
    else {
      this.ensure(10);
      let lo = v >>> 0;
      for (let i = 0; i < 4; i++) {
        this.buf[this.pos++] = (lo & 0x7f) | 0x80;
        lo >>>= 7;
      }
      this.buf[this.pos++] = (lo & 0x0f) | 0x70 | 0x80;
      for (let i = 0; i < 4; i++) this.buf[this.pos++] = 0xff;
      this.buf[this.pos++] = 0x01;
    }
  }

  string(s: string): void {
    const n = s.length;
    // Short ASCII: one length byte and a JS copy, no native call.
    if (n < 128) {
      this.ensure(n + 1);
      const b = this.buf;
      const start = this.pos;
      b[start] = n;
      let p = start + 1;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) {
          this.pos = start;
          return this.longString(s);
        }
        b[p++] = c;
      }
      this.pos = p;
      return;
    }
    this.longString(s);
  }

  private longString(s: string): void {
    const len = Buffer.byteLength(s, 'utf8');
    this.varint(len);
    this.ensure(len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  double(v: number): void {
    this.ensure(8);
    this.pos = this.buf.writeDoubleLE(v, this.pos);
  }

  /** Starts a length-delimited field: one byte reserved for its length (most are under 128 bytes). */
  fork(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** Ends it: writes the length, moving the body right when the length needs more than one byte. */
  join(at: number): void {
    const len = this.pos - at - 1;
    if (len < 0x80) {
      this.buf[at] = len;
      return;
    }
    let extra = 0;
    for (let v = len >>> 7; v > 0; v >>>= 7) extra++;
    this.ensure(extra);
    this.buf.copyWithin(at + 1 + extra, at + 1, this.pos);
    this.pos += extra;
    let p = at;
    let v = len;
    while (v > 0x7f) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p] = v;
  }
}

function writeStruct(w: Writer, o: Record<string, unknown>, depth: number): void {
  if (depth >= MAX_DEPTH) throw new Error('protobuf encode recursion limit exceeded');
  for (const key of Object.keys(o)) {
    const value = o[key];
    if (value === undefined) continue;
    w.byte(10);
    const entry = w.fork();
    if (key !== '') {
      w.byte(10);
      w.string(key);
    }
    w.byte(18);
    const v = w.fork();
    writeValue(w, value, depth + 1);
    w.join(v);
    w.join(entry);
  }
}

/** Value.wrap then Value.encode, as the SDK does it (numbers always doubles, arrays lists). */
function writeValue(w: Writer, value: unknown, depth: number): void {
  if (value === null) {
    w.byte(8);
    w.byte(0);
  } else if (typeof value === 'boolean') {
    w.byte(32);
    w.byte(value ? 1 : 0);
  } else if (typeof value === 'number') {
    w.byte(17);
    w.double(value);
  } else if (typeof value === 'string') {
    w.byte(26);
    w.string(value);
  } else if (Array.isArray(value)) {
    if (depth >= MAX_DEPTH) throw new Error('protobuf encode recursion limit exceeded');
    w.byte(50);
    const list = w.fork();
    for (const item of value) {
      w.byte(10);
      const v = w.fork();
      writeValue(w, item, depth + 1);
      w.join(v);
    }
    w.join(list);
  } else if (typeof value === 'object') {
    w.byte(42);
    const s = w.fork();
    writeStruct(w, value as Record<string, unknown>, depth + 1);
    w.join(s);
  } else if (value !== undefined) {
    throw new Error(`Unsupported any value type: ${typeof value}`);
  }
}

function writeResource(w: Writer, res: Resource): void {
  if (res.resource !== undefined) {
    w.byte(10);
    const s = w.fork();
    writeStruct(w, res.resource, 1);
    w.join(s);
  }
  for (const [key, value] of Object.entries(res.connectionDetails)) {
    w.byte(18);
    const e = w.fork();
    if (key !== '') {
      w.byte(10);
      w.string(key);
    }
    if (value.length > 0) {
      w.byte(18);
      w.varint(value.length);
      w.raw(value);
    }
    w.join(e);
  }
  if (res.ready !== 0) {
    w.byte(24);
    w.int32(res.ready);
  }
}

function writeState(w: Writer, state: State): void {
  if (state.composite !== undefined) {
    w.byte(10);
    const c = w.fork();
    writeResource(w, state.composite);
    w.join(c);
  }
  for (const [key, value] of Object.entries(state.resources)) {
    w.byte(18);
    const e = w.fork();
    if (key !== '') {
      w.byte(10);
      w.string(key);
    }
    // ts-proto writes the value field even for an empty Resource.
    w.byte(18);
    const v = w.fork();
    writeResource(w, value);
    w.join(v);
    w.join(e);
  }
}

function sdkField(w: Writer, tag: number, bytes: Uint8Array): void {
  w.byte(tag);
  w.varint(bytes.length);
  w.raw(bytes);
}

function structField(w: Writer, tag: number, o: Record<string, unknown>): void {
  w.byte(tag);
  const s = w.fork();
  writeStruct(w, o, 1);
  w.join(s);
}

/** ResponseMeta: tag (1), ttl (2: google.protobuf.Duration seconds (1), nanos (2)). */
function writeResponseMeta(w: Writer, meta: NonNullable<RunFunctionResponse['meta']>): void {
  w.byte(10);
  const m = w.fork();
  if (meta.tag !== '') {
    w.byte(10);
    w.string(meta.tag);
  }
  if (meta.ttl !== undefined) {
    w.byte(18);
    const d = w.fork();
    if (meta.ttl.seconds !== 0) {
      w.byte(8);
      w.varint(meta.ttl.seconds);
    }
    if (meta.ttl.nanos !== 0) {
      w.byte(16);
      w.int32(meta.ttl.nanos);
    }
    w.join(d);
  }
  w.join(m);
}

// One writer reused: encoding is synchronous, and its buffer only grows to the largest response.
const shared = new Writer(64 * 1024);

export function encodeResponse(rsp: RunFunctionResponse): Buffer {
  const w = shared;
  w.reset();
  if (rsp.meta !== undefined) writeResponseMeta(w, rsp.meta);
  if (rsp.desired !== undefined) {
    w.byte(18);
    const d = w.fork();
    writeState(w, rsp.desired);
    w.join(d);
  }
  for (const r of rsp.results) sdkField(w, 26, Result.encode(r).finish());
  if (rsp.context !== undefined) structField(w, 34, rsp.context);
  if (rsp.requirements !== undefined) sdkField(w, 42, Requirements.encode(rsp.requirements).finish());
  for (const c of rsp.conditions) sdkField(w, 50, Condition.encode(c).finish());
  if (rsp.output !== undefined) structField(w, 58, rsp.output);
  // A copy: the shared buffer is overwritten by the next response.
  return Buffer.from(w.buf.subarray(0, w.pos));
}

/** Just the meta field of a response, for re-tagging a cached body. */
export function encodeResponseMeta(meta: NonNullable<RunFunctionResponse['meta']>): Buffer {
  const w = new Writer(256);
  writeResponseMeta(w, meta);
  return Buffer.from(w.buf.subarray(0, w.pos));
}

function resourcesField(w: Writer, tag: number, key: string, items: Resource[]): void {
  w.byte(tag);
  const e = w.fork();
  w.byte(10);
  w.string(key);
  w.byte(18);
  const v = w.fork();
  for (const item of items) {
    w.byte(10);
    const i = w.fork();
    writeResource(w, item);
    w.join(i);
  }
  w.join(v);
  w.join(e);
}

function bytesEntry(w: Writer, tag: number, key: string, bytes: Uint8Array): void {
  w.byte(tag);
  const e = w.fork();
  w.byte(10);
  w.string(key);
  sdkField(w, 18, bytes);
  w.join(e);
}

/**
 * A request without its meta, in RunFunctionRequest's field order: the bytes the response cache
 * hashes for its normalised key. Not a wire format anyone decodes.
 */
export function encodeRequestForKey(req: RunFunctionRequest): Buffer {
  const w = shared;
  w.reset();
  for (const [tag, state] of [
    [18, req.observed],
    [26, req.desired],
  ] as const) {
    if (state === undefined) continue;
    w.byte(tag);
    const s = w.fork();
    writeState(w, state);
    w.join(s);
  }
  if (req.input !== undefined) structField(w, 34, req.input);
  if (req.context !== undefined) structField(w, 42, req.context);
  for (const [k, v] of Object.entries(req.extraResources)) resourcesField(w, 50, k, v.items);
  for (const [k, v] of Object.entries(req.credentials)) bytesEntry(w, 58, k, Credentials.encode(v).finish());
  for (const [k, v] of Object.entries(req.requiredResources)) resourcesField(w, 66, k, v.items);
  for (const [k, v] of Object.entries(req.requiredSchemas)) bytesEntry(w, 74, k, Schema.encode(v).finish());
  return Buffer.from(w.buf.subarray(0, w.pos));
}

export const wireCodec = { decode: decodeRequest, encode: encodeResponse };
