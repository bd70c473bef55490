"""Plain pixel requests and their near misses (requests that look plain but are not, each to be left
to KServe's path), over gRPC and REST. Run as a module, it prints which of them plain_pixels.py
takes, in a process of its own (kserve's and tritonclient's protobuf modules cannot share one)."""

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


def rest_plain(count: int = 2, binary: bool = False) -> dict:
    """A plain REST request's JSON (with `binary`, the binary extension's header; its pixels follow
    it, count * 3072 bytes)."""
    tensor = {"name": "image", "shape": [count, 32, 32, 3], "datatype": "UINT8"}
    if binary:
        tensor["parameters"] = {"binary_data_size": count * 3072}
    else:
        tensor["data"] = [(7 * i) % 256 for i in range(count * 3072)]
    return {"id": "r", "inputs": [tensor]}


def _tensor(request: dict) -> dict:
    return request["inputs"][0]


# What a plain REST request may hold beside its one input
REST_PLAIN_FORMS = {
    "nothing more": lambda r: None,
    "no id": lambda r: r.pop("id"),
    "the output by name": lambda r: r.__setitem__("outputs", [{"name": "probabilities"}]),
    "the output in binary": lambda r: r.__setitem__(
        "outputs", [{"name": "probabilities", "parameters": {"binary_data": True}}]
    ),
    "binary outputs": lambda r: r.__setitem__("parameters", {"binary_data_output": True}),
}

# REST requests that look plain but are not (JSON ones; the binary ones below)
REST_NEAR_MISSES = {
    "a float": lambda r: _tensor(r)["data"].__setitem__(5, 1.0),
    "a boolean": lambda r: _tensor(r)["data"].__setitem__(5, True),
    "256": lambda r: _tensor(r)["data"].__setitem__(5, 256),
    "-1": lambda r: _tensor(r)["data"].__setitem__(5, -1),
    "a huge number": lambda r: _tensor(r)["data"].__setitem__(5, 10**30),
    "a string": lambda r: _tensor(r)["data"].__setitem__(5, "7"),
    "nested data": lambda r: _tensor(r).__setitem__("data", [_tensor(r)["data"]]),
    "one value short": lambda r: _tensor(r)["data"].pop(),
    "no images": lambda r: (_tensor(r)["shape"].__setitem__(0, 0), _tensor(r)["data"].clear()),
    "a shape of three": lambda r: _tensor(r)["shape"].pop(0),
    "a boolean in the shape": lambda r: _tensor(r)["shape"].__setitem__(0, True),
    "another datatype": lambda r: _tensor(r).__setitem__("datatype", "INT32"),
    "another input name": lambda r: _tensor(r).__setitem__("name", "pixels"),
    "an input parameter": lambda r: _tensor(r).__setitem__("parameters", {"p": 1}),
    "two inputs": lambda r: r["inputs"].append(dict(_tensor(r))),
    "an id that is a number": lambda r: r.__setitem__("id", 7),
    "inputs that is not a list": lambda r: r.__setitem__("inputs", 5),
    "an input that is not an object": lambda r: r.__setitem__("inputs", [5]),
    "a parameter": lambda r: r.__setitem__("parameters", {"tag": "t"}),
    "binary_data_output not a boolean": lambda r: r.__setitem__(
        "parameters", {"binary_data_output": 1}
    ),
    "an unknown output": lambda r: r.__setitem__("outputs", [{"name": "logits"}]),
    "the classification extension": lambda r: r.__setitem__(
        "outputs", [{"name": "probabilities", "parameters": {"classification": 2}}]
    ),
    "another key": lambda r: r.__setitem__("model_name", "alexnet"),
}
BINARY_NEAR_MISSES = {
    "a binary_data_size too large": lambda r: _tensor(r)["parameters"].__setitem__(
        "binary_data_size", 2 * 3072 + 1
    ),
    "data beside": lambda r: _tensor(r).__setitem__("data", [0]),
    "another datatype": lambda r: _tensor(r).__setitem__("datatype", "INT8"),
}


def rest_body(request: dict, binary: bool, count: int = 2) -> tuple[bytes, int | None]:
    """(body, JSON header length or None) of `request` as sent."""
    header = json.dumps(request).encode()
    if not binary:
        return header, None
    return header + bytes((7 * i) % 256 for i in range(count * 3072)), len(header)


def main() -> None:
    """Prints {"plain": [sizes taken], "taken": [near misses taken]} as JSON, for gRPC, then
    "rest_plain" and "rest_taken" for REST."""
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
    json.dump({"plain": taken_plain, "taken": taken, **_rest()}, sys.stdout)


def _rest() -> dict:
    from alexnet_kfp.serve.plain_pixels import rest_request

    expected = np.array([(7 * i) % 256 for i in range(2 * 3072)], np.uint8).reshape(2, 32, 32, 3)
    plain = []
    for binary in (False, True):
        for extra, change in REST_PLAIN_FORMS.items():
            request = rest_request(*rest_body(changed(rest_plain(binary=binary), change), binary))
            if request is not None and np.array_equal(request.images, expected):
                plain.append(f"{'binary' if binary else 'JSON'}: {extra}")
    taken = [
        f"{'binary' if binary else 'JSON'}: {name}"
        for binary, misses in ((False, REST_NEAR_MISSES), (True, BINARY_NEAR_MISSES))
        for name, change in misses.items()
        if rest_request(*rest_body(changed(rest_plain(binary=binary), change), binary))
    ]
    broken = rest_request(b'{"inputs": [', None), rest_request(b"[1, 2]", None)
    return {"rest_plain": plain, "rest_taken": taken + [str(b) for b in broken if b]}


if __name__ == "__main__":
    main()
