"""What the Kubernetes API server accepts as names, in one place: `manifest`, the deploy step,
`compile`'s placement flags and the checks of a run's parameters refuse what it would refuse."""

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


def check_subdomain_name(name: str, what: str) -> None:
    """An RFC 1123 subdomain: the name of most cluster objects (a StorageClass, say)."""
    if not (_DNS_1123_SUBDOMAIN.fullmatch(name) and len(name) <= 253):
        raise InputError(
            f"{what} {name!r} is not a Kubernetes object name: lower-case letters, digits, '-' and "
            "'.', starting and ending with a letter or digit, at most 253 characters"
        )
