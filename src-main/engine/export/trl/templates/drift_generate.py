"""On-policy samples of one iteration: y+ for DRIFT, y- for SPIN, candidates for IterDPO.

    python drift_generate.py --bundle . --iteration K --policy PATH            # writes work/iter-K/generations.jsonl
    python drift_generate.py --bundle . --iteration K --policy PATH --score    # writes work/iter-K/scored.jsonl

Prompts and post-processing are gen-drift.py's (drift-paper.md section 1.3): the conversation is
flattened as User:/Assistant: text without a chat template, the input is truncated to 2048 tokens,
and the response is the text after the last "Assistant: " of the decoded prompt + completion.
vLLM is used when it is installed (and --backend is not "transformers"), else transformers'
generate with left padding. Heavy libraries are imported inside the functions that need them.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drift_data  # noqa: E402

# gen-drift.py truncates each input at 2048 tokens (tokenizer default: the right side).
MAX_INPUT_TOKENS = 2048


def requests_for(bundle, method, generation, candidates):
    """(source_index, role, prompt) per sample to draw, in data-file order."""
    data = bundle["data"]
    requests = []
    if method == "spin":
        for index, record in enumerate(drift_data.read_jsonl(os.path.join(bundle["root"], data["sat"]))):
            for _ in range(generation["samples"]):
                requests.append((index, "rejected", drift_data.plain_prompt(record["prompt"])))
        return requests
    dsat = drift_data.read_jsonl(os.path.join(bundle["root"], data["dsat"]))
    for index, record in enumerate(dsat):
        guided = drift_data.guided_prompt(record)
        plain = drift_data.plain_prompt(record["prompt"])
        if method == "drift":
            prompt = guided if generation["guided"] else plain
            for _ in range(generation["samples"]):
                requests.append((index, "chosen", prompt))
        else:
            # IterDPO: with guidance, the first half of the candidates come from the guided prompt and
            # the rest from the plain context (drift-paper.md section 2, [I]); without, all are plain.
            guided_count = (candidates + 1) // 2 if generation["guided"] else 0
            for number in range(candidates):
                requests.append((index, "candidate", guided if number < guided_count else plain))
    return requests


def has_vllm():
    try:
        import vllm  # noqa: F401
    except ImportError:
        return False
    return True


def generate_vllm(policy, prompts, generation, seed, tensor_parallel):
    from transformers import AutoTokenizer
    from vllm import LLM, SamplingParams

    tokenizer = AutoTokenizer.from_pretrained(policy)
    encoded = [tokenizer(prompt, truncation=True, max_length=MAX_INPUT_TOKENS)["input_ids"] for prompt in prompts]
    llm = LLM(model=policy, dtype="bfloat16", seed=seed, tensor_parallel_size=tensor_parallel)
    params = SamplingParams(
        n=1,
        temperature=generation["temperature"],
        top_p=generation["topP"],
        top_k=generation["topK"] if generation["topK"] > 0 else -1,
        max_tokens=generation["maxNewTokens"],
        seed=seed,
    )
    outputs = llm.generate([{"prompt_token_ids": ids} for ids in encoded], params)
    results = []
    for ids, output in zip(encoded, outputs):
        sample = output.outputs[0]
        decoded = tokenizer.decode(ids, skip_special_tokens=True) + sample.text
        finish = "length" if sample.finish_reason == "length" else "eos"
        results.append((drift_data.extract_response(decoded), finish))
    return results


def generate_transformers(policy, prompts, generation, seed):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(policy, padding_side="left")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(policy, dtype=torch.bfloat16, device_map="auto")
    model.eval()
    results = []
    batch_size = generation["batchSize"]
    for start in range(0, len(prompts), batch_size):
        batch = prompts[start : start + batch_size]
        inputs = tokenizer(batch, return_tensors="pt", padding=True, truncation=True, max_length=MAX_INPUT_TOKENS)
        inputs = inputs.to(model.device)
        sampling = generation["temperature"] > 0
        with torch.no_grad():
            output = model.generate(
                **inputs,
                do_sample=sampling,
                temperature=generation["temperature"] if sampling else None,
                top_p=generation["topP"] if sampling else None,
                top_k=generation["topK"] if generation["topK"] > 0 else None,
                max_new_tokens=generation["maxNewTokens"],
                pad_token_id=tokenizer.pad_token_id,
            )
        prompt_length = inputs["input_ids"].shape[1]
        for row in output:
            new_tokens = row[prompt_length:].tolist()
            decoded = tokenizer.decode(row, skip_special_tokens=True)
            finish = "eos" if tokenizer.eos_token_id in new_tokens else "length"
            results.append((drift_data.extract_response(decoded), finish))
        print(f"generated {min(start + batch_size, len(prompts))}/{len(prompts)}", flush=True)
    return results


def score_rows(policy, rows, contexts, judge, judge_model):
    """Each row's judge score: the policy's mean token log-likelihood of the response after the
    chat-templated context ("likelihood"), or a sequence-classification reward model's logit."""
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

    if judge == "reward-model":
        tokenizer = AutoTokenizer.from_pretrained(judge_model)
        model = AutoModelForSequenceClassification.from_pretrained(
            judge_model, dtype=torch.bfloat16, device_map="auto"
        )
    else:
        tokenizer = AutoTokenizer.from_pretrained(policy)
        model = AutoModelForCausalLM.from_pretrained(policy, dtype=torch.bfloat16, device_map="auto")
    model.eval()

    def token_ids(messages, generation_prompt=False):
        # Rendered to text first: apply_chat_template's tokenized return type differs across versions.
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    for number, row in enumerate(rows):
        context = contexts[row["source_index"]]
        conversation = context + [{"role": "assistant", "content": row["completion"]}]
        with torch.no_grad():
            if judge == "reward-model":
                ids = torch.tensor([token_ids(conversation)], device=model.device)
                row["score"] = float(model(ids).logits[0, 0])
            else:
                prompt_length = len(token_ids(context, generation_prompt=True))
                ids = torch.tensor([token_ids(conversation)], device=model.device)
                logits = model(ids).logits[0, :-1].float()
                targets = ids[0, 1:]
                # logps[t] is the log-probability of token t + 1; the response starts at prompt_length.
                logps = torch.log_softmax(logits, dim=-1).gather(1, targets[:, None])[:, 0]
                response = logps[prompt_length - 1 :]
                row["score"] = float(response.mean()) if response.numel() > 0 else None
        if (number + 1) % 100 == 0:
            print(f"scored {number + 1}/{len(rows)}", flush=True)
    return rows


