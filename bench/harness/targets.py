"""The targets measured side by side: how each starts on loopback, how it is known to be up,
and how each scenario is deployed to it (or why it cannot be)."""

import os
import shutil
import tempfile
import time

from . import aws
from .aws import NotSupported
from .load import Endpoint
from .procs import free_port, wait_http

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(BENCH)
PEERS = os.path.join(BENCH, "peers")
PATH_AND_QUERY = "/greeting?greeter=me"


class Target:
    name = ""
    description = ""
    startup_deadline = 30.0

    def __init__(self):
        self.proc = None
        self.port = None
        self.unavailable = None  # why this target cannot run here, if it cannot

    def argv(self):
        raise NotImplementedError

    def env(self):
        return dict(os.environ)

    def cwd(self):
        return None

    def health_path(self):
        return "/"

    def healthy(self, status):
        return True

    def start(self, registry, logdir):
        """Starts the target; returns seconds from spawn to its first healthy answer."""
        self.port = free_port()
        log_path = os.path.join(logdir, f"{self.name}.log")
        since = time.perf_counter()
        self.proc = registry.start(self.argv(), log_path, env=self.env(), cwd=self.cwd())
        try:
            elapsed, _ = wait_http(
                "127.0.0.1",
                self.port,
                self.health_path(),
                self.startup_deadline,
                proc=self.proc,
                since=since,
                accept=self.healthy,
            )
        except RuntimeError as err:
            raise RuntimeError(f"did not start: {err} (log: {log_path})") from err
        return elapsed

    def precheck(self, scenario):
        """Why scenario cannot run on this target, if that is known without starting it."""
        return None

    def deploy(self, scenario):
        raise NotImplementedError

    def stop(self, registry):
        if self.proc is not None:
            registry.stop(self.proc)
            self.proc = None


class Baseline(Target):
    name = "baseline"
    description = "bare hyper 1 server answering the seed bytes (crates/bench-baseline)"
    startup_deadline = 10.0

    def __init__(self, binary):
        super().__init__()
        self.binary = binary
        if not os.access(binary, os.X_OK):
            self.unavailable = f"no binary at {binary}"

    def argv(self):
        return [self.binary, f"127.0.0.1:{self.port}"]

    def deploy(self, scenario):
        return Endpoint(f"http://127.0.0.1:{self.port}{PATH_AND_QUERY}")


class Portico(Target):
    name = "portico"
    description = "target/release/portico serve (fresh data dir)"
    startup_deadline = 30.0

    def __init__(self, binary):
        super().__init__()
        self.binary = binary
        self.data_dir = None
        if not os.access(binary, os.X_OK):
            self.unavailable = f"no binary at {binary}"

    def argv(self):
        self.data_dir = tempfile.mkdtemp(prefix="portico-bench-")
        return [
            self.binary,
            "serve",
            "--listen",
            f"127.0.0.1:{self.port}",
            "--data-dir",
            self.data_dir,
        ]

    def health_path(self):
        return "/_portico/health"

    def healthy(self, status):
        return status == 200

    def deploy(self, scenario):
        lam, apigw, apigw2 = aws.clients(f"http://127.0.0.1:{self.port}")
        if scenario.kind == "http-quick":
            api_id = aws.deploy_http_quick(lam, apigw2, scenario)
            return Endpoint(
                f"http://127.0.0.1:{self.port}{PATH_AND_QUERY}",
                host=f"{api_id}.execute-api.localhost:{self.port}",
            )
        api_id = aws.deploy_rest(lam, apigw, scenario)
        return Endpoint(
            f"http://127.0.0.1:{self.port}/restapis/{api_id}/{aws.STAGE}"
            f"/_user_request_{PATH_AND_QUERY}"
        )

    def stop(self, registry):
        super().stop(registry)
        if self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None


