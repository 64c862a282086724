'use strict';
// Portico's Node.js runtime bootstrap: the Lambda Runtime API loop, with handler resolution,
// context, console format and error documents mirroring the official Node.js runtime.
// It talks to the platform over one of two channels:
// - the standard Runtime API through a lean HTTP/1.1 client on one keep-alive socket (node:http
//   costs 2-3x more CPU per invocation than the whole exchange needs);
// - when _PORTICO_RUNTIME_SOCKET is set, Portico's private framed channel on a Unix socket:
//   u32 BE length, u8 kind, u16 BE meta length, meta, payload; one frame each way per invocation.

const net = require('node:net');
const fs = require('node:fs');
const path = require('node:path');
const util = require('node:util');
const { pathToFileURL } = require('node:url');

const env = process.env;
const API = env.AWS_LAMBDA_RUNTIME_API || '';
const API_HOST = API.slice(0, API.lastIndexOf(':'));
const API_PORT = Number(API.slice(API.lastIndexOf(':') + 1));
const BASE = '/2018-06-01/runtime';
const SOCKET = env._PORTICO_RUNTIME_SOCKET;
// Platform plumbing, not for user code (as awslambdaric hides _LAMBDA_TELEMETRY_LOG_FD).
delete env._PORTICO_RUNTIME_SOCKET;

// ---------------------------------------------------------------- lean HTTP client
let sock = null;
let buf = Buffer.alloc(0);
let waiter = null;

function connect() {
  sock = net.connect({ host: API_HOST, port: API_PORT, noDelay: true });
  sock.on('data', (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    pump();
  });
  sock.on('error', (e) => fail(e));
  sock.on('close', () => {
    sock = null;
    if (waiter) fail(new Error('Runtime API connection closed'));
  });
}

function pump() {
  if (!waiter) return;
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return;
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const headers = {};
  for (let i = 1; i < lines.length; i++) {
    const c = lines[i].indexOf(':');
    if (c > 0) headers[lines[i].slice(0, c).toLowerCase()] = lines[i].slice(c + 1).trim();
  }
  const len = Number(headers['content-length'] || 0);
  if (buf.length < end + 4 + len) return;
  const body = buf.subarray(end + 4, end + 4 + len);
  buf = buf.subarray(end + 4 + len);
  const w = waiter;
  waiter = null;
  // While no request is in flight the socket must not keep the event loop alive, or
  // 'beforeExit' (callbackWaitsForEmptyEventLoop) could never fire.
  if (sock) sock.unref();
  w.resolve({ status: Number(lines[0].slice(9, 12)), headers, body });
}

