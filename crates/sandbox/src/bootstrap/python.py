"""Portico's Python runtime bootstrap.

The Lambda Runtime API loop, with handler loading, context object, JSON encoding, logging format
and error documents mirroring the official runtime (awslambdaric). It talks to the platform over
one of two channels:
- the standard Runtime API through a lean HTTP/1.1 client on one raw keep-alive socket
  (http.client's header parsing alone costs more than the whole exchange needs);
- when _PORTICO_RUNTIME_SOCKET is set, Portico's private framed channel on a Unix socket:
  u32 BE length, u8 kind, u16 BE meta length, meta, payload; one frame each way per invocation.

Keep this file named bootstrap.py: stack traces drop frames from files ending in /bootstrap.py,
as the official runtime does.
"""

import decimal
import importlib
import json
import math
import os
import socket
import struct
import sys
import time
import traceback

_BASE = "/2018-06-01/runtime"
_REQUEST_ID = None


class FaultException(Exception):
    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
    LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

    def __init__(self, exception_type, msg, trace=None):
        super().__init__(msg)
        self.msg = msg
        self.exception_type = exception_type
        self.trace = trace


# ------------------------------------------------------------------ lean HTTP client
class RuntimeClient:
    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.host = host
        self.addr = (host, int(port))
        self.sock = None
        self.buf = b""

    def _connect(self):
        self.sock = socket.create_connection(self.addr)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _recv(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("Runtime API connection closed")
        self.buf += chunk

    def request(self, method, path, body=None, headers=None):
        if self.sock is None:
            self._connect()
        head = "%s %s HTTP/1.1\r\nHost: %s\r\n" % (method, path, self.host)
        if headers:
            for k, v in headers.items():
                head += "%s: %s\r\n" % (k, v)
        if body is None:
            self.sock.sendall((head + "\r\n").encode("latin-1"))
        else:
            head += "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
            self.sock.sendall(head.encode("latin-1") + body)
        while (end := self.buf.find(b"\r\n\r\n")) < 0:
            self._recv()
        lines = self.buf[:end].split(b"\r\n")
        status = int(lines[0][9:12])
        hdrs = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            hdrs[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
        n = int(hdrs.get("content-length", "0"))
        while len(self.buf) < end + 4 + n:
            self._recv()
        payload, self.buf = self.buf[end + 4:end + 4 + n], self.buf[end + 4 + n:]
        if hdrs.get("connection", "").lower() == "close":
            self.sock.close()
            self.sock = None
        return status, hdrs, payload

    def post(self, path, body, error_type=None):
        headers = {"Lambda-Runtime-Function-Error-Type": error_type} if error_type else None
        status, _, payload = self.request("POST", path, body, headers)
        if status != 202:
            sys.stderr.write("Runtime API %s answered %d: %s\n" % (path, status, payload.decode("utf-8", "replace")))


    # The channel interface shared with FramedChannel.
    def ready(self):
        pass

    def init_error(self, doc, error_type):
        self.post(_BASE + "/init/error", doc, error_type)

    def next(self):
        status, headers, body = self.request("GET", _BASE + "/invocation/next")
        if status != 200:
            raise RuntimeError("/next answered %d: %r" % (status, body))
        return headers, body

    def respond(self, invoke_id, body):
        self.post("%s/invocation/%s/response" % (_BASE, invoke_id), body)

    def error(self, invoke_id, doc, error_type):
        self.post("%s/invocation/%s/error" % (_BASE, invoke_id), doc, error_type)


class FramedChannel:
    READY, INIT_ERROR, RESPONSE, ERROR, INVOKE = 1, 2, 3, 4, 16

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b""

    def _send(self, kind, meta, payload):
        self.sock.sendall(struct.pack(">IBH", 3 + len(meta) + len(payload), kind, len(meta)) + meta + payload)

    def _fill(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("runtime channel closed")
            self.buf += chunk

    def ready(self):
        self._send(self.READY, b"", b"")

    def init_error(self, doc, error_type):
        self._send(self.INIT_ERROR, error_type.encode("utf-8"), doc)

    def next(self):
        self._fill(4)
        (n,) = struct.unpack_from(">I", self.buf)
        self._fill(4 + n)
        kind, meta_len = struct.unpack_from(">BH", self.buf, 4)
        meta = self.buf[7:7 + meta_len]
        body = self.buf[7 + meta_len:4 + n]
        self.buf = self.buf[4 + n:]
        if kind != self.INVOKE:
            raise RuntimeError("unexpected frame %d" % kind)
        return json.loads(meta), body

    def respond(self, invoke_id, body):
        self._send(self.RESPONSE, b"", body)

    def error(self, invoke_id, doc, error_type):
        self._send(self.ERROR, error_type.encode("utf-8"), doc)


# ------------------------------------------------------------------ JSON, as the official marshaller
_ENSURE_ASCII = os.environ.get("AWS_EXECUTION_ENV") not in {
    "AWS_Lambda_python3.12",
    "AWS_Lambda_python3.13",
    "AWS_Lambda_python3.14",
}


def _default(obj):
    if isinstance(obj, decimal.Decimal):
        if obj.is_nan():
            return math.nan
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    raise TypeError("Object of type %s is not JSON serializable" % type(obj).__name__)


# One encoder for every invocation: `json.dumps` with options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=_ENSURE_ASCII, allow_nan=True, default=_default)


def to_json(obj):
    return _ENCODER.encode(obj)


# ------------------------------------------------------------------ context
class _Obj:
    def __init__(self, fields, data):
        for f in fields:
            setattr(self, f, (data or {}).get(f))

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, self.__dict__)


class CognitoIdentity(_Obj):
    pass


class ClientContext(_Obj):
    pass


class Client(_Obj):
    pass


# The platform sets these once per environment; reading os.environ per invocation costs more
# than the rest of the context.
_ENV_LOG_GROUP = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
_ENV_LOG_STREAM = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
_ENV_FUNCTION_NAME = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
_ENV_MEMORY = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
_ENV_VERSION = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")


class LambdaContext:
    def __init__(self, invoke_id, client_context, cognito_identity, deadline_ms, invoked_function_arn):
        self.aws_request_id = invoke_id
        self.log_group_name = _ENV_LOG_GROUP
        self.log_stream_name = _ENV_LOG_STREAM
        self.function_name = _ENV_FUNCTION_NAME
        self.memory_limit_in_mb = _ENV_MEMORY
        self.function_version = _ENV_VERSION
        self.invoked_function_arn = invoked_function_arn
        self.client_context = None
        if client_context is not None:
            self.client_context = ClientContext(["custom", "env", "client"], client_context)
            if self.client_context.client is not None:
                self.client_context.client = Client(
                    ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"],
                    self.client_context.client,
                )
        self.identity = CognitoIdentity(["cognito_identity_id", "cognito_identity_pool_id"], {})
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        delta = self._deadline_ms - int(time.time() * 1000)
        return delta if delta > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))