class ServerlessOffline(Target):
    name = "serverless-offline"
    description = "serverless@3 + serverless-offline@13 (bench/peers/serverless-offline)"
    startup_deadline = 90.0
    # The paths bench/peers/serverless-offline/serverless.yml gives each scenario.
    PATHS = {
        "seed-node": "/test/greeting",
        "seed-python": "/test/py-greeting",
        "proxy-node": "/test/proxy-greeting",
        "httpapi-node": "/greeting",
    }

    def __init__(self):
        super().__init__()
        self.service_dir = os.path.join(PEERS, "serverless-offline")
        self.cli = os.path.join(PEERS, "node_modules", ".bin", "serverless")
        if not os.access(self.cli, os.X_OK):
            self.unavailable = "not installed (npm install in bench/peers failed or was skipped)"
        elif shutil.which("node") is None:
            self.unavailable = "node is not on PATH"

    def argv(self):
        self.lambda_port = free_port()
        return [
            self.cli,
            "offline",
            "start",
            "--host",
            "127.0.0.1",
            "--httpPort",
            str(self.port),
            "--lambdaPort",
            str(self.lambda_port),
        ]

    def env(self):
        env = dict(os.environ)
        # No telemetry or update checks: the machine has no network beyond the registries.
        env.update(SLS_TELEMETRY_DISABLED="1", SLS_NOTIFICATIONS_MODE="off", SLS_DEPRECATION_DISABLE="*")
        return env

    def cwd(self):
        return self.service_dir

    def health_path(self):
        # Any answer (its 404 page) means the HTTP server is up; no handler is loaded by it.
        return "/_bench/startup"

    def precheck(self, scenario):
        if scenario.kind == "rest-mock":
            return "serverless-offline has no MOCK integration (http events run handlers)"
        if scenario.name not in self.PATHS:
            return "no equivalent in serverless.yml"
        return None

    def deploy(self, scenario):
        return Endpoint(f"http://127.0.0.1:{self.port}{self.PATHS[scenario.name]}?greeter=me")


class LocalStack(Target):
    name = "localstack"
    description = "localstack-core on the host, no Docker (bench/peers/localstack-venv)"
    startup_deadline = 90.0

    def __init__(self, python, reason=None):
        super().__init__()
        self.python = python
        self.volume = None
        self.unavailable = reason
        if reason is None and (python is None or not os.access(python, os.X_OK)):
            self.unavailable = "its virtualenv is missing"

    def argv(self):
        return [self.python, "-m", "localstack.runtime.main"]

    def env(self):
        env = dict(os.environ)
        self.volume = tempfile.mkdtemp(prefix="localstack-bench-")
        env.update(
            GATEWAY_LISTEN=f"127.0.0.1:{self.port}",
            DISABLE_EVENTS="1",
            # Its DNS server and certificate download want the internet: off.
            DNS_ADDRESS="0",
            SKIP_SSL_CERT_DOWNLOAD="1",
            LOCALSTACK_VOLUME_DIR=self.volume,
        )
        return env

    def health_path(self):
        return "/_localstack/health"

    def healthy(self, status):
        return status == 200

    def deploy(self, scenario):
        lam, apigw, apigw2 = aws.clients(f"http://127.0.0.1:{self.port}")
        try:
            if scenario.kind == "http-quick":
                api_id = aws.deploy_http_quick(lam, apigw2, scenario)
                return Endpoint(
                    f"http://127.0.0.1:{self.port}{PATH_AND_QUERY}",
                    host=f"{api_id}.execute-api.localhost.localstack.cloud:{self.port}",
                )
            api_id = aws.deploy_rest(lam, apigw, scenario)
        except NotSupported as err:
            if scenario.runtime and "State Failed" in str(err):
                raise NotSupported(f"{err} (its Lambda downloads a runtime and runs it in Docker: neither is possible here)") from err
            raise
        return Endpoint(
            f"http://127.0.0.1:{self.port}/_aws/execute-api/{api_id}/{aws.STAGE}{PATH_AND_QUERY}"
        )

    def stop(self, registry):
        super().stop(registry)
        if self.volume:
            shutil.rmtree(self.volume, ignore_errors=True)
            self.volume = None