function fail(e) {
  const w = waiter;
  waiter = null;
  if (w) w.reject(e);
  else {
    process.stderr.write(`Runtime API error: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  }
}

function request(method, p, body, extra) {
  return new Promise((resolve, reject) => {
    if (!sock) connect();
    waiter = { resolve, reject };
    sock.ref();
    let head = `${method} ${p} HTTP/1.1\r\nHost: ${API}\r\n`;
    if (extra) for (const k of Object.keys(extra)) head += `${k}: ${extra[k]}\r\n`;
    if (body === undefined) {
      sock.write(head + '\r\n');
    } else {
      const b = Buffer.from(body, 'utf8');
      head += `Content-Type: application/json\r\nContent-Length: ${b.length}\r\n\r\n`;
      sock.write(Buffer.concat([Buffer.from(head, 'latin1'), b]));
    }
    pump();
  });
}

async function post(p, body, errorType) {
  const extra = errorType ? { 'Lambda-Runtime-Function-Error-Type': errorType } : undefined;
  const r = await request('POST', p, body, extra);
  if (r.status !== 202) {
    // 4xx: the platform refused the answer (e.g. too large); the invoke already failed there.
    process.stderr.write(`Runtime API ${p} answered ${r.status}: ${r.body.toString('utf8')}\n`);
  }
}

const httpChannel = {
  ready: () => Promise.resolve(),
  initError: (doc, type) => post(`${BASE}/init/error`, doc, type),
  next: async () => {
    const r = await request('GET', `${BASE}/invocation/next`);
    if (r.status !== 200) throw new Error(`/next answered ${r.status}: ${r.body.toString('utf8')}`);
    return r;
  },
  respond: (id, body) => post(`${BASE}/invocation/${id}/response`, body),
  error: (id, doc, type) => post(`${BASE}/invocation/${id}/error`, doc, type),
};

// ---------------------------------------------------------------- framed channel
const READY = 1, INIT_ERROR = 2, RESPONSE = 3, ERROR = 4, INVOKE = 16;

function framedChannel(file) {
  const s = net.connect(file);
  let fbuf = Buffer.alloc(0);
  let fwaiter = null;
  const frames = [];
  const deliver = (f) => {
    if (!fwaiter) return frames.push(f);
    const w = fwaiter;
    fwaiter = null;
    s.unref();
    w(f);
  };
  s.on('data', (chunk) => {
    fbuf = fbuf.length ? Buffer.concat([fbuf, chunk]) : chunk;
    while (fbuf.length >= 4) {
      const n = fbuf.readUInt32BE(0);
      if (fbuf.length < 4 + n) break;
      const ml = fbuf.readUInt16BE(5);
      deliver({ kind: fbuf[4], meta: fbuf.toString('utf8', 7, 7 + ml), body: fbuf.subarray(7 + ml, 4 + n) });
      fbuf = fbuf.subarray(4 + n);
    }
  });
  s.on('error', (e) => fail(e));
  s.on('close', () => fail(new Error('runtime channel closed')));
  s.unref();
  // One buffer per frame. A response is written without waiting for the write to complete:
  // frames leave in order, and a broken socket ends the runtime through the 'error'/'close'
  // handlers. Errors wait for it, because the runtime may exit right after reporting one.
  const send = (kind, meta, payload, settled) => {
    const ml = meta ? Buffer.byteLength(meta, 'utf8') : 0;
    const pl = payload ? Buffer.byteLength(payload, 'utf8') : 0;
    const frame = Buffer.allocUnsafe(7 + ml + pl);
    frame.writeUInt32BE(3 + ml + pl, 0);
    frame[4] = kind;
    frame.writeUInt16BE(ml, 5);
    if (ml) frame.write(meta, 7, 'utf8');
    if (pl) frame.write(payload, 7 + ml, 'utf8');
    if (!settled) {
      s.write(frame);
      return Promise.resolve();
    }
    return new Promise((resolve) => s.write(frame, () => resolve()));
  };
  return {
    ready: () => send(READY, '', '', true),
    initError: (doc, type) => send(INIT_ERROR, type, doc, true),
    next: () =>
      new Promise((resolve) => {
        const got = (f) => {
          if (f.kind !== INVOKE) return fail(new Error(`unexpected frame ${f.kind}`));
          resolve({ headers: JSON.parse(f.meta), body: f.body });
        };
        if (frames.length) return got(frames.shift());
        s.ref();
        fwaiter = got;
      }),
    respond: (id, body) => send(RESPONSE, '', body, false),
    error: (id, doc, type) => send(ERROR, type, doc, true),
  };
}

const channel = SOCKET ? framedChannel(SOCKET) : httpChannel;

// ---------------------------------------------------------------- console, as the official runtime
let currentRequestId;
const LEVELS = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'TRACE', fatal: 'FATAL' };
for (const [method, level] of Object.entries(LEVELS)) {
  console[method] = (...args) => {
    // One log event per call: newlines become \r, as in CloudWatch.
    const line = util.format(...args).replace(/\n/g, '\r');
    process.stdout.write(`${new Date().toISOString()}\t${currentRequestId}\t${level}\t${line}\n`);
  };
}

// ---------------------------------------------------------------- errors, as the official runtime
function faultClass(name) {
  const C = class extends Error {};
  Object.defineProperty(C.prototype, 'name', { value: name, writable: true, configurable: true });
  return C;
}
const ImportModuleError = faultClass('Runtime.ImportModuleError');
const HandlerNotFound = faultClass('Runtime.HandlerNotFound');
const MalformedHandlerName = faultClass('Runtime.MalformedHandlerName');
const UserCodeSyntaxError = faultClass('Runtime.UserCodeSyntaxError');

function isError(e) {
  return util.types.isNativeError(e) || (e && typeof e === 'object' && e.name && e.message && e.stack);
}

function errorDocument(e) {
  try {
    if (isError(e)) {
      return {
        errorType: e.name,
        errorMessage: e.message,
        trace: String(e.stack).split('\n'),
      };
    }
    return { errorType: typeof e, errorMessage: String(e), trace: [] };
  } catch (_) {
    return {
      errorType: 'handled',
      errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

// ---------------------------------------------------------------- handler resolution
function hasPackageJsonTypeModule(file) {
  let dir = path.dirname(file);
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        return JSON.parse(fs.readFileSync(pj, 'utf8')).type === 'module';
      } catch (_) {
        return false;
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return false;
    dir = parent;
  }
}

function tryRequireFile(file, ext) {
  const p = file + (ext || '');
  return fs.existsSync(p) ? require(p) : undefined;
}

async function tryAwaitImport(file, ext) {
  const p = file + (ext || '');
  return fs.existsSync(p) ? await import(pathToFileURL(p).href) : undefined;
}

async function tryRequire(appRoot, moduleRoot, module) {
  const lambdaStylePath = path.resolve(appRoot, moduleRoot, module);
  const extensionless = tryRequireFile(lambdaStylePath);
  if (extensionless) return extensionless;
  const typeModule = hasPackageJsonTypeModule(lambdaStylePath);
  if (!typeModule) {
    const loaded = tryRequireFile(lambdaStylePath, '.js');
    if (loaded) return loaded;
  }
  const loaded =
    (typeModule && (await tryAwaitImport(lambdaStylePath, '.js'))) ||
    (await tryAwaitImport(lambdaStylePath, '.mjs')) ||
    tryRequireFile(lambdaStylePath, '.cjs');
  if (loaded) return loaded;
  // Resolve like Node would, relative to the task root rather than this file.
  return require(require.resolve(module, { paths: [appRoot, path.join(appRoot, moduleRoot)] }));
}

async function loadHandler(appRoot, fullHandlerString) {
  const handlerString = path.basename(fullHandlerString);
  const moduleRoot = fullHandlerString.substring(0, fullHandlerString.indexOf(handlerString));
  const match = handlerString.match(/^([^.]*)\.(.*)$/);
  if (!match || match.length !== 3) throw new MalformedHandlerName('Bad handler');
  const [, module, handlerPath] = match;
  let userApp;
  try {
    userApp = await tryRequire(appRoot, moduleRoot, module);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(String(e));
    if (e && (e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_MODULE_NOT_FOUND')) {
      throw new ImportModuleError(String(e));
    }
    throw e;
  }
  const handler = handlerPath.split('.').reduce((o, k) => (o == null ? undefined : o[k]), userApp);
  if (handler === undefined || handler === null) {
    throw new HandlerNotFound(`${fullHandlerString} is undefined or not exported`);
  }
  if (typeof handler !== 'function') throw new HandlerNotFound(`${fullHandlerString} is not a function`);
  return handler;
}

// ---------------------------------------------------------------- invocation
let onEmptyLoop = null; // what to do when the event loop drains ('beforeExit')
let onUncaught = null; // how the current invocation reports an uncaught exception

process.on('beforeExit', () => {
  const f = onEmptyLoop;
  onEmptyLoop = null;
  if (f) f();
});
for (const ev of ['uncaughtException', 'unhandledRejection']) {
  process.on(ev, (e) => {
    const code = ev === 'uncaughtException' ? 129 : 128;
    if (onUncaught) onUncaught(e, code);
    else {
      console.error(ev, e);
      process.exit(code);
    }
  });
}

function makeContext(h, id) {
  const deadline = Number(h['lambda-runtime-deadline-ms']);
  const ctx = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: h['lambda-runtime-invoked-function-arn'],
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: id,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
  if (h['lambda-runtime-client-context']) ctx.clientContext = JSON.parse(h['lambda-runtime-client-context']);
  if (h['lambda-runtime-cognito-identity']) ctx.identity = JSON.parse(h['lambda-runtime-cognito-identity']);
  return ctx;
}

// Large writes to a pipe are queued inside Node; let them reach the pipe before answering so
// the platform attributes them to this invocation's log.
function flushStdio() {
  const pending = [process.stdout, process.stderr].filter((s) => s.writableLength > 0);
  if (pending.length === 0) return Promise.resolve();
  return Promise.all(pending.map((s) => new Promise((resolve) => s.write('', () => resolve()))));
}

function postResult(id, err, result) {
  if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) {
    return postNow(id, err, result);
  }
  return flushStdio().then(() => postNow(id, err, result));
}

function postNow(id, err, result) {
  if (err !== undefined && err !== null) {
    const doc = errorDocument(err);
    console.error('Invoke Error', JSON.stringify({ errorType: doc.errorType, errorMessage: doc.errorMessage, stack: doc.trace }));
    return channel.error(id, JSON.stringify(doc), doc.errorType);
  }
  let body;
  try {
    body = JSON.stringify(result === undefined ? null : result);
  } catch (_) {
    return postNow(id, new Error('Unable to stringify response body'));
  }
  return channel.respond(id, body);
}

// Resolves once the invocation's answer is posted.
function invokeOnce(handler, event, context, id) {
  return new Promise((done) => {
    let finished = false;
    const finish = (err, result) => {
      if (finished) return;
      finished = true;
      onEmptyLoop = null;
      onUncaught = null;
      postResult(id, err, result).then(done, fail);
    };
    const callback = (err, result) => {
      if (finished) return;
      if (context.callbackWaitsForEmptyEventLoop) onEmptyLoop = () => setImmediate(() => finish(err, result));
      else finish(err, result);
    };
    context.succeed = (result) => finish(null, result);
    context.fail = (err) => finish(err == null ? 'handled' : err);
    context.done = (err, result) => finish(err, result);
    // A handler that never answers: the official runtime answers null once the loop drains.
    onEmptyLoop = () => finish(null, null);
    onUncaught = (e, code) => {
      finished = true;
      onEmptyLoop = null;
      onUncaught = null;
      postResult(id, e).then(() => process.exit(code), () => process.exit(code));
    };
    try {
      const r = handler(event, context, callback);
      if (r && typeof r.then === 'function') {
        r.then((v) => finish(null, v), (e) => finish(e === undefined || e === null ? new Error(String(e)) : e));
      }
    } catch (e) {
      callback(e);
    }
  });
}

async function main() {
  let handler;
  try {
    handler = await loadHandler(env.LAMBDA_TASK_ROOT || process.cwd(), env._HANDLER || '');
  } catch (e) {
    const doc = errorDocument(e);
    console.error(JSON.stringify({ errorType: doc.errorType, errorMessage: doc.errorMessage, stack: doc.trace }));
    await channel.initError(JSON.stringify(doc), doc.errorType);
    process.exit(129);
  }
  await channel.ready();
  for (;;) {
    const next = await channel.next();
    const h = next.headers;
    const id = h['lambda-runtime-aws-request-id'];
    currentRequestId = id;
    if (h['lambda-runtime-trace-id']) env._X_AMZN_TRACE_ID = h['lambda-runtime-trace-id'];
    else delete env._X_AMZN_TRACE_ID;
    let context;
    let event;
    try {
      context = makeContext(h, id);
      event = JSON.parse(next.body.toString('utf8'));
    } catch (e) {
      await postResult(id, e);
      continue;
    }
    await invokeOnce(handler, event, context, id);
  }
}

main().catch((e) => fail(e));
