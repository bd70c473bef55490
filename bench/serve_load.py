"""A bounded loopback load test of `alexnet-kfp serve`: C concurrent tritonclient clients (threads,
one client each), each sending R single-image requests of real test images, over gRPC and over
REST, to the float32 and the int8 model. Prints requests/s, p50/p99 latency and the error count
(the goal: zero) under the machine line, and checks every answer against OnnxClassifier.

    python bench/serve_load.py EXPORT_DIR DATASET_DIR [--clients 8] [--requests 250]
"""

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from measure import print_machine

from alexnet_kfp.data.npz import load_split
from alexnet_kfp.inference.onnx_classifier import OnnxClassifier


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(export_dir: Path, log: Path, threads: int | None) -> tuple[subprocess.Popen, int, int]:
    http_port, grpc_port = _free_port(), _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "alexnet_kfp",
            "serve",
            "--model",
            str(export_dir),
            "--http-port",
            str(http_port),
            "--grpc-port",
            str(grpc_port),
            *(["--threads", str(threads)] if threads else []),
        ],
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/v2/health/ready", timeout=2):
                return server, http_port, grpc_port
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit(f"the server did not become ready: {log.read_text()[-2000:]}")


def _load(
    module,
    url: str,
    model: str,
    images: np.ndarray,
    expected: np.ndarray,
    clients: int,
    requests: int,
):
    def run(worker: int):
        client = module.InferenceServerClient(url)
        latencies, errors = [], 0
        for i in range(requests):
            k = (worker * requests + i) % len(images)
            tensor = module.InferInput("image", [1, 32, 32, 3], "UINT8")
            tensor.set_data_from_numpy(images[k : k + 1])
            started = time.perf_counter()
            try:
                top = client.infer(model, [tensor]).as_numpy("probabilities").argmax()
                errors += int(top != expected[k])
            except Exception:
                errors += 1
            latencies.append(time.perf_counter() - started)
        return latencies, errors

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(run, range(clients)))
    wall = time.perf_counter() - started
    latencies = sorted(t for r in results for t in r[0])
    return (
        len(latencies) / wall,
        statistics.median(latencies) * 1e3,
        latencies[int(0.99 * (len(latencies) - 1))] * 1e3,
        sum(r[1] for r in results),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export_dir", type=Path)
    parser.add_argument("dataset_dir", type=Path)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=250, help="per client")
    parser.add_argument("--threads", type=int, help="the server's --threads (default: its default)")
    args = parser.parse_args()
    print_machine()
    images = load_split(args.dataset_dir, "test")[0][:1000]
    with tempfile.TemporaryDirectory() as scratch:
        server, http_port, grpc_port = _start(
            args.export_dir, Path(scratch) / "server.log", args.threads
        )
        try:
            print(
                f"{args.clients} clients x {args.requests} requests of one 32x32 image each, "
                f"loopback, server --threads {args.threads or 'default'}\n"
            )
            print("| model | protocol | requests/s | p50 latency | p99 latency | errors |")
            print("|---|---|---|---|---|---|")
            for model, int8 in (("alexnet", False), ("alexnet_int8", True)):
                expected = OnnxClassifier(args.export_dir, int8=int8).predict(images).argmax(1)
                for name, module, url in (
                    ("gRPC", grpcclient, f"127.0.0.1:{grpc_port}"),
                    ("REST", httpclient, f"127.0.0.1:{http_port}"),
                ):
                    rate, p50, p99, errors = _load(
                        module, url, model, images, expected, args.clients, args.requests
                    )
                    print(
                        f"| {model} | {name} | {rate:,.0f} | {p50:.1f} ms | {p99:.1f} ms | "
                        f"{errors} |",
                        flush=True,
                    )
        finally:
            server.terminate()
            code = server.wait(timeout=60)
    print(f"\nserver stopped by SIGTERM with exit code {code}")


if __name__ == "__main__":
    main()
