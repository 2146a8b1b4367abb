"""Speed of one llama-cpp-python build on the embedded model: prompt reading and generation.

Run it with the Python of each build to compare them (e.g. the portable build in .venv and a
native one, `CMAKE_ARGS="-DGGML_NATIVE=ON"`, in another environment):

    .venv/bin/python bench/llama_build_speed.py [--prompt-tokens 2000] [--new-tokens 128] [--repeats 3]
    /tmp/native/bin/python bench/llama_build_speed.py --model "$(.venv/bin/python -c 'from openxiv.llm.local import default_model_path as p; print(p())')"

Prints JSON: tokens per second for reading and for writing (best of the repeats), and the build's
system info. Loads no OpenXiv code when --model is given, so any environment with llama-cpp-python
can run it.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="")
    parser.add_argument("--prompt-tokens", type=int, default=2000)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    import llama_cpp

    path = args.model
    if not path:
        from openxiv.llm.local import default_model_path

        path = str(default_model_path())
    model = llama_cpp.Llama(
        model_path=path, n_ctx=args.prompt_tokens + args.new_tokens + 64, n_threads=args.threads,
        n_threads_batch=args.threads, flash_attn=True, seed=0, verbose=False,
    )  # fmt: skip
    words = "The learning rate warm-up interacts with the batch size in small transformers. " * 400
    prompt = model.tokenize(words.encode())[: args.prompt_tokens]
    read, write = [], []
    for _ in range(args.repeats):
        model.reset()
        started = time.perf_counter()
        model.eval(prompt)
        read.append(len(prompt) / (time.perf_counter() - started))
        started = time.perf_counter()
        for _ in range(args.new_tokens):
            token = model.sample(temp=0.0)
            model.eval([token])
        write.append(args.new_tokens / (time.perf_counter() - started))
    info = llama_cpp.llama_print_system_info()
    print(
        json.dumps(
            {
                "read_tokens_per_s": round(max(read), 1),
                "write_tokens_per_s": round(max(write), 1),
                "prompt_tokens": len(prompt),
                "new_tokens": args.new_tokens,
                "threads": args.threads,
                "llama_cpp_python": llama_cpp.__version__,
                "system_info": info.decode() if isinstance(info, bytes) else str(info),
            },
            indent=2,
        )
    )
    model.close()


if __name__ == "__main__":
    main()
