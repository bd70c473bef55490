"""Near misses of a plain pixel request: requests that look plain but are not, each to be left to
KServe's path. Run as a module, it prints which of them plain_pixels.grpc_pixels takes, in a process
of its own (kserve's and tritonclient's protobuf modules cannot share one)."""

import json
import sys

import numpy as np


def changed(request, change):
    """`request` after `change`."""
    change(request)
    return request


# Requests that look plain but are not: each must reach KServe's path and be answered there
NEAR_MISSES = {
    "one byte short": lambda r: r.raw_input_contents.__setitem__(0, r.raw_input_contents[0][:-1]),
    "no images": lambda r: (
        r.inputs[0].shape.__setitem__(0, 0),
        r.raw_input_contents.__setitem__(0, b""),
    ),
    "pixels of another shape": lambda r: r.inputs[0].shape.__setitem__(slice(None), [1, 3, 32, 32]),
    "another input name": lambda r: setattr(r.inputs[0], "name", "pixels"),
    "another datatype": lambda r: setattr(r.inputs[0], "datatype", "INT8"),
    "an unknown output": lambda r: r.outputs.add(name="logits"),
    "a version": lambda r: setattr(r, "model_version", "1"),
    "two raw contents": lambda r: r.raw_input_contents.append(b"\0" * 3072),
}


NOT_PLAIN = {
    **NEAR_MISSES,
    "more than 1024 images": lambda r: (
        r.inputs[0].shape.__setitem__(0, 1025),
        r.raw_input_contents.__setitem__(0, b"\0" * 1025 * 3072),
    ),
    "a parameter": lambda r: r.parameters["tag"].__setattr__("string_param", "t"),
    "an input parameter": lambda r: r.inputs[0].parameters["p"].__setattr__("bool_param", True),
    "typed contents beside": lambda r: r.inputs[0].contents.uint_contents.append(1),
    "the classification extension": lambda r: (
        r.outputs.add(name="probabilities")
        .parameters["classification"]
        .__setattr__("int64_param", 3)
    ),
    "two outputs": lambda r: (r.outputs.add(name="probabilities"), r.outputs.add(name="x")),
    "two inputs": lambda r: r.inputs.add(name="image", datatype="UINT8", shape=[1, 32, 32, 3]),
    "a shape of three": lambda r: r.inputs[0].shape.__delitem__(0),
}


def main() -> None:
    """Prints {"plain": [sizes taken], "taken": [near misses taken]} as JSON."""
    from kserve.protocol.grpc import grpc_predict_v2_pb2 as pb

    from alexnet_kfp.serve.plain_pixels import grpc_pixels

    def plain(count: int = 2) -> pb.ModelInferRequest:
        pixels = np.arange(count * 3072, dtype=np.uint32).astype(np.uint8)
        request = pb.ModelInferRequest(model_name="alexnet", id="x")
        request.inputs.add(name="image", datatype="UINT8", shape=[count, 32, 32, 3])
        request.raw_input_contents.append(pixels.tobytes())
        return request

    taken_plain = []
    for count in (1, 2, 1024):
        request = plain(count)
        pixels = grpc_pixels(request)
        request.outputs.add(name="probabilities")  # asking for the one output by name: plain too
        if (
            pixels is not None
            and pixels.shape == (count, 32, 32, 3)
            and pixels.tobytes() == request.raw_input_contents[0]
            and grpc_pixels(request) is not None
        ):
            taken_plain.append(count)
    taken = [name for name, change in NOT_PLAIN.items() if grpc_pixels(changed(plain(), change))]
    json.dump({"plain": taken_plain, "taken": taken}, sys.stdout)


if __name__ == "__main__":
    main()
