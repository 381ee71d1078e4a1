// Dev-time driver for bench/phi_logits_vs_llamacpp.sh: runs llama.cpp (linked from a build
// outside this repo; not part of loom's CMake build) on a GGUF file for given token ids as
// one batch and writes the logits of every position as little-endian fp32 [T x n_vocab].
//
//   llamacpp_logits MODEL.gguf 1,2,3 OUT.f32 [THREADS]
//
// The KV cache is fp32 (see below). Prints n_vocab on stdout (llama.cpp's vocabulary may be shorter
// than loom's padded head).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "llama.h"

namespace {

void Quiet(enum ggml_log_level level, const char* text, void*) {
  if (level >= GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s MODEL.gguf ID,ID,... OUT.f32 [THREADS]\n", argv[0]);
    return 2;
  }
  std::vector<llama_token> ids;
  for (const char* p = argv[2]; *p;) {
    char* end = nullptr;
    ids.push_back(static_cast<llama_token>(std::strtol(p, &end, 10)));
    if (end == p) {
      std::fprintf(stderr, "bad token list '%s'\n", argv[2]);
      return 2;
    }
    p = *end == ',' ? end + 1 : end;
  }
  const int threads = argc > 4 ? std::atoi(argv[4]) : 2;
  llama_log_set(Quiet, nullptr);
  llama_backend_init();
  llama_model* model = llama_model_load_from_file(argv[1], llama_model_default_params());
  if (!model) {
    std::fprintf(stderr, "cannot load %s\n", argv[1]);
    return 1;
  }
  llama_context_params cp = llama_context_default_params();
  const int n = static_cast<int>(ids.size());
  cp.n_ctx = static_cast<uint32_t>(n < 256 ? 256 : n);
  cp.n_batch = cp.n_ubatch = static_cast<uint32_t>(n);
  cp.n_threads = cp.n_threads_batch = threads;
  // An fp32 KV cache (llama.cpp's default is F16, loom keeps fp32): the comparison is then
  // about the matmuls and the attention arithmetic, not the cache's rounding.
  cp.type_k = cp.type_v = GGML_TYPE_F32;
  llama_context* ctx = llama_init_from_model(model, cp);
  if (!ctx) {
    std::fprintf(stderr, "cannot create a context\n");
    return 1;
  }
  llama_batch batch = llama_batch_init(n, 0, 1);
  for (int i = 0; i < n; ++i) {
    batch.token[i] = ids[i];
    batch.pos[i] = i;
    batch.n_seq_id[i] = 1;
    batch.seq_id[i][0] = 0;
    batch.logits[i] = 1;
  }
  batch.n_tokens = n;
  if (llama_decode(ctx, batch) != 0) {
    std::fprintf(stderr, "llama_decode failed\n");
    return 1;
  }
  const int vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
  FILE* f = std::fopen(argv[3], "wb");
  if (!f) return 1;
  for (int i = 0; i < n; ++i) std::fwrite(llama_get_logits_ith(ctx, i), sizeof(float), vocab, f);
  std::fclose(f);
  std::printf("%d\n", vocab);
  llama_batch_free(batch);
  llama_free(ctx);
  llama_model_free(model);
  llama_backend_free();
  return 0;
}
