"""What the Kubernetes API server accepts as names, in one place: `manifest`, the deploy step,
`compile`'s placement flags and the checks of a run's parameters refuse what it would refuse; and
what a container runtime accepts as an image reference (`compile`, `manifest --custom`)."""

import re

from alexnet_kfp.errors import InputError

# RFC 1123 label (namespaces), RFC 1035 label (Services, so InferenceServices), qualified names
# (label keys, extended resources: an optional DNS-subdomain prefix) and label values.
_DNS_1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS_1035_LABEL = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
QUALIFIED_NAME = re.compile(
    r"([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
)
LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")


def check_namespace(namespace: str, what: str = "namespace") -> None:
    if not _DNS_1123_LABEL.fullmatch(namespace):
        raise InputError(
            f"{what} {namespace!r} is not a Kubernetes namespace: lower-case letters, digits and "
            "'-', starting and ending with a letter or digit, at most 63 characters"
        )


def check_service_name(name: str, what: str = "InferenceService name") -> None:
    """An RFC 1035 label: KServe derives Service names from it."""
    if not _DNS_1035_LABEL.fullmatch(name or ""):
        raise InputError(
            f"{what} {name!r} must be a DNS label: lower-case letters, digits and '-', starting "
            "with a letter, at most 63 characters"
        )


def is_qualified_name(name: str) -> bool:
    """A label key or an extended resource name (nvidia.com/gpu)."""
    prefix, _, _ = name.rpartition("/")
    return bool(QUALIFIED_NAME.fullmatch(name)) and len(prefix) <= 253


def is_label_value(value: str) -> bool:
    return bool(LABEL_VALUE.fullmatch(value))


_DNS_1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def is_subdomain_name(name: str) -> bool:
    """An RFC 1123 subdomain: the name of most cluster objects (a StorageClass, a PVC)."""
    return bool(_DNS_1123_SUBDOMAIN.fullmatch(name)) and len(name) <= 253


def check_subdomain_name(name: str, what: str) -> None:
    if not is_subdomain_name(name):
        raise InputError(
            f"{what} {name!r} is not a Kubernetes object name: lower-case letters, digits, '-' and "
            "'.', starting and ending with a letter or digit, at most 253 characters"
        )


# distribution/reference's grammar (what Docker, containerd and the kubelet parse): an optional
# registry host[:port], slash-separated lower-case path components, an optional tag, an optional
# digest.
_HOST_PART = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)"
_DOMAIN = rf"(?:{_HOST_PART}(?:\.{_HOST_PART})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_REFERENCE = re.compile(
    rf"(?:{_DOMAIN}/)?{_PATH_PART}(?:/{_PATH_PART})*"
    r"(?::[\w][\w.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?"
)


def check_image(reference: str, what: str) -> None:
    """A reference a container runtime can pull (e.g. ghcr.io/you/alexnet-kfp:0.1.0 or
    registry:5000/ml/alexnet-kfp@sha256:...), or one line naming `what` gave it."""
    name = reference.split("@", 1)[0].rsplit(":", 1)[0] if reference else ""
    if not IMAGE_REFERENCE.fullmatch(reference) or len(name) > 255:
        raise InputError(
            f"{what} {reference!r} is not an image reference: [REGISTRY[:PORT]/]PATH[:TAG]"
            "[@sha256:DIGEST], the path in lower case, e.g. ghcr.io/you/alexnet-kfp:0.1.0"
        )