def _parse_json_header(value, name):
    try:
        return json.loads(value)
    except Exception as e:
        raise FaultException(
            FaultException.LAMBDA_CONTEXT_UNMARSHAL_ERROR, "Unable to parse %s JSON: %s" % (name, e)
        )


# ------------------------------------------------------------------ errors and logging
def make_error(error_message, error_type, stack_trace, invoke_id=None):
    return {
        "errorMessage": error_message if error_message else "",
        "errorType": error_type if error_type else "",
        "requestId": invoke_id if invoke_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def _user_frames(tb):
    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    for i in range(len(frames)):
        if "/bootstrap.py" not in frames[i][0]:
            return frames[i:]
    return frames


def build_fault_result(exc_info, invoke_id=None):
    etype, value, tb = exc_info
    return make_error(str(value), etype.__name__, traceback.format_list(_user_frames(tb)), invoke_id)


def log_error(error_result):
    desc = "[ERROR]"
    if error_result.get("errorType"):
        desc += " " + error_result["errorType"]
    if error_result.get("errorMessage"):
        if error_result.get("errorType"):
            desc += ":"
        desc += " " + error_result["errorMessage"]
    lines = [desc]
    stack = error_result.get("stackTrace")
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack:
            for line in element.splitlines() or [""]:
                stripped = line.lstrip(" ")
                lines.append("\u00a0" * (len(line) - len(stripped)) + stripped)
    sys.stdout.write("\r".join(lines) + "\n")


class _Unbuffered:
    """Writes through at once so output lands before the response is posted."""

    def __init__(self, stream):
        self.stream = stream

    def __getattr__(self, attr):
        return getattr(self.stream, attr)

    def write(self, msg):
        self.stream.write(msg)
        self.stream.flush()

    def writelines(self, msgs):
        self.stream.writelines(msgs)
        self.stream.flush()


def _setup_logging():
    import logging

    class _Filter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _REQUEST_ID or ""
            return True

    class _Handler(logging.Handler):
        def emit(self, record):
            sys.stdout.write(self.format(record))

    logging.Formatter.converter = time.gmtime
    handler = _Handler()
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n", "%Y-%m-%dT%H:%M:%S"
        )
    )
    handler.addFilter(_Filter())
    logging.getLogger().addHandler(handler)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if level in logging._nameToLevel:
        logging.getLogger().setLevel(level)


