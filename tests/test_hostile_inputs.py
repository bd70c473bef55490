"""A careless or hostile user, command by command: every bad input gives one line on stderr that
names the file, URL or option, exit code 2, and no partial output; nothing is silently wrong.
Real subprocesses, hand-made files and loopback servers."""

import json
import pickle
import signal
import socket
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from alexnet_kfp.data.npz import save_npz
from alexnet_kfp.process import alive, descendants
from alexnet_kfp.records import DatasetRecord, SplitParameters

from .archives import members_of, write_tar_gz
from .cli import cli_args, run_cli, run_cli_without_tensorflow


def _one_line(result: subprocess.CompletedProcess, *words: str) -> str:
    """The failure is exit 2 with exactly one stderr line that holds every word."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, lines
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def _last_line(result: subprocess.CompletedProcess, *words: str) -> str:
    """Exit 2, and after any progress lines the error as the last line, holding every word."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("alexnet-kfp ") == 1, (
        lines
    )  # one error line; others are progress or run logs
    for word in words:
        assert word in lines[-1], (word, lines[-1])
    return lines[-1]


def _nothing_left(folder: Path) -> None:
    assert not [p for p in folder.rglob("*") if ".partial-" in p.name], list(folder.rglob("*"))


# --- numbers the steps would misread: NaN, infinities, out of range, empty splits ---------------


@pytest.mark.unit
@pytest.mark.parametrize(
    "command, flags, named",
    [
        ("data", ["--val-fraction", "nan"], "val_fraction"),
        ("data", ["--val-fraction", "7"], "val_fraction"),
        ("data", ["--seed", "-1"], "seed"),
        ("data", ["--seed", "4294967296"], "seed must lie between 0 and 4294967295"),
        ("data", ["--retries", "-1"], "retries"),
        ("data", ["--limit-per-class", "1"], "limit_per_class"),
        ("data", ["--limit-per-class", "50", "--val-fraction", "0.001"], "no validation image"),
        ("data", ["--limit-per-class", "50", "--val-fraction", "0.999"], "no training image"),
        ("data", ["--stall-timeout", "0"], "stall_timeout"),
        ("data", ["--sha256", "xyz"], "sha256"),
        ("train", ["--epochs", "0"], "epochs"),
        ("train", ["--batch-size", "-5"], "batch_size"),
        ("train", ["--learning-rate", "nan"], "learning_rate"),
        ("train", ["--learning-rate", "inf"], "learning_rate"),
        ("train", ["--seed", "-1"], "seed"),
        ("train", ["--seed", str(2**40)], "seed must lie between 0 and 4294967295"),
        ("train", ["--plateau-factor", "1.5"], "plateau_factor"),
        ("train", ["--min-learning-rate", "nan"], "min_learning_rate"),
        ("train", ["--early-stopping-patience", "0"], "early_stopping_patience"),
        ("train", ["--crop-padding", "99"], "crop_padding"),
        ("train", ["--crop-padding", "-1"], "crop_padding"),
        ("train", ["--plateau-cooldown", "-2"], "plateau_cooldown"),
        ("train", ["--variant", "vgg"], "--variant"),
        ("train", ["--epochs", "many"], "--epochs"),
        ("evaluate", ["--min-accuracy", "nan"], "min_accuracy"),
        ("evaluate", ["--min-accuracy", "-0.1"], "min_accuracy"),
        ("evaluate", ["--max-regression", "2"], "max_regression"),
        ("export", ["--opset", "99"], "opset"),
        ("verify", ["--atol", "nan"], "atol"),
        ("verify", ["--atol", "0"], "atol"),
        ("verify", ["--int8-max-loss", "nan"], "int8_max_loss"),
        ("verify", ["--int8-max-loss", "-0.01"], "int8_max_loss"),
        ("verify", ["--int8-max-loss", "2"], "int8_max_loss"),
        ("export", ["--calibration-images", "0"], "calibration_images"),
        ("export", ["--calibration-images", "many"], "--calibration-images"),
    ],
)
def test_bad_numbers_are_refused_before_any_work(command, flags, named, tmp_path):
    # Refused before TensorFlow is imported (the process fails if it was) and, for data, before
    # any download: the source is a closed loopback port.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/cifar-10-python.tar.gz"
    places = {
        "data": ["--source", closed, "--out", tmp_path / "ds", "--cache-dir", tmp_path / "cache"],
        "train": ["--data", tmp_path, "--out", tmp_path / "model"],
        "evaluate": ["--data", tmp_path, "--model", tmp_path, "--out", tmp_path / "e"],
        "export": ["--model", tmp_path, "--out", tmp_path / "o"],
        "verify": ["--data", tmp_path, "--model", tmp_path, "--onnx", tmp_path],
    }[command]
    _one_line(run_cli_without_tensorflow(command, *places, *flags), named)
    assert not (tmp_path / "ds").exists()


