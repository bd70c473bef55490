"""How Argo retries a task the backend compiled with a retry policy, told attempt by attempt.

- argocompiler/container.go turns a task's `retryPolicy` into the `retryStrategy` of the
  `retry-system-container-impl` template from 2.5.0 (2.5.0:532-542; 2.17.0:583, 640-646): its
  `limit` is `maxRetryCount`, its `backoff` the duration, factor and `backoffMaxDuration` in
  seconds. It sets no `retryPolicy`. 2.2.0-2.4.1 parse the field and ignore it. The SDK writes
  `backoffMaxDuration: 3600s` when none is given (sdk/python/kfp/dsl/structures.py:381,
  sdk-2.17.0-1).
- Argo (workflow/controller/operator.go `processNodeRetries`, v3.6.7:957-1080 for KFP 2.14-2.16,
  v4.0.5:1000-1130 for 2.17) counts `maxDuration` from the first attempt's start: once past it,
  no attempt starts ("Max duration limit exceeded", v3.6.7:1007); nor does one whose backoff would
  end past it (v3.6.7:1036); and a retried pod is given that deadline to finish
  (`opts.executionDeadline = maxDurationDeadline`, v3.6.7:1048).
- With no `retryPolicy`, Argo's is OnFailure (pkg/apis/workflow/v1alpha1/workflow_types.go,
  v3.6.7:2077, v4.0.5:2300): a Failed attempt is retried, one in Error is not (v3.6.7:1067-1078).
  A pod deleted under a running task, as a node drain or a vanished node does, ends the node in
  Error ("pod deleted", v3.6.7:1242). The workflow's `templateDefaults` (set by the operator in
  the workflow controller's `workflowDefaults`) are merged under each template
  (`mergedTemplateDefaultsInto`, v3.6.7:4105), so a `retryPolicy` there reaches KFP's template.
"""

from dataclasses import dataclass, field

from .spec import accept, at_least, find_task

FAILED, ERROR = "Failed", "Error"  # a pod that exited non-zero; a pod deleted under the task


def retries(documents: list[dict], task: str, backend: str) -> int:
    """How often `backend` runs task `task` again after its pod fails."""
    accept(documents, backend)
    policy = find_task(documents[0], task)[1].get("retryPolicy", {})
    return int(policy.get("maxRetryCount", 0)) if at_least(backend, "2.5.0") else 0


def _seconds(duration: str) -> float:
    return float(duration.removesuffix("s"))


@dataclass
class Attempts:
    """Attempt by attempt: when each started and how long it was allowed to run (seconds from
    the first attempt's start), and why no further attempt started."""

    starts: list[float] = field(default_factory=list)
    allowed: list[float] = field(default_factory=list)
    stopped: str = ""

    def cut_short(self, attempt_s: float) -> list[int]:
        """The attempts (1-based) killed at the retry window's end before `attempt_s` passed."""
        return [i + 1 for i, allowed in enumerate(self.allowed) if allowed < attempt_s]


def attempts_when_lost(
    documents: list[dict],
    task: str,
    backend: str,
    attempt_s: float,
    phase: str = FAILED,
    operator_retry_policy: str = "",
) -> Attempts:
    """The attempts Argo runs of `task` when each is lost just before its end, `attempt_s` after
    it starts, ending in `phase`; `operator_retry_policy` is the workflow controller's
    `templateDefaults.retryStrategy.retryPolicy` (empty: none, as a stock install)."""
    result = Attempts(starts=[0.0], allowed=[float("inf")])
    policy = (
        find_task(documents[0], task)[1].get("retryPolicy")
        if retries(documents, task, backend)
        else None
    )
    if policy is None:
        result.stopped = "no retry policy"
        return result
    limit = int(policy["maxRetryCount"])
    backoff, factor = _seconds(policy["backoffDuration"]), float(policy["backoffFactor"])
    window = _seconds(policy.get("backoffMaxDuration", "3600s"))
    retried = {
        "": {FAILED},  # OnFailure
        "OnFailure": {FAILED},
        "OnError": {ERROR},
        "Always": {FAILED, ERROR},
    }[operator_retry_policy]
    while True:
        finished = result.starts[-1] + min(attempt_s, result.allowed[-1])
        if finished > window:
            result.stopped = "Max duration limit exceeded"
            return result
        wait = backoff * factor ** (len(result.starts) - 1)
        if finished + wait > window:
            result.stopped = "Backoff would exceed max duration limit"
            return result
        if phase not in retried:
            result.stopped = f"Node not set to be retried after status: {phase}"
            return result
        if len(result.starts) > limit:
            result.stopped = "retry limit reached"
            return result
        start = finished + wait
        result.starts.append(start)
        result.allowed.append(window - start)  # executionDeadline: the window's end
