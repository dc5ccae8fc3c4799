"""One DPO step of the recipe with TRL, launched by `accelerate launch` (DeepSpeed ZeRO-3 or FSDP).

    accelerate launch --config_file configs/accelerate/zero3.yaml drift_train.py --config configs/dpo/iter-K.yaml

The YAML has two sections: `drift` (where the policy and the pairs are) and `dpo` (keyword
arguments of trl.DPOConfig, written for TRL's current API: the NLL term of RPO is
loss_type ["sigmoid", "sft"] with loss_weights [1, alpha], which replaced the removed rpo_alpha).
The reference model is a frozen copy of the starting policy (pi_ref = pi_{k-1}, as DRIFT's configs).
Writes the model, its tokenizer and trainer_state.json (log_history) to the output folder, then
drift_done.json, which the driver reads to skip finished iterations.
"""

import argparse
import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drift_data  # noqa: E402


def resolve_model(root, model):
    """A hub id as it is; a folder relative to the bundle made absolute."""
    reference = model["reference"]
    if model["kind"] == "hub" or os.path.isabs(reference):
        return reference
    return os.path.join(root, reference)


def versions():
    found = {}
    for name in ("torch", "transformers", "trl", "accelerate", "datasets", "deepspeed"):
        try:
            module = __import__(name)
            found[name] = getattr(module, "__version__", "unknown")
        except ImportError:
            continue
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", default=os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--config", required=True)
    args = parser.parse_args(argv)

    import torch
    import yaml
    from datasets import load_dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    root = os.path.abspath(args.bundle)
    with open(os.path.join(root, args.config) if not os.path.isabs(args.config) else args.config) as handle:
        config = yaml.safe_load(handle)
    drift = config["drift"]
    dpo = dict(config["dpo"])
    output_dir = os.path.join(root, dpo["output_dir"])
    dpo["output_dir"] = output_dir
    policy = resolve_model(root, drift["model"])

    files = {"train": os.path.join(root, drift["train_file"])}
    eval_file = os.path.join(root, drift["eval_file"]) if drift.get("eval_file") else None
    if eval_file and os.path.exists(eval_file) and os.path.getsize(eval_file) > 0:
        files["test"] = eval_file
    data = load_dataset("json", data_files=files)
    data = data.select_columns(["prompt", "chosen", "rejected"])

    tokenizer = AutoTokenizer.from_pretrained(policy)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    # TRL removed max_prompt_length and recommends filtering overlong prompts before training.
    limit = drift.get("max_prompt_length")
    dropped = {}
    if limit:

        def fits(row):
            text = tokenizer.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
            return len(tokenizer(text, add_special_tokens=False)["input_ids"]) <= limit

        for split in list(data.keys()):
            before = len(data[split])
            data[split] = data[split].filter(fits)
            dropped[split] = before - len(data[split])
    if "test" not in data:
        dpo["eval_strategy"] = "no"

    # DPOConfig first: under ZeRO-3 it makes from_pretrained shard the weights as they load.
    training = DPOConfig(**dpo)
    model = AutoModelForCausalLM.from_pretrained(policy, dtype=torch.bfloat16)
    reference = AutoModelForCausalLM.from_pretrained(policy, dtype=torch.bfloat16)
    if training.gradient_checkpointing:
        model.config.use_cache = False
    trainer = DPOTrainer(
        model=model,
        ref_model=reference,
        args=training,
        train_dataset=data["train"],
        eval_dataset=data["test"] if "test" in data else None,
        processing_class=tokenizer,
    )
    trainer.train()
    if "test" in data:
        trainer.evaluate()
    trainer.save_model(output_dir)
    trainer.save_state()
    if trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(output_dir)
        drift_data.write_json_atomic(
            os.path.join(output_dir, "drift_done.json"),
            {
                "iteration": drift["iteration"],
                "policy": policy,
                "globalStep": trainer.state.global_step,
                "trainPairs": len(data["train"]),
                "testPairs": len(data["test"]) if "test" in data else 0,
                "droppedForPromptLength": dropped,
                "finishedAt": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                "versions": versions(),
            },
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