@pytest.mark.unit
@pytest.mark.parametrize(
    "pair, named",
    [
        ("min_accuracy=nan", "min_accuracy"),
        ("epochs=0", "epochs"),
        ("batch_size=-5", "batch_size"),
        ("val_fraction=7", "val_fraction"),
        ("learning_rate=inf", "learning_rate"),
        ("parity_atol=-1", "atol"),
        ("int8_max_loss=nan", "int8_max_loss"),
        ("int8_max_loss=1.5", "int8_max_loss"),
        ("variant=vgg", "variant"),
        ("crop_padding=17", "crop_padding"),
        ("crop_padding=-1", "crop_padding"),
        ("plateau_patience=-2", "plateau_patience"),
        ("seed=-3", "seed"),
        ("seed=4294967296", "seed"),
        ("deploy_name=Not_A_Name", "deploy_name"),
        ("sha256=abc", "sha256"),
    ],
)
def test_submit_and_run_refuse_bad_values_before_sending_anything(pair, named, tmp_path):
    # The host is a closed port: the refusal names the value, so nothing was sent.
    _one_line(run_cli("submit", "--host", "http://127.0.0.1:9", pair), named)
    _one_line(run_cli("run", "--runs", tmp_path, "--param", pair), named)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.unit
def test_bad_flags_give_one_line_not_the_usage(tmp_path):
    _one_line(
        run_cli(
            "train",
            "--variant",
            "article",
            "--data",
            tmp_path,
            "--out",
            tmp_path / "m",
            "--epoch",
            "3",
        ),
        "unrecognized",
        "--epoch",
    )
    _one_line(run_cli("data"), "--out")


# --- files that are not what they claim
# ------------------------------------------------------------