def load_bundle(root):
    with open(os.path.join(root, "bundle.json"), encoding="utf-8") as handle:
        bundle = json.load(handle)
    bundle["root"] = root
    return bundle


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", default=os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--iteration", type=int, required=True)
    parser.add_argument("--policy", required=True, help="the policy of iteration K-1 (folder or hub id)")
    parser.add_argument("--backend", choices=["auto", "vllm", "transformers"], default="auto")
    parser.add_argument("--tensor-parallel", type=int, default=1, help="vLLM tensor parallel size")
    parser.add_argument("--score", action="store_true", help="score the generations with the run's judge")
    args = parser.parse_args(argv)

    bundle = load_bundle(os.path.abspath(args.bundle))
    run = bundle["run"]
    work = os.path.join(bundle["root"], "work", f"iter-{args.iteration}")
    generations_file = os.path.join(work, "generations.jsonl")

    if args.score:
        rows = drift_data.read_jsonl(generations_file)
        source = bundle["data"]["sat" if run["method"] == "spin" else "dsat"]
        contexts = [record["prompt"] for record in drift_data.read_jsonl(os.path.join(bundle["root"], source))]
        judge = run["judge"]
        judge_model = None
        if judge["kind"] == "reward-model":
            judge_model = bundle["judgeModel"]["reference"]
            if bundle["judgeModel"]["kind"] != "hub":
                judge_model = os.path.join(bundle["root"], judge_model)
        scored = score_rows(args.policy, rows, contexts, judge["kind"], judge_model)
        drift_data.write_jsonl_atomic(os.path.join(work, "scored.jsonl"), scored)
        print(f"scored {len(scored)} samples -> {os.path.join(work, 'scored.jsonl')}")
        return 0

    generation = run["generation"]
    requests = requests_for(bundle, run["method"], generation, run["candidates"])
    prompts = [prompt for _, _, prompt in requests]
    seed = run["seed"] + args.iteration
    backend = args.backend
    if backend == "auto":
        backend = "vllm" if has_vllm() else "transformers"
    print(f"iteration {args.iteration}: {len(prompts)} samples from {args.policy} with {backend}", flush=True)
    if backend == "vllm":
        results = generate_vllm(args.policy, prompts, generation, seed, args.tensor_parallel)
    else:
        results = generate_transformers(args.policy, prompts, generation, seed)
    ids = bundle["ids"]["sat" if run["method"] == "spin" else "dsat"]
    rows = []
    for (index, role, prompt), (completion, finish) in zip(requests, results):
        rows.append(
            {
                "source_index": index,
                "source_id": ids[index] if index < len(ids) else str(index),
                "role": role,
                "prompt": prompt,
                "completion": completion,
                "finish_reason": finish,
                "score": None,
            }
        )
    drift_data.write_jsonl_atomic(generations_file, rows)
    print(f"wrote {len(rows)} samples -> {generations_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