# ------------------------------------------------------------------ handler loading
def get_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(FaultException.MALFORMED_HANDLER_NAME, "Bad handler '%s': %s" % (handler, e))
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(
                FaultException.BUILT_IN_MODULE_CONFLICT, "Cannot use built-in module %s as a handler module" % modname
            )
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultException(FaultException.IMPORT_MODULE_ERROR, "Unable to import module '%s': %s" % (modname, e))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(
            FaultException.USER_CODE_SYNTAX_ERROR, "Syntax error in module '%s': %s" % (modname, e), trace
        )
    try:
        return getattr(module, fname)
    except AttributeError:
        raise FaultException(
            FaultException.HANDLER_NOT_FOUND, "Handler '%s' missing on module '%s'" % (fname, modname)
        )


# ------------------------------------------------------------------ the loop
def handle(client, request_handler, headers, body):
    invoke_id = headers.get("lambda-runtime-aws-request-id", "")
    try:
        cc = headers.get("lambda-runtime-client-context")
        ci = headers.get("lambda-runtime-cognito-identity")
        context = LambdaContext(
            invoke_id,
            _parse_json_header(cc, "Client Context") if cc else None,
            _parse_json_header(ci, "Cognito Identity") if ci else None,
            int(headers.get("lambda-runtime-deadline-ms", "0")),
            headers.get("lambda-runtime-invoked-function-arn"),
        )
        try:
            event = json.loads(body)
        except Exception as e:
            raise FaultException(FaultException.UNMARSHAL_ERROR, "Unable to unmarshal input: %s" % e)
        response = request_handler(event, context)
        if isinstance(response, bytes):
            result = response
        else:
            try:
                result = to_json(response).encode("utf-8")
            except Exception as e:
                raise FaultException(FaultException.MARSHAL_ERROR, "Unable to marshal response: %s" % e)
    except FaultException as e:
        error = make_error(e.msg, e.exception_type, e.trace, invoke_id)
    except Exception:
        error = build_fault_result(sys.exc_info(), invoke_id)
    else:
        client.respond(invoke_id, result)
        return
    log_error(error)
    client.error(invoke_id, to_json(error).encode("utf-8"), "Unhandled")


def main():
    global _REQUEST_ID
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or ".") == here:
        sys.path.pop(0)
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    sys.path.insert(0, task_root)
    sys.stdout = _Unbuffered(sys.stdout)
    sys.stderr = _Unbuffered(sys.stderr)
    socket_path = os.environ.pop("_PORTICO_RUNTIME_SOCKET", None)
    if socket_path:
        client = FramedChannel(socket_path)
    else:
        client = RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
    error = None
    try:
        _setup_logging()
        request_handler = get_handler(os.environ.get("_HANDLER", ""))
    except FaultException as e:
        error = make_error(e.msg, e.exception_type, e.trace)
    except Exception:
        error = build_fault_result(sys.exc_info())
    if error is not None:
        log_error(error)
        client.init_error(to_json(error).encode("utf-8"), error["errorType"])
        sys.exit(1)
    client.ready()
    while True:
        headers, body = client.next()
        _REQUEST_ID = headers.get("lambda-runtime-aws-request-id")
        trace = headers.get("lambda-runtime-trace-id")
        if trace is not None:
            os.environ["_X_AMZN_TRACE_ID"] = trace
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        handle(client, request_handler, headers, body)


if __name__ == "__main__":
    main()
