"""Promotion with a rule: move an alias (say `production`) to the version another alias (say
`candidate`) holds, only when that version passed its gate and verify, is not a trial, and scores
no lower on its test split than the version the alias holds now. `force` moves it anyway, and the
version records that it was forced past which rule."""

from dataclasses import dataclass, field

from alexnet_kfp.errors import InputError
from alexnet_kfp.tracking.registered_model import (
    LOOKUP_DEADLINE_S,
    registry_client,
    registry_failure,
    within,
)
from alexnet_kfp.tracking.registry import (
    ACCURACY_TAG,
    GATE_TAG,
    TRIAL_TAG,
    VERIFIED_TAG,
    check_alias,
    check_model_name,
)
from alexnet_kfp.untrusted import number, whole_number

FORCED_TAG = "promoted_by_force"


@dataclass
class Version:
    """A registered version as promotion reads it: its number and its tags."""

    number: int
    tags: dict[str, str]

    @property
    def accuracy(self) -> float | None:
        try:
            return number(self.tags.get(ACCURACY_TAG, ""), ACCURACY_TAG)
        except InputError:
            return None


@dataclass
class Promotion:
    """What `promote` did: `target` now names `chosen` (it named `previous`); `broken` are the
    rules it was forced past."""

    name: str
    source: str
    target: str
    chosen: Version
    previous: Version | None
    broken: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.previous is None or self.previous.number != self.chosen.number


def rule_problems(chosen: Version, previous: Version | None) -> list[str]:
    """The rules `chosen` breaks as the successor of `previous` (empty: it may be promoted)."""
    problems = []
    if chosen.tags.get(GATE_TAG) != "passed":
        problems.append("its registration records no passed gate")
    if chosen.tags.get(VERIFIED_TAG) != "true":
        problems.append("its registration records no verified ONNX model")
    if chosen.tags.get(TRIAL_TAG) != "false":
        problems.append("it is a trial model (trained on a sample), or says nothing of it")
    if chosen.accuracy is None:
        problems.append(f"it records no {ACCURACY_TAG}")
    elif previous is not None and previous.accuracy is not None:
        if chosen.accuracy < previous.accuracy:
            problems.append(
                f"its test accuracy {chosen.accuracy:.4f} is below version {previous.number}'s "
                f"{previous.accuracy:.4f} (the no-regression rule)"
            )
    return problems


def promote(name: str, source: str, target: str, force: bool = False) -> Promotion:
    """Point alias `target` of registered model `name` at the version alias `source` names, by
    the rule (rule_problems) or, with `force`, past it (recorded in the version's
    promoted_by_force tag); one line when the rule or the registry says no."""
    check_model_name(name, "NAME")
    check_alias(source, "--from")
    check_alias(target, "--to")
    if source == target:
        raise InputError(f"--from and --to are both {source!r}: nothing to move")
    client = registry_client(f"promote {name}")

    def decide() -> Promotion:
        chosen = _version(client, name, source)
        if chosen is None:
            raise InputError(f"{name} has no version with the alias {source!r}")
        previous = _version(client, name, target)
        return Promotion(name, source, target, chosen, previous, rule_problems(chosen, previous))

    promotion = _registry_call(f"promote {name}", lambda: decide())
    if promotion.broken and not force:
        raise InputError(
            f"models:/{name}/{promotion.chosen.number} ({source}) is not promoted to {target}: "
            f"{'; '.join(promotion.broken)} (--force promotes it anyway, and records why)"
        )
    if promotion.changed:
        version = str(promotion.chosen.number)

        def move() -> None:
            if promotion.broken:
                client.set_model_version_tag(
                    name, version, FORCED_TAG, f"{target}: {'; '.join(promotion.broken)}"
                )
            client.set_registered_model_alias(name, target, version)

        _registry_call(f"promote {name}", move)
    return promotion


def _version(client, name: str, alias: str) -> Version | None:
    """The version `alias` names (None: no such alias), its number checked."""
    from mlflow.exceptions import MlflowException

    try:
        found = client.get_model_version_by_alias(name, alias)
    except MlflowException as e:
        if e.error_code == "INVALID_PARAMETER_VALUE" and "alias" in str(e.message).lower():
            return None
        raise
    number = whole_number(str(found.version), f"the registry's version for {name}@{alias}")
    return Version(number, dict(found.tags or {}))


def _registry_call(what: str, action):
    """`action()` within the lookup deadline; the registry's refusals and failures as one line."""
    from mlflow.exceptions import MlflowException

    try:
        return within(LOOKUP_DEADLINE_S, what, "the registry's answer", action)
    except MlflowException as e:
        raise registry_failure(what, e) from None
