"""Look up a Koji task and print its method, state, arch and timing.

python examples/task.py --server http://127.0.0.1:8080/kojihub 12345
"""

from example_args import parse, run


def arguments(parser):
    parser.add_argument("task_id", type=int, help="task id")


async def main(koji, args):
    task = await koji.getTaskInfo(args.task_id)
    if task is None:
        raise SystemExit(f"no task {args.task_id}")
    print(f"task {task.id}: {task.method} ({task.arch}) is {task.state_name}")
    if task.duration is not None:
        print(f"  ran for {task.duration}")
    if task.url:
        print(f"  {task.url}")


if __name__ == "__main__":
    run(main, parse(__doc__.splitlines()[0], arguments))
