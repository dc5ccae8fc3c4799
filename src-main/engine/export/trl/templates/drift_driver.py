"""Runs the exported recipe: seed warm start, then per iteration generate -> build pairs -> DPO.

    python drift_driver.py --dry-run                  # validate the data, print every command
    python drift_driver.py                            # run (one node: accelerate on its GPUs)
    python drift_driver.py --launcher slurm           # inside slurm/drift.sbatch (multi-node training)

Resumable per iteration: an iteration whose outputs/iter-K/drift_done.json exists is skipped, and
inside an unfinished one a step whose output file exists (generations, pairs) is not redone.
Each step runs in its own process, so the GPU memory of generation is free before training.
torch, transformers, TRL and vLLM are only imported by the step scripts, never here.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import drift_data  # noqa: E402


def load_bundle(root):
    with open(os.path.join(root, "bundle.json"), encoding="utf-8") as handle:
        return json.load(handle)


def validate(root, bundle):
    """(counts, errors) of the bundle's data files against DRIFT's and TRL's schemas."""
    data = bundle["data"]
    method = bundle["run"]["method"]
    counts = {}
    errors = []
    checks = [
        ("dsat", data["dsat"], drift_data.dsat_row_errors, method in ("drift", "iterdpo")),
        ("seedTrain", data["seedTrain"], drift_data.preference_row_errors, False),
        ("seedTest", data["seedTest"], drift_data.preference_row_errors, False),
        ("sat", data["sat"], drift_data.sat_row_errors, method == "spin"),
    ]
    for name, relative, check, required in checks:
        rows, problems = drift_data.validate_file(os.path.join(root, relative), check, required=required)
        counts[name] = len(rows)
        errors.extend(problems)
    if method in ("drift", "iterdpo") and counts["dsat"] == 0:
        errors.append(f"{data['dsat']}: no DSAT records to sample from")
    if method == "spin" and counts["sat"] == 0:
        errors.append(f"{data['sat']}: no SAT records for SPIN")
    for step in bundle["plan"]:
        if step["kind"] == "train-fixed" and counts["seedTrain"] == 0:
            errors.append(f"iteration {step['iteration']} trains on seed pairs, but {data['seedTrain']} is empty")
    return counts, errors


def policy_reference(root, model):
    reference = model["reference"]
    if model["kind"] == "hub" or os.path.isabs(reference):
        return reference
    return os.path.join(root, reference)


def launch_command(args, step):
    """The accelerate launch of one DPO step (srun'd on every node under --launcher slurm)."""
    accelerate_config = os.path.join("configs", "accelerate", f"{args.accelerate_config}.yaml")
    train = ["drift_train.py", "--bundle", ".", "--config", step["config"]]
    if args.launcher == "slurm":
        inner = (
            f"accelerate launch --config_file {accelerate_config}"
            " --num_machines $SLURM_NNODES --machine_rank $SLURM_PROCID"
            " --main_process_ip $MASTER_ADDR --main_process_port $MASTER_PORT"
            " --num_processes $((SLURM_NNODES * GPUS_PER_NODE)) " + " ".join(shlex.quote(part) for part in train)
        )
        return ["srun", "--nodes=$SLURM_NNODES", "--ntasks-per-node=1", "bash", "-c", inner]
    command = ["accelerate", "launch", "--config_file", accelerate_config]
    if args.num_processes:
        command += ["--num_processes", str(args.num_processes)]
    return command + train


def steps_of(args, root, bundle):
    """Per planned iteration: its commands, each with the file whose existence means it is done."""
    python = args.python
    planned = []
    for step in bundle["plan"]:
        iteration = step["iteration"]
        work = os.path.join("work", f"iter-{iteration}")
        commands = []
        if step["kind"] == "generate":
            policy = policy_reference(root, step["policy"])
            generate = [python, "drift_generate.py", "--bundle", ".", "--iteration", str(iteration)]
            generate += ["--policy", policy, "--backend", args.generation_backend]
            if args.tensor_parallel > 1:
                generate += ["--tensor-parallel", str(args.tensor_parallel)]
            commands.append(("generate", generate, os.path.join(work, "generations.jsonl")))
            if step.get("score"):
                commands.append(("score", generate + ["--score"], os.path.join(work, "scored.jsonl")))
            pairs = [python, "drift_pairs.py", "--bundle", ".", "--iteration", str(iteration)]
            commands.append(("pairs", pairs, os.path.join(work, "train.jsonl")))
        commands.append(("train", launch_command(args, step), os.path.join(step["output"], "drift_done.json")))
        planned.append((step, commands))
    return planned


def render(command):
    # $VARIABLES stay unquoted: the slurm launch is meant to be expanded on each node.
    return " ".join(part if "$" in part and " " not in part else shlex.quote(part) for part in command)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", default=HERE, help="the bundle folder (default: this script's)")
    parser.add_argument("--dry-run", action="store_true", help="validate the data files and print every command")
    parser.add_argument("--launcher", choices=["local", "slurm"], default="local")
    parser.add_argument("--accelerate-config", choices=["zero3", "fsdp"], default=None)
    parser.add_argument("--num-processes", type=int, default=0, help="GPUs for training (default: the config's)")
    parser.add_argument("--generation-backend", choices=["auto", "vllm", "transformers"], default="auto")
    parser.add_argument("--tensor-parallel", type=int, default=1)
    parser.add_argument("--python", default=sys.executable or "python3")
    args = parser.parse_args(argv)

    root = os.path.abspath(args.bundle)
    bundle = load_bundle(root)
    if args.accelerate_config is None:
        args.accelerate_config = bundle.get("accelerate", "zero3")
    counts, errors = validate(root, bundle)
    print(f"bundle {root}: method {bundle['run']['method']}, {len(bundle['plan'])} iterations")
    print("data: " + ", ".join(f"{name} {count}" for name, count in counts.items()))
    if errors:
        for error in errors:
            print(f"error: {error}", file=sys.stderr)
        return 1

    for step, commands in steps_of(args, root, bundle):
        iteration = step["iteration"]
        done = os.path.exists(os.path.join(root, step["output"], "drift_done.json"))
        label = "seed warm start" if step["kind"] == "train-fixed" and iteration == 0 else step["kind"]
        print(f"== iteration {iteration} ({label}){' [done, skipped]' if done and not args.dry_run else ''}")
        if done and not args.dry_run:
            continue
        for name, command, marker in commands:
            if args.dry_run:
                print(f"[{name}] {render(command)}")
                continue
            if os.path.exists(os.path.join(root, marker)):
                print(f"[{name}] done ({marker}), skipped")
                continue
            if name == "generate":
                # New samples invalidate the scores and pairs made from older ones.
                for stale in ("scored.jsonl", "train.jsonl", "test.jsonl"):
                    path = os.path.join(root, "work", f"iter-{iteration}", stale)
                    if os.path.exists(path):
                        os.remove(path)
            print(f"[{name}] {render(command)}", flush=True)
            shell = args.launcher == "slurm" and name == "train"
            result = subprocess.run(render(command) if shell else command, cwd=root, shell=shell, check=False)
            if result.returncode != 0:
                print(f"error: iteration {iteration} step {name} exited with {result.returncode}", file=sys.stderr)
                return result.returncode
    if args.dry_run:
        print("dry run: nothing was run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
