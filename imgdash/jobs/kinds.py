"""Which task runs each kind of job. The apps that define the work register their task here
(in their AppConfig.ready), so the jobs app can resume a job without importing them."""

_TASKS = {}


def register(kind, task):
    _TASKS[kind] = task


def task_for(kind):
    try:
        return _TASKS[kind]
    except KeyError:
        raise LookupError(f"No task is registered for jobs of kind {kind!r}") from None
