"""The sweep's loop: a ParallelFor over a task's output list, fanned in with dsl.Collected.

- argocompiler/dag.go (`iteratorTask`) sets the loop template's Argo `parallelism` from the task's
  `iteratorPolicy.parallelismLimit` from 2.4.1; 2.2.0 and 2.3.0 have no such code (their loops run
  every iteration at once).
- driver/resolve.go (`CollectInputs`) resolves an input collected from a loop's iterations from
  2.14.0; earlier drivers skip ParallelFor DAGs when they look for a producer
  (driver.go: "ParallelFor outputs should be handled with dsl.Collected") and fail the task.
- A loop over a task's output list (the sweep's plan, a halving sweep's keep steps): the loop's
  driver reads the items from its resolved input parameter (driver/dag.go 2.17.0:173-196, which
  iterates a list or a string holding one, util.go `getItems` :118-131), and Argo starts that
  driver after the task's `dependentTasks` alone (argocompiler/dag.go `iteratorTask`, 2.17.0:396):
  a producer missing from them would leave the driver without its items.
- CollectInputs reads every iteration's output: a failed iteration leaves nothing to collect, and
  argocompiler/dag.go turns a task that ignores upstream failures (trigger strategy
  ALL_UPSTREAM_TASKS_COMPLETED) into an exit hook outside the DAG, which no later task can depend
  on. So no task can go on past a failed trial: a trial reports its failure as its result.
"""

from .spec import accept, at_least, dags


def loop_parallelism(documents: list[dict], loop_task: str, backend: str) -> int | None:
    """How many iterations of root task `loop_task` (a ParallelFor) `backend` runs at once (None:
    all)."""
    accept(documents, backend)
    policy = documents[0]["root"]["dag"]["tasks"][loop_task].get("iteratorPolicy", {})
    limit = int(policy.get("parallelismLimit", 0))
    return limit if limit > 0 and at_least(backend, "2.4.1") else None


def collects_loop_outputs(backend: str) -> bool:
    """Whether `backend`'s driver resolves a dsl.Collected input (a list from a loop)."""
    return at_least(backend, "2.14.0")


def collecting_tasks(documents: list[dict]) -> list[str]:
    """The tasks with an input taken from a loop's outputs (dsl.Collected)."""
    spec, found = documents[0], []
    for dag, component in dags(spec).items():
        tasks = component["dag"]["tasks"]
        for name, task in tasks.items():
            inputs = task.get("inputs", {})
            bindings = [
                *inputs.get("parameters", {}).values(),
                *inputs.get("artifacts", {}).values(),
            ]
            for binding in bindings:
                output = binding.get("taskOutputArtifact") or binding.get("taskOutputParameter")
                producer = tasks[output["producerTask"]] if output else {}
                if "parameterIterator" in producer or "artifactIterator" in producer:
                    found.append(f"{dag}/{name}")
    return found


def loop_sources(documents: list[dict]) -> dict[str, str]:
    """{loop task: the task whose output it iterates} for each ParallelFor over a task's output,
    as "DAG/task" for both."""
    found = {}
    for dag, component in dags(documents[0]).items():
        for name, task in component["dag"]["tasks"].items():
            items = task.get("parameterIterator", {}).get("items", {}).get("inputParameter")
            binding = task.get("inputs", {}).get("parameters", {}).get(items or "", {})
            if "taskOutputParameter" in binding:
                found[f"{dag}/{name}"] = f"{dag}/{binding['taskOutputParameter']['producerTask']}"
    return found


def loop_source_problems(documents: list[dict]) -> list[str]:
    """Each loop over a task's output that Argo may start before that output exists."""
    found = []
    for loop, source in loop_sources(documents).items():
        dag, name = loop.rsplit("/", 1)
        task = dags(documents[0])[dag]["dag"]["tasks"][name]
        if source.rsplit("/", 1)[1] not in task.get("dependentTasks", []):
            found.append(f"{loop}: its items come from {source}, which it does not wait for")
    return found