def _dataset_like(folder: Path, train: bytes | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    x, y = np.zeros((4, 32, 32, 3), np.uint8), np.arange(4)
    for split in ("train", "val", "test"):
        save_npz(folder / f"{split}.npz", x=x, y=y)
    if train is not None:
        (folder / "train.npz").write_bytes(train)
    return folder


def _forged_header_npz(path: Path) -> bytes:
    """An .npz whose x.npy header declares 29 GiB but holds a few bytes."""
    header = {"descr": "|u1", "fortran_order": False, "shape": (10_000_000, 32, 32, 3)}
    buffer = __import__("io").BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x.npy", buffer.getvalue() + b"\0" * 64)
        archive.writestr("y.npy", b"")
    return path.read_bytes()


@pytest.mark.integration  # a train or evaluate process: TensorFlow's start-up
@pytest.mark.parametrize("content", ["garbage", "truncated", "forged"])
def test_a_broken_dataset_file_is_named(content, tmp_path):
    good = _dataset_like(tmp_path / "good")
    data = {
        "garbage": b"not an npz at all",
        "truncated": (good / "train.npz").read_bytes()[:500],
        "forged": _forged_header_npz(tmp_path / "forged.npz"),
    }[content]
    bad = _dataset_like(tmp_path / "bad", train=data)
    result = run_cli(
        "train", "--variant", "article", "--data", bad, "--out", tmp_path / "model", "--epochs", "1"
    )
    _one_line(result, str(bad / "train.npz"))
    assert not (tmp_path / "model").exists()
    _nothing_left(tmp_path)


@pytest.mark.integration  # a train or evaluate process: TensorFlow's start-up
def test_a_garbage_model_file_is_named_not_reported_missing(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.keras").write_bytes(b"PK\x03\x04 garbage")
    data = _dataset_like(tmp_path / "ds")
    line = _one_line(
        run_cli("evaluate", "--data", data, "--model", model, "--out", tmp_path / "e"),
        str(model / "model.keras"),
        "not a readable Keras model",
    )
    assert "File not found" not in line
    _one_line(
        run_cli("export", "--model", model, "--out", tmp_path / "o"), "not a readable Keras model"
    )
    assert not (tmp_path / "e").exists() and not (tmp_path / "o").exists()


@pytest.mark.unit
def test_a_garbage_onnx_model_is_named(tmp_path):
    (tmp_path / "model.onnx").write_bytes(b"\x08\x07garbage")
    Image.new("RGB", (32, 32)).save(tmp_path / "photo.png")  # something to classify
    _one_line(
        run_cli("predict", tmp_path, "--model", tmp_path / "model.onnx"),
        "model.onnx",
        "not a readable ONNX model",
    )
    _one_line(
        run_cli("predict", tmp_path, "--model", tmp_path / "model.onnx", "--top-k", "0"), "--top-k"
    )


@pytest.mark.integration
def test_metrics_and_baselines_that_are_not_json_or_not_an_accuracy(trained, tmp_path):
    model_dir, _ = trained
    (tmp_path / "metrics.json").write_bytes(b"\xff\xfe not json")
    _one_line(
        run_cli(
            "export",
            "--model",
            model_dir,
            "--out",
            tmp_path / "o",
            "--metrics",
            tmp_path / "metrics.json",
        ),
        "metrics.json",
        "not a JSON file",
    )
    for accuracy in ("NaN", "1.5", '"high"'):
        (tmp_path / "baseline.json").write_text('{"accuracy": ' + accuracy + "}")
        _one_line(
            run_cli(
                "evaluate",
                "--data",
                _dataset_like(tmp_path / "ds"),
                "--model",
                model_dir,
                "--out",
                tmp_path / "e",
                "--baseline",
                tmp_path / "baseline.json",
            ),
            "baseline",
            "accuracy",
        )
    assert not (tmp_path / "o").exists() and not (tmp_path / "e").exists()


@pytest.mark.unit
def test_an_unwritable_output_is_named(small_sha256, small_archive, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    _one_line(
        run_cli(
            "data", "--source", small_archive, "--sha256", small_sha256, "--out", blocker / "ds"
        ),
        "output directory",
        str(blocker / "ds"),
    )


@pytest.mark.unit
def test_class_names_that_are_not_utf8_are_named(small_archive, tmp_path):
    files = members_of(small_archive)
    meta_name = next(n for n in files if n.endswith("batches.meta"))
    meta = pickle.loads(files[meta_name], encoding="bytes")
    meta[b"label_names"] = [b"\xff\xfe" + n for n in meta[b"label_names"]]
    files[meta_name] = pickle.dumps(meta, protocol=2)
    archive = write_tar_gz(tmp_path / "bad.tar.gz", files)
    _one_line(
        run_cli("data", "--source", archive, "--out", tmp_path / "ds"), "batches.meta", "UTF-8"
    )
    assert not (tmp_path / "ds").exists()


# --- loopback servers: silent, HTML, wrong archives -----------------------------------------------


class _SilentServer:
    """Accepts connections and never answers."""

    def __enter__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.held, self.running = [], True
        threading.Thread(target=self._accept, daemon=True).start()
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def _accept(self):
        while self.running:
            try:
                self.held.append(self.socket.accept()[0])
            except OSError:
                return

    def __exit__(self, *exc):
        self.running = False
        self.socket.close()
        for connection in self.held:
            connection.close()


def _fetch_from(url: str, tmp_path: Path) -> list:
    """`alexnet-kfp data` arguments that fetch the server's archive into tmp_path."""
    source = f"{url}/cifar-10-python.tar.gz"
    return ["data", "--source", source, "--out", tmp_path / "ds", "--cache-dir", tmp_path / "cache"]


@pytest.mark.unit
def test_a_silent_server_fails_the_data_step_within_its_stall_timeout(tmp_path):
    with _SilentServer() as url:
        started = time.perf_counter()
        result = run_cli(
            *_fetch_from(url, tmp_path),
            "--stall-timeout",
            "3",
        )
        seconds = time.perf_counter() - started
    _one_line(result, "no data for 3 s")
    assert seconds < 60, seconds  # the default deadline is 120 s; 3 s asked for here
    assert not (tmp_path / "ds").exists()


@pytest.mark.unit
def test_a_silent_server_fails_submit_within_its_timeout():
    with _SilentServer() as url:
        started = time.perf_counter()
        result = run_cli("submit", "--host", url, "--namespace", "team", "--timeout", "3")
        seconds = time.perf_counter() - started
    _one_line(result, "did not answer within 3 s")
    assert seconds < 60, seconds


def _serve(status: int, body: bytes, content_type: str):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.unit
@pytest.mark.parametrize(
    "status, body, content_type, words",
    [
        (
            200,
            b"<html><body>Sign in to Kubeflow</body></html>",
            "text/html",
            ["check --host", "login page"],
        ),
        (200, b"{not json", "application/json", ["check --host"]),
        (200, b"{}", "application/json", ["without a run id"]),
        (500, b"internal error\n" * 50, "text/plain", ["HTTP 500"]),
    ],
)
def test_submit_succeeds_only_with_a_run_id(status, body, content_type, words):
    server = _serve(status, body, content_type)
    try:
        result = run_cli(
            "submit",
            "--host",
            f"http://127.0.0.1:{server.server_address[1]}",
            "--namespace",
            "team",
        )
    finally:
        server.shutdown()
        server.server_close()
    _one_line(result, *words)
    assert "submitted run" not in result.stdout


@pytest.mark.unit
def test_the_cache_answers_to_the_url_and_never_keeps_a_bad_download(
    small_sha256, small_archive, tmp_path
):
    from .http_server import Behaviour, LoopbackServer

    real = small_archive.read_bytes()
    files = members_of(small_archive)
    other = write_tar_gz(tmp_path / "other.tar.gz", {n: d for n, d in files.items()}).read_bytes()
    assert other != real
    behaviour = Behaviour(
        files={
            "/a/cifar-10-copy.tar.gz": real,
            "/b/cifar-10-copy.tar.gz": other,
            "/c/cifar-10-copy.tar.gz": b"<html>login</html>",
        }
    )
    cache = tmp_path / "cache"

    def fetch(folder: str):
        url = server.url(f"/{folder}/cifar-10-copy.tar.gz")
        return run_cli("data", "--source", url, "--out", tmp_path / folder, "--cache-dir", cache)

    with LoopbackServer(behaviour) as server:
        for folder in ("a", "b"):
            assert fetch(folder).returncode == 0
        _last_line(fetch("c"), "not a readable tar archive")
        # the server is fixed: the next run must fetch again
        behaviour.files["/c/cifar-10-copy.tar.gz"] = real
        assert fetch("c").returncode == 0
    import hashlib

    recorded = {
        f: json.loads((tmp_path / f / "dataset.json").read_text())["source_sha256"] for f in "abc"
    }
    assert recorded == {
        "a": small_sha256,
        "b": hashlib.sha256(other).hexdigest(),
        "c": small_sha256,
    }
    assert [r["path"] for r in behaviour.requests].count("/c/cifar-10-copy.tar.gz") == 2


# --- signals: what Kubernetes sends on eviction or preemption
# --------------------------------------


def _terminate_when(process: subprocess.Popen, ready) -> subprocess.CompletedProcess:
    lines = []
    for line in process.stderr:
        lines.append(line)
        if ready(line):
            break
    process.terminate()
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out, "".join(lines) + err)


@pytest.mark.unit
def test_sigterm_during_a_download_cleans_up_and_exits_143(tmp_path):
    with _SilentServer() as url:
        process = subprocess.Popen(
            cli_args(*_fetch_from(url, tmp_path)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(3)  # inside the download's first read
        process.terminate()
        out, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    assert err.strip().splitlines()[-1] == (
        "alexnet-kfp data: interrupted (terminated by SIGTERM); no partial output was left"
    )
    assert not (tmp_path / "ds").exists()
    _nothing_left(tmp_path)


@pytest.mark.integration
def test_sigterm_during_training_cleans_up_and_exits_143(small_dataset, tmp_path):
    process = subprocess.Popen(
        cli_args(
            "train",
            "--variant",
            "article",
            "--data",
            small_dataset,
            "--out",
            tmp_path / "model",
            "--epochs",
            "50",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    result = _terminate_when(process, lambda line: line.startswith("epoch 1/50"))
    assert result.returncode == 143, result.stderr
    assert "interrupted (terminated by SIGTERM)" in result.stderr.strip().splitlines()[-1]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.integration
@pytest.mark.parametrize(
    "sent, code, named",
    [(signal.SIGTERM, 143, "terminated by SIGTERM"), (signal.SIGINT, 130, "SIGINT: Ctrl-C")],
)  # fmt: skip
def test_a_signal_stops_a_local_run_and_its_running_step_at_once(
    small_archive, small_sha256, tmp_path, sent, code, named
):
    # SIGTERM (kill, Kubernetes) reaches the run alone, and kfp.local waited for the running step
    # (two minutes and more) before the run could stop
    runs = tmp_path / "runs"
    process = subprocess.Popen(
        cli_args("run", "--source", small_archive, "--sha256", small_sha256,
                 "--limit-per-class", 50, "--epochs", 50, "--runs", runs),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("  epoch 1/50"):
            break
    steps = descendants(process.pid)  # the processes the run started, and theirs
    assert steps, "the train step runs in a process of its own"
    started = time.monotonic()
    process.send_signal(sent)  # to the run alone, as `kill` and the kubelet send it
    out, err = process.communicate(timeout=120)
    assert time.monotonic() - started < 60, "the run waited for its step"
    assert process.returncode == code, err[-2000:]
    (run_dir,) = runs.iterdir()
    assert err.strip().splitlines()[-1] == (
        f"alexnet-kfp run: interrupted ({named}); its steps were stopped; {run_dir} is incomplete "
        f"(no summary.json) and {runs / 'latest'} still names the last finished run"
    )
    assert not [pid for pid in steps if alive(pid)], "a step outlived its run"
    assert not (run_dir / "summary.json").exists() and not (runs / "latest").exists()
    assert not list(run_dir.rglob("*.partial-*"))  # the step cleaned up its staging directory


# --- the whole pipeline locally: a step that refuses its input fails the run as bad input
# ----------


@pytest.mark.unit
def test_run_names_a_missing_source_or_runs_folder_before_starting(tmp_path):
    _one_line(
        run_cli("run", "--source", tmp_path / "nope.tar.gz", "--runs", tmp_path / "runs"),
        "--source",
        "nope.tar.gz: no such file",
    )
    (tmp_path / "a-file").write_text("")
    _one_line(run_cli("run", "--quick", "--runs", tmp_path / "a-file"), "--runs")


@pytest.mark.unit
def test_run_passes_on_a_steps_one_line_refusal_with_exit_2(small_archive, tmp_path):
    result = run_cli(
        "run", "--source", small_archive, "--sha256", "1" * 64, "--runs", tmp_path / "runs"
    )
    line = _last_line(result, "the data step refused its input", "sha256 mismatch", "full log")
    assert "Traceback" not in line and not list((tmp_path / "runs").rglob("train.npz"))


# --- names the Kubernetes API server would refuse ------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    "args, named",
    [
        (["manifest", "--storage-uri", "s3://models/m", "--namespace", "Team_A"], "namespace"),
        (["manifest", "--storage-uri", "s3://models/m", "--namespace", "team/a"], "namespace"),
        (["manifest", "--storage-uri", "s3://models/m", "--namespace", "a" * 64], "namespace"),
        (["manifest", "--storage-uri", "s3://models/m", "--namespace", "-team"], "namespace"),
        (["manifest", "--storage-uri", "s3://models/m", "--name", "Alexnet"], "name"),
        (["manifest", "--storage-uri", "s3://models/m", "--name", "9lives"], "name"),
        (["run", "--param", "deploy_namespace=Team_A"], "deploy_namespace"),
        (["run", "--param", "deploy_name=alex_net"], "deploy_name"),
        (["compile", "--gpu-type", "nvidia.com/GPU please"], "--gpu-type"),
        (["compile", "--node-selector", "pool=a b"], "--node-selector"),
    ],
)
def test_names_kubernetes_refuses_are_refused_here_first(args, named, tmp_path):
    result = run_cli_without_tensorflow(*args, cwd=tmp_path)
    _one_line(result, named)
    assert not list(tmp_path.iterdir())  # nothing compiled, no run directory


# --- models and data that do not belong together -------------------------------------------------


@pytest.mark.integration  # a train or evaluate process: TensorFlow's start-up
@pytest.mark.parametrize(
    "labels, says",
    [
        (np.array([0, 1, 12, 3]), "labels must be whole numbers 0-9"),
        (np.array([0, 1, -1, 3]), "labels must be whole numbers 0-9"),
        (np.array([0.0, 1.5, 2.0, 3.0]), "labels must be whole numbers 0-9"),
        (np.array([], dtype=np.int64), "holds no image"),
    ],
)
def test_train_refuses_labels_outside_the_classes_before_training(labels, says, tmp_path):
    data = _dataset_like(tmp_path / "ds")
    save_npz(data / "train.npz", x=np.zeros((len(labels), 32, 32, 3), np.uint8), y=labels)
    result = run_cli(
        "train",
        "--variant",
        "article",
        "--data",
        data,
        "--out",
        tmp_path / "model",
        "--epochs",
        "1",
    )
    _one_line(result, str(data / "train.npz"), says)
    assert "epoch 1/1" not in result.stderr  # refused before the first epoch
    assert not (tmp_path / "model").exists()


@pytest.mark.integration
def test_evaluate_refuses_a_data_set_of_other_classes(trained, tmp_path):
    # the 10-class model against a 100-class data set: before, exit 0 and a passed gate
    data = _dataset_like(tmp_path / "ds100")
    names = [f"class{i}" for i in range(100)]
    split = SplitParameters(val_fraction=0.3, seed=0, limit_per_class=None)
    DatasetRecord("python", names, {}, "hand-made", None, None, split, {}).write(data)
    save_npz(data / "test.npz", x=np.zeros((4, 32, 32, 3), np.uint8), y=np.array([5, 50, 99, 0]))
    result = run_cli("evaluate", "--data", data, "--model", trained[0], "--out", tmp_path / "e")
    _one_line(result, "predicts 10 classes, the Dataset has 100")
    assert not (tmp_path / "e").exists()


@pytest.mark.unit
def test_predict_on_a_folder_without_images_says_so(tmp_path):
    # before: nothing printed, exit 0; the folder is checked before the model is read
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "notes.txt").write_text("not an image")
    result = run_cli_without_tensorflow(
        "predict", tmp_path / "photos", "--model", tmp_path / "no-model.onnx"
    )
    _one_line(result, str(tmp_path / "photos"), "no image files")


@pytest.mark.unit
@pytest.mark.parametrize(
    "name, made",
    [
        ("../../../x", "x"),
        ("/etc/passwd", "etc_passwd"),
        ("..", "class-3"),
        ("", "class-3"),
        ("a\0b", "a_b"),
        ("cat", "cat"),
        ("pick-up truck.v2", "pick-up_truck.v2"),
        ("C:\\Windows", "C__Windows"),
    ],
)
def test_a_class_name_from_the_archive_never_becomes_a_path(name, made, tmp_path):
    # run writes a sample image per class, named by the class the archive's batches.meta gives
    from alexnet_kfp.files import file_name_from

    file = file_name_from(name, "class-3")
    assert file == made and (tmp_path / file).resolve().parent == tmp_path.resolve()
