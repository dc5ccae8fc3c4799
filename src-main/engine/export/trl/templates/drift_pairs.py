"""The preference pairs of one iteration, in TRL's conversational format, split train / test.

    python drift_pairs.py --bundle . --iteration K

Reads work/iter-K/generations.jsonl (scored.jsonl when the run's judge scored them) and writes
work/iter-K/train.jsonl and work/iter-K/test.jsonl: rows {id, source_id, prompt, chosen, rejected}.
The first pairs (not shuffled) are held out, as gen-drift.py's --test_size does.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drift_data  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", default=os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--iteration", type=int, required=True)
    args = parser.parse_args(argv)

    root = os.path.abspath(args.bundle)
    with open(os.path.join(root, "bundle.json"), encoding="utf-8") as handle:
        bundle = json.load(handle)
    run = bundle["run"]
    work = os.path.join(root, "work", f"iter-{args.iteration}")
    scored = os.path.join(work, "scored.jsonl")
    generations = drift_data.read_jsonl(
        scored if os.path.exists(scored) else os.path.join(work, "generations.jsonl")
    )
    dsat = drift_data.read_jsonl(os.path.join(root, bundle["data"]["dsat"]))
    sat_file = os.path.join(root, bundle["data"]["sat"])
    sat = drift_data.read_jsonl(sat_file) if os.path.exists(sat_file) else []
    pairs = drift_data.build_pairs(
        run["method"], args.iteration, generations, dsat, sat, bundle["ids"], run["generation"]["selection"]
    )
    for pair in pairs:
        problems = drift_data.preference_row_errors(pair)
        if problems:
            raise SystemExit(f"pair {pair['id']}: {'; '.join(problems)}")
    held_out = drift_data.test_count(len(pairs), run["testSize"], run["testFraction"])
    drift_data.write_jsonl_atomic(os.path.join(work, "test.jsonl"), pairs[:held_out])
    drift_data.write_jsonl_atomic(os.path.join(work, "train.jsonl"), pairs[held_out:])
    print(f"iteration {args.iteration}: {len(pairs)} pairs ({len(pairs) - held_out} train, {held_out} test)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
