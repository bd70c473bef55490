"""The project image as a KServe custom predictor: run the custom manifest's command in the image
(uid 1000, read-only root, the model repository from the DockerRunner pipeline mounted read-only
at /mnt/models, as KServe's storage initializer would leave it), query it from the host with
tritonclient over REST and gRPC, then stop it with SIGTERM (`docker stop`) and expect exit code 0.
Usage: python .ci/serve_check.py IMAGE WORK_DIR"""

import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient

from alexnet_kfp.deploy.manifests import custom_service


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    image, work = sys.argv[1], Path(sys.argv[2])
    repository = next(p.parent.parent for p in work.rglob("alexnet_int8/config.pbtxt"))
    command = custom_service("s3://unused/model_repository", image)["spec"]["predictor"][
        "containers"
    ][0]["command"]
    http_port, grpc_port = _free_port(), _free_port()
    command = [
        *command[: command.index("--http-port")],
        "--http-port",
        str(http_port),
        "--grpc-port",
        str(grpc_port),
    ]
    container = subprocess.run(
        [
            "docker",
            "run",
            "-d",
            "--network",
            "host",
            "--user",
            "1000",
            "--read-only",
            "--tmpfs",
            "/tmp",
            "-v",
            f"{repository}:/mnt/models:ro",
            image,
            *command,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    try:
        rest = httpclient.InferenceServerClient(f"127.0.0.1:{http_port}")
        deadline = time.monotonic() + 120
        while True:
            try:
                if rest.is_server_ready():
                    break
            except Exception:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(
                    subprocess.run(
                        ["docker", "logs", container], capture_output=True, text=True
                    ).stdout
                )
            time.sleep(1)
        images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
        answers = []
        for module, client in (
            (httpclient, rest),
            (grpcclient, grpcclient.InferenceServerClient(f"127.0.0.1:{grpc_port}")),
        ):
            tensor = module.InferInput("image", list(images.shape), "UINT8")
            tensor.set_data_from_numpy(images)
            for model in ("alexnet", "alexnet_int8"):
                answers.append(client.infer(model, [tensor]).as_numpy("probabilities"))
        assert all(a.shape == (4, 10) for a in answers), [a.shape for a in answers]
        np.testing.assert_allclose(answers[0], answers[2], atol=1e-6)  # REST and gRPC agree
    finally:
        subprocess.run(["docker", "stop", "-t", "60", container], capture_output=True, check=True)
        code = subprocess.run(
            ["docker", "inspect", "-f", "{{.State.ExitCode}}", container],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        subprocess.run(["docker", "rm", container], capture_output=True)
    assert code == "0", f"the server exited with {code} on SIGTERM"
    print(
        f"custom predictor in {image}: ready, alexnet and alexnet_int8 answered over REST and "
        "gRPC, stopped by SIGTERM with exit code 0"
    )


if __name__ == "__main__":
    main()
