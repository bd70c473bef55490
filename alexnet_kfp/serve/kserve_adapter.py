"""The one place that reaches into KServe beyond its documented API, written for KServe 0.21.

KServe is configured the documented way elsewhere: its own command-line flags (which it parses
from sys.argv when imported, as a custom model server's `python model.py --flag` does) and
`kserve.ModelServer`'s arguments. Five needs have no documented hook in 0.21, so they live here:
listening on one address (KServe hard-codes 0.0.0.0 for REST and [::] for gRPC), the REST app
that our request guards wrap, refusing the repository API's load and unload (KServe answers
them for anyone who reaches the server: an unloaded model would be gone while readiness says
200), gRPC's model readiness and metadata for a version (KServe answers for the model, whatever
version is asked; this server has none), and answering plain pixel requests without KServe's
generic decoding (plain_pixels.py). `check_internals()` names what is missing on
another KServe, and tests/test_kserve_adapter.py fails on a version this module was not written
for.
"""

import contextlib
import importlib.metadata
import sys

WRITTEN_FOR = "0.21"


class KServeChanged(RuntimeError):
    """The installed KServe lacks an internal this module relies on."""


def installed_version() -> str:
    return importlib.metadata.version("kserve")


@contextlib.contextmanager
def kserve_flags(*flags: str):
    """sys.argv as KServe's parser, run when kserve.model_server is first imported, should read it:
    KServe's own flags only (ours, --http-port and the rest, must not reach it)."""
    saved = sys.argv
    sys.argv = [saved[0], *flags]
    try:
        yield
    finally:
        sys.argv = saved


def check_internals() -> None:
    """Every internal used here still exists, or one line naming it and the version."""
    from kserve import model_server
    from kserve.protocol.grpc import server as grpc_server
    from kserve.protocol.rest.server import RESTServer

    missing = [
        name
        for name, present in (
            ("kserve.model_server.app", hasattr(model_server, "app")),
            ("kserve.model_server.RESTServer", hasattr(model_server, "RESTServer")),
            ("kserve.protocol.grpc.server.aio", hasattr(grpc_server, "aio")),
            (
                "kserve.protocol.grpc.server.InferenceServicer",
                hasattr(grpc_server, "InferenceServicer"),
            ),
            (
                "RESTServer.__init__ setting self.config",
                "config" in RESTServer.__init__.__code__.co_names,
            ),
            (
                "InferenceServicer.__init__ setting self._data_plane",
                "_data_plane" in grpc_server.InferenceServicer.__init__.__code__.co_names,
            ),
        )
        if not present
    ]
    if missing:
        raise KServeChanged(
            f"KServe {installed_version()} lacks {', '.join(missing)}; this server was written "
            f"for KServe {WRITTEN_FOR} (pip install 'kserve=={WRITTEN_FOR}.*')"
        )


def _sets_config(rest_server: type) -> bool:
    """Whether RESTServer.__init__ assigns self.config (the uvicorn config listen_on changes)."""
    return "config" in rest_server.__init__.__code__.co_names  # type: ignore[misc]


def rest_app():
    """The FastAPI app KServe's REST server serves (module-level in KServe 0.21)."""
    from kserve import model_server

    return model_server.app


def listen_on(address: str) -> None:
    """Make KServe's servers listen on `address` only. KServe 0.21 hard-codes its addresses (REST:
    uvicorn.Config(host="0.0.0.0") in RESTServer.__init__; gRPC: add_insecure_port("[::]:port")
    in GRPCServer.start), so its REST server class is replaced by one that sets the host, and the
    gRPC server's add_insecure_port is given the address."""
    from kserve import model_server
    from kserve.protocol.grpc import server as grpc_server
    from kserve.protocol.rest.server import RESTServer

    class _AddressedRESTServer(RESTServer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.config.host = address

    model_server.RESTServer = _AddressedRESTServer
    aio = grpc_server.aio
    host = f"[{address}]" if ":" in address else address

    class _AddressedAio:
        def __getattr__(self, name):
            return getattr(aio, name)

        def server(self, *args, **kwargs):
            made = aio.server(*args, **kwargs)
            add = made.add_insecure_port
            made.add_insecure_port = lambda listen: add(f"{host}:{listen.rsplit(':', 1)[1]}")
            return made

    grpc_server.aio = _AddressedAio()


def fixed_models(server) -> None:
    """Make `server` (a kserve.ModelServer, before start()) refuse the repository API's load and
    unload on both protocols: KServe 0.21 builds one ModelRepositoryExtension in ModelServer's
    __init__ and hands it to the REST and gRPC servers in start(). Its InvalidInput becomes HTTP
    400 and gRPC INVALID_ARGUMENT; the index (which models are ready) still answers."""
    from kserve.errors import InvalidInput
    from kserve.protocol.model_repository_extension import ModelRepositoryExtension

    class _FixedModels(ModelRepositoryExtension):
        async def load(self, model_name: str) -> dict:
            raise InvalidInput(_REFUSAL.format(verb="load", name=model_name))

        async def unload(self, model_name: str) -> dict:
            raise InvalidInput(_REFUSAL.format(verb="unload", name=model_name))

    server.model_repository_extension = _FixedModels(server.registered_models)


_REFUSAL = (
    "cannot {verb} model {name!r}: this server serves the models it was started with; restart it "
    "with another --model to serve others"
)


def our_grpc_servicer() -> None:
    """KServe's gRPC servicer (made in GRPCServer.start from this module's InferenceServicer), with
    two changes. ModelReady and ModelMetadata for a model version answer NOT_FOUND, as REST's
    versioned paths answer 404 (KServe 0.21 ignores the version and answers for the model). And
    ModelInfer answers a plain pixel request itself (plain_pixels.py), the rest through KServe."""
    from kserve.errors import ModelNotFound
    from kserve.protocol.grpc import server as grpc_server

    from alexnet_kfp.serve.kserve_model import AlexNetModel
    from alexnet_kfp.serve.plain_pixels import answer_grpc

    class _NoSuchVersion(ModelNotFound):
        def __init__(self, name: str, version: str):
            super().__init__(name)
            self.reason = f"model {name!r} has no version {version!r}: this server has no versions"

    def unversioned(request) -> None:
        if request.version:
            raise _NoSuchVersion(request.name, request.version)

    class _OurServicer(grpc_server.InferenceServicer):
        async def ModelReady(self, request, context):
            unversioned(request)
            return await super().ModelReady(request, context)

        async def ModelMetadata(self, request, context):
            unversioned(request)
            return await super().ModelMetadata(request, context)

        async def ModelInfer(self, request, context):
            model = self._data_plane.model_registry.get_model(request.model_name)
            if isinstance(model, AlexNetModel) and model.ready:
                answer = await answer_grpc(model, request)
                if answer is not None:
                    return answer
            return await super().ModelInfer(request, context)

    grpc_server.InferenceServicer = _OurServicer
