"""`alexnet-kfp serve` under load, adaptive batching off and on, side by side in one run.

    python bench/serve_load.py EXPORT_DIR DATASET_DIR [--seconds 8] [--server-cores 1]

The server and the load run on cores of their own (taskset): the server on the last
--server-cores cores with that many onnxruntime threads, the load on the others, in processes of
its own (4 processes of 16 client threads for 64 clients), so that neither starves the other.
For each model (float32, int8), protocol (gRPC; REST with the binary tensor extension; REST
JSON), batching (--max-batch-size 1; the default) and load (64 clients; 1 client), each client
sends single 32x32 test images for --seconds: requests/s, p50 and p99 latency, wrong answers
(checked against OnnxClassifier). Beside them: the model's own batch-1 and batch-256 rates on the
server's cores, and what they bound (batching's gain; the cores 64 clients within 50 ms need),
and decoding a 12 MP and a 50 MP JPEG, draft against whole (jpeg_draft.py).
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import print_machine  # noqa: E402

from alexnet_kfp.data.npz import load_split  # noqa: E402
from alexnet_kfp.inference.onnx_classifier import OnnxClassifier  # noqa: E402
from alexnet_kfp.serve.config import DEFAULT_BATCH_DELAY_MS, DEFAULT_BATCH_SIZE  # noqa: E402

PROTOCOLS = ("gRPC", "REST binary", "REST JSON")
PROCESSES = 4  # load processes for the 64-client load


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pinned(cores: str) -> list[str]:
    return ["taskset", "-c", cores]


def _start(export_dir: Path, log: Path, cores: str, threads: int, batch: int):
    http_port, grpc_port = _free_port(), _free_port()
    command = [
        *_pinned(cores), sys.executable, "-m", "alexnet_kfp", "serve", "--model", str(export_dir),
        "--http-port", str(http_port), "--grpc-port", str(grpc_port), "--threads", str(threads),
        "--max-batch-size", str(batch),
    ]  # fmt: skip
    server = subprocess.Popen(command, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/v2/health/ready", timeout=2):
                return server, http_port, grpc_port
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit(f"the server did not become ready: {log.read_text()[-2000:]}")


def client_process(args: argparse.Namespace) -> None:
    """One load process: --threads clients sending until --until (a wall-clock time); prints
    its latencies and wrong answers as JSON."""
    import tritonclient.grpc as grpcclient
    import tritonclient.http as httpclient

    images = np.load(args.images)
    expected = np.load(args.expected)
    grpc = args.protocol == "gRPC"
    module = grpcclient if grpc else httpclient
    url = f"127.0.0.1:{args.grpc_port if grpc else args.http_port}"
    binary = args.protocol == "REST binary"
    results: list[tuple[list[float], int]] = []

    def run(worker: int) -> None:
        client = module.InferenceServerClient(url)
        latencies, wrong, i = [], 0, 0
        warm_up = module.InferInput("image", [1, 32, 32, 3], "UINT8")
        warm_up.set_data_from_numpy(images[:1])
        client.infer(args.model, [warm_up])  # connected before the clock starts
        while time.time() < args.start:
            time.sleep(0.001)
        while time.time() < args.until:
            k = (worker * 7919 + i) % len(images)
            tensor = module.InferInput("image", [1, 32, 32, 3], "UINT8")
            if grpc:
                tensor.set_data_from_numpy(images[k : k + 1])
                outputs = None
            else:
                tensor.set_data_from_numpy(images[k : k + 1], binary_data=binary)
                outputs = [httpclient.InferRequestedOutput("probabilities", binary_data=binary)]
            started = time.perf_counter()
            try:
                answer = client.infer(args.model, [tensor], outputs=outputs)
                wrong += int(answer.as_numpy("probabilities").argmax() != expected[k])
            except Exception:
                wrong += 1
            latencies.append(time.perf_counter() - started)
            i += 1
        results.append((latencies, wrong))

    threads = [threading.Thread(target=run, args=(args.first + w,)) for w in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"latencies": [t for r in results for t in r[0]],
                      "wrong": sum(r[1] for r in results)}))  # fmt: skip


def _load(setup: dict, protocol: str, model: str, clients: int, seconds: float, cores: str):
    """(requests/s, p50 ms, p99 ms, wrong, how busy the load's cores were) of `clients` clients
    for `seconds`."""
    processes = PROCESSES if clients >= PROCESSES else 1
    start = time.time() + 3  # every process started and connected
    command = [
        *_pinned(cores), sys.executable, __file__, "--client", "--protocol", protocol,
        "--model", model, "--http-port", str(setup["http"]), "--grpc-port", str(setup["grpc"]),
        "--images", setup["images"], "--expected", setup["expected"][model],
        "--start", str(start), "--until", str(start + seconds),
        "--threads", str(clients // processes),
    ]  # fmt: skip
    running = [
        subprocess.Popen([*command, "--first", str(p * clients)], stdout=subprocess.PIPE, text=True)
        for p in range(processes)
    ]
    time.sleep(max(start - time.time(), 0) + seconds / 4)
    before = _cpu_ticks()
    time.sleep(seconds / 2)  # the middle half of the load
    busy = _busy_share(before, _cpu_ticks(), cores)
    reports = [json.loads(p.communicate()[0]) for p in running]
    latencies = sorted(t for r in reports for t in r["latencies"])
    return (
        len(latencies) / seconds,
        statistics.median(latencies) * 1e3,
        latencies[int(0.99 * (len(latencies) - 1))] * 1e3,
        sum(r["wrong"] for r in reports),
        busy,
    )


def _cpu_ticks() -> dict[int, list[int]]:
    """Each core's time counters from /proc/stat (user, nice, system, idle, iowait, ...)."""
    with open("/proc/stat") as stat:
        rows = [line.split() for line in stat if line.startswith("cpu") and line[3] != " "]
    return {int(row[0][3:]): [int(v) for v in row[1:]] for row in rows}


def _busy_share(before: dict, after: dict, cores: str) -> float:
    """How busy the cores `cores` ("0" or "0-1") were between two readings."""
    first, _, last = cores.partition("-")
    spent = busy = 0
    for core in range(int(first), int(last or first) + 1):
        ticks = [b - a for a, b in zip(before[core], after[core], strict=True)]
        spent += sum(ticks)
        busy += sum(ticks) - ticks[3] - ticks[4]
    return busy / spent if spent else 0.0


def _model_rate(export_dir: Path, int8: bool, cores: str, threads: int, batch: int) -> float:
    """The model's own images/s at `batch` with the server's threads on the server's cores."""
    script = (
        "import sys, time, numpy as np\n"
        "from alexnet_kfp.inference.onnx_classifier import OnnxClassifier\n"
        f"c = OnnxClassifier(sys.argv[1], int8={int8}, threads={threads})\n"
        f"x = np.random.default_rng(0).integers(0, 256, ({batch}, 32, 32, 3), dtype=np.uint8)\n"
        f"c.predict(x); n = max(8, 2048 // {batch}); t = time.perf_counter()\n"
        "for _ in range(n): c.predict(x)\n"
        f"print(n * {batch} / (time.perf_counter() - t))\n"
    )
    out = subprocess.run(
        [*_pinned(cores), sys.executable, "-c", script, str(export_dir)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(out.stdout.split()[-1])


def _print_bounds(model: str, one: float, full: float, server_cores: int) -> None:
    """What no server of this model can beat on these cores: batching turns at best the model's
    batch-1 rate into its batch-256 rate; and 64 waiting clients with p99 at most 50 ms need at
    least 64 / 0.05 = 1,280 answers/s (Little's law), whatever the server."""
    print(
        f"{model}: the model alone on the server's cores: batch 1 {one:,.0f} images/s, batch 256 "
        f"{full:,.0f}: batching can gain at most {full / one:.2f}x; 64 clients within 50 ms need "
        f"1,280 answers/s, {1280 / full * server_cores:.1f} such cores at the least"
    )


def main() -> None:
    if "--client" in sys.argv:
        parser = argparse.ArgumentParser()
        for flag in ("--protocol", "--model", "--images", "--expected"):
            parser.add_argument(flag)
        for flag in ("--http-port", "--grpc-port", "--threads", "--first"):
            parser.add_argument(flag, type=int)
        for flag in ("--start", "--until"):
            parser.add_argument(flag, type=float)
        parser.add_argument("--client", action="store_true")
        return client_process(parser.parse_args())
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export_dir", type=Path)
    parser.add_argument("dataset_dir", type=Path)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--server-cores", type=int, default=1)
    args = parser.parse_args()
    cores = os.cpu_count() or 2
    server_cores = f"{cores - args.server_cores}-{cores - 1}"
    load_cores = f"0-{cores - args.server_cores - 1}"
    threads = args.server_cores
    print_machine()
    print(
        f"server: cores {server_cores} ({args.server_cores}), --threads {threads}; load: cores "
        f"{load_cores}, separate processes; {args.seconds:g} s per cell; batching on: "
        f"--max-batch-size {DEFAULT_BATCH_SIZE} --max-batch-delay-ms {DEFAULT_BATCH_DELAY_MS:g}\n"
    )
    models = {"alexnet": False, "alexnet_int8": True}
    rates = {}
    for model, int8 in models.items():
        one = _model_rate(args.export_dir, int8, server_cores, threads, 1)
        rates[model] = _model_rate(args.export_dir, int8, server_cores, threads, 256)
        _print_bounds(model, one, rates[model], args.server_cores)
    images = load_split(args.dataset_dir, "test")[0][:1000]
    table: dict = {}
    with tempfile.TemporaryDirectory() as scratch:
        np.save(f"{scratch}/images.npy", images)
        expected = {}
        for model, int8 in models.items():
            expected[model] = f"{scratch}/{model}.npy"
            labels = OnnxClassifier(args.export_dir, int8=int8).predict(images).argmax(1)
            np.save(expected[model], labels)
        for batching, batch in (("off", 1), ("on", DEFAULT_BATCH_SIZE)):
            log = Path(scratch) / f"server-{batching}.log"
            server, http, grpc = _start(args.export_dir, log, server_cores, threads, batch)
            setup = {"http": http, "grpc": grpc, "images": f"{scratch}/images.npy",
                     "expected": expected}  # fmt: skip
            try:
                for model in models:
                    for protocol in PROTOCOLS:
                        for clients in (64, 1):
                            table[model, protocol, clients, batching] = _load(
                                setup, protocol, model, clients, args.seconds, load_cores
                            )
            finally:
                server.terminate()
                server.wait(timeout=60)
    _print_table(table, rates)
    from jpeg_draft import main as jpeg_main

    print()
    sys.argv = sys.argv[:1]
    jpeg_main()


def _print_table(table: dict, rates: dict) -> None:
    print("\n| model | protocol | clients | batching | requests/s | p50 | p99 | wrong | on / off | "
          "share of batch-256 rate | load's cores busy |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (model, protocol, clients, batching), (rate, p50, p99, wrong, busy) in table.items():
        off = table[model, protocol, clients, "off"][0]
        ratio = f"{rate / off:.2f}x" if batching == "on" else ""
        print(
            f"| {model} | {protocol} | {clients} | {batching} | {rate:,.0f} | {p50:.1f} ms | "
            f"{p99:.1f} ms | {wrong} | {ratio} | {rate / rates[model]:.0%} | {busy:.0%} |"
        )


if __name__ == "__main__":
    main()
